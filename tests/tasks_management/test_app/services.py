"""A service using the maker-checker mixins, as other modules' services do (imported by tests only)."""
from django.core.exceptions import ValidationError

from core.services import BaseService
from core.signals import register_service_signal
from core.validation import BaseModelValidation
from tasks_management.services import CheckerLogicServiceMixin, crud_business_data_builder
from tests.tasks_management.test_app.models import TmWidget


class WidgetValidation(BaseModelValidation):
    OBJECT_TYPE = TmWidget

    @classmethod
    def validate_create(cls, user, **data):
        if not (data.get("name") or "").strip():
            raise ValidationError("name can't be empty")

    @classmethod
    def validate_update(cls, user, **data):
        if "name" in data and not (data.get("name") or "").strip():
            raise ValidationError("name can't be empty")
        if not TmWidget.objects.filter(id=data.get("id"), is_deleted=False).exists():
            raise ValidationError("widget does not exist")

    @classmethod
    def validate_delete(cls, user, **data):
        if not TmWidget.objects.filter(id=data.get("id"), is_deleted=False).exists():
            raise ValidationError("widget does not exist")


class WidgetService(CheckerLogicServiceMixin, BaseService):
    CHECKER_SOURCE = "WidgetService"
    OBJECT_TYPE = TmWidget

    def __init__(self, user, validation_class=WidgetValidation):
        super().__init__(user, validation_class)

    @register_service_signal("tm_widget_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("tm_widget_service.update")
    def update(self, obj_data):
        return super().update(obj_data)

    @register_service_signal("tm_widget_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)

    def _business_data_serializer(self, data):
        return crud_business_data_builder(data, lambda key, value: value.upper() if key == "name" else value)
