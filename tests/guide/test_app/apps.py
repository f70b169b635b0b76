from core.module_config import ModuleAppConfig, gql_rights


class GuideConfig(ModuleAppConfig):
    """A module written from docs/DEVELOPING.md alone: household visits (test-only, stitched into the suite's
    schema so the denial and node(id:) sweeps cover it like any real module)."""

    name = "tests.guide.test_app"
    label = "guide"
    DEFAULT_CONFIG = {
        **gql_rights("visit", 995001),  # gql_visit_search/create/update/delete_perms
        "visit_masking_enabled": True,
        "visit_mask_fields": ["json_ext.phone"],
    }
    SCHEDULED_JOBS = [{"name": "guide_close_stale_visits", "task": "guide.tasks.close_stale_visits",
                       "cron": {"hour": 1, "minute": 30}}]

    def ready(self):
        super().ready()
        from core.masking import register_masking

        register_masking("visit", enabled="guide.visit_masking_enabled", fields="guide.visit_mask_fields")
