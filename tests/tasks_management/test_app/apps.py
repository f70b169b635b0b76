from django.apps import AppConfig


class TmTestAppConfig(AppConfig):
    """Test-only app: a tiny model to run maker-checker end to end (installed by openimis_be.test_settings)."""

    name = "tests.tasks_management.test_app"
    label = "tm_test_app"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tasks_management.services import register_business_data_serializer
        from tests.tasks_management.test_app.services import WidgetBusinessData, WidgetService

        register_business_data_serializer(WidgetService.BUSINESS_DATA_SERIALIZER, WidgetBusinessData)
