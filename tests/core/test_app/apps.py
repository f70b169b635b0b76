from core.module_config import ModuleAppConfig


class CoreTestAppConfig(ModuleAppConfig):
    """Test-only module: a HistoryModel with a schema, to exercise core generically (history, stitching)."""

    name = "tests.core.test_app"
    label = "core_test_app"
    DEFAULT_CONFIG = {"gql_widget_search_perms": ["990001"], "gql_widget_create_perms": ["990002"]}
