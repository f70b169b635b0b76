from core.module_config import ModuleAppConfig

MODULE_NAME = "core"

DEFAULT_CFG = {
    "username_code_length": "12",
    "csrf_protect_login": True,
    "locked_user_password_hash": "locked",
    "password_reset_token_hours": 24,
    "gql_query_users_perms": ["121701"],
    "gql_mutation_create_users_perms": ["121702"],
    "gql_mutation_update_users_perms": ["121703"],
    "gql_mutation_delete_users_perms": ["121704"],
    "gql_query_roles_perms": ["122001"],
    "gql_mutation_create_roles_perms": ["122002"],
    "gql_mutation_update_roles_perms": ["122003"],
    "gql_mutation_delete_roles_perms": ["122004"],
    "gql_mutation_duplicate_roles_perms": ["122005"],
    "gql_mutation_replace_roles_perms": ["122006"],
    "gql_query_unmasked_data_perms": ["900101"],
    "gql_query_locations_perms": [],
    "gql_query_calculation_rule_perms": ["153001"],
    "export_max_rows": 1_000_000,
}


class CoreConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Core"
    DEFAULT_CFG = DEFAULT_CFG
    SCHEDULED_JOBS = [
        {"name": "core_cleanup_exports", "task": "core.tasks.cleanup_expired_exports", "cron": {"hour": 3, "minute": 15}},
    ]

    def ready(self):
        super().ready()
        from django.conf import settings

        # async_mutations follows the ASYNC_MUTATIONS environment setting unless a DB row overrides it
        if "async_mutations" not in self.config:
            type(self).async_mutations = settings.ASYNC_MUTATIONS
        from core import checks  # noqa: F401  (registers system checks)
        from core.request_memo import connect_celery_task_scopes

        connect_celery_task_scopes()
        from django.db.models.signals import post_save

        from core.models import ModuleConfiguration

        post_save.connect(_schema_may_have_changed, sender=ModuleConfiguration, dispatch_uid="core-json-indexes")


def _schema_may_have_changed(sender, instance, **kwargs):
    """A module's configuration holds JSON Schemas (the individual schema): the searchable keys' indexes follow."""
    from core.scheduling import enqueue_on_commit
    from core.tasks import sync_json_indexes

    enqueue_on_commit(sync_json_indexes)
