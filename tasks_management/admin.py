"""Task records in Django admin: read-only with their history (groups, executors and tasks change only through
their services: executors, completion policies, votes and the maker-checker outcome)."""
from django.contrib import admin

from core.admin import ServiceOnlyInline, ServiceOnlyModelAdmin
from tasks_management.models import Task, TaskExecutor, TaskGroup


class TaskExecutorInline(ServiceOnlyInline):
    model = TaskExecutor
    fk_name = "task_group"
    fields = ("user", "is_deleted", "date_created", "user_created")
    readonly_fields = fields
    show_change_link = False


@admin.register(TaskGroup)
class TaskGroupAdmin(ServiceOnlyModelAdmin):
    list_display = ("code", "completion_policy", "completion_threshold", "is_deleted", "date_created")
    search_fields = ("code",)
    list_filter = ("completion_policy", "is_deleted")
    inlines = [TaskExecutorInline]


@admin.register(TaskExecutor)
class TaskExecutorAdmin(ServiceOnlyModelAdmin):
    list_display = ("user", "task_group", "is_deleted", "date_created")
    list_filter = ("is_deleted",)
    search_fields = ("user__username", "task_group__code")
    list_select_related = ("user", "task_group")


@admin.register(Task)
class TaskAdmin(ServiceOnlyModelAdmin):
    """Votes, status and payload change only through the services (maker-checker)."""

    list_display = ("id", "source", "business_event", "status", "task_group", "is_deleted", "date_created")
    list_filter = ("status", "is_deleted", "source")
    search_fields = ("id", "source", "business_event", "entity_id")
    list_select_related = ("task_group",)
