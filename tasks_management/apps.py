from core.module_config import CRUD, ModuleAppConfig, gql_rights

MODULE_NAME = "tasks_management"

DEFAULT_CONFIG = {
    **gql_rights("task_group", 190001),  # gql_task_group_search/create/update/delete_perms
    **gql_rights("task", 191001, (*CRUD, "search_all")),  # gql_task_search_perms … gql_task_search_all_perms
    "default_executor_event": "default",
    "task_user_approved": "APPROVED",
    "task_user_failed": "FAILED",
    # Our rule: the user whose request created a task (the maker) may not vote on it.
    "maker_cannot_approve": True,
    # rule-generated tasks (task_rules.md §16)
    "gql_task_rules_refresh_perms": ["191006"],
    "task_rules_enabled": True,
    "task_rules_modules": [],
    "task_rules_contact_types": {"individual": "individual.Individual", "group": "individual.Group"},
    "task_rules_past_window_days": 60,
    "task_rules_future_window_days": 180,
    "task_rules_purge_after_days": 60,
    "task_rules_expire_after_days": 7,
    "task_rules_month_start_day": 1,
    "task_rules_debounce_seconds": 2,
    "task_rules_batch_size": 500,
    # the user recorded on rule-task rows (empty: the first active superuser / administrator)
    "task_rules_run_as_username": "",
}


class TasksManagementConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Tasks management"
    DEFAULT_CONFIG = DEFAULT_CONFIG
    # task_rules.md §14 (beat; editable in the admin through django-celery-beat)
    SCHEDULED_JOBS = [
        {"name": "task_rules_refresh_dirty", "task": "tasks_management.tasks.refresh_dirty_rule_tasks",
         "cron": {"minute": "*/15"}},
        {"name": "task_rules_update_states_daily", "task": "tasks_management.tasks.update_rule_task_states",
         "cron": {"hour": 0, "minute": 5}},
        {"name": "task_rules_update_states_hourly", "task": "tasks_management.tasks.update_rule_task_states",
         "cron": {"minute": 35}},
        {"name": "task_rules_purge", "task": "tasks_management.tasks.purge_rule_tasks",
         "cron": {"hour": 1, "minute": 15}},
    ]

    def ready(self):
        super().ready()
        from tasks_management.rules import registry, triggers

        registry.autodiscover()
        triggers.connect()
