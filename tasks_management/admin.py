from django.contrib import admin

from core.admin import HistoryModelAdmin
from tasks_management.models import Task, TaskExecutor, TaskGroup


class TaskExecutorInline(admin.TabularInline):
    model = TaskExecutor
    fk_name = "task_group"
    extra = 0
    fields = ("user", "is_deleted", "date_created", "user_created")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # executors are managed through the group service (updateTaskGroup userIds)


@admin.register(TaskGroup)
class TaskGroupAdmin(HistoryModelAdmin):
    list_display = ("code", "completion_policy", "completion_threshold", "is_deleted", "date_created")
    search_fields = ("code",)
    list_filter = ("completion_policy", "is_deleted")
    inlines = [TaskExecutorInline]


@admin.register(TaskExecutor)
class TaskExecutorAdmin(HistoryModelAdmin):
    list_display = ("user", "task_group", "is_deleted", "date_created")
    list_filter = ("is_deleted",)
    search_fields = ("user__username", "task_group__code")
    list_select_related = ("user", "task_group")


@admin.register(Task)
class TaskAdmin(HistoryModelAdmin):
    """Read-mostly: votes, status and payload change only through the services (maker-checker)."""

    list_display = ("id", "source", "business_event", "status", "task_group", "is_deleted", "date_created")
    list_filter = ("status", "is_deleted", "source")
    search_fields = ("id", "source", "business_event", "entity_id")
    list_select_related = ("task_group",)
    readonly_fields = HistoryModelAdmin.readonly_fields + (
        "status", "business_status", "data", "entity_type", "entity_id", "business_event",
        "executor_action_event", "business_data_serializer", "emission_key", "task_group", "source",
    )
