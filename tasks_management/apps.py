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
}


class TasksManagementConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Tasks management"
    DEFAULT_CONFIG = DEFAULT_CONFIG
