from core.module_config import ModuleAppConfig

MODULE_NAME = "tasks_management"

DEFAULT_CONFIG = {
    "gql_task_group_search_perms": ["190001"],
    "gql_task_group_create_perms": ["190002"],
    "gql_task_group_update_perms": ["190003"],
    "gql_task_group_delete_perms": ["190004"],
    "gql_task_search_perms": ["191001"],
    "gql_task_create_perms": ["191002"],
    "gql_task_update_perms": ["191003"],
    "gql_task_delete_perms": ["191004"],
    "gql_task_search_all_perms": ["191005"],
    "default_executor_event": "default",
    "task_user_approved": "APPROVED",
    "task_user_failed": "FAILED",
    # Our rule: the user whose request created a task (the maker) may not vote on it.
    "maker_cannot_approve": True,
}


class TasksManagementConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Tasks management"
    DEFAULT_CONFIG = DEFAULT_CONFIG
