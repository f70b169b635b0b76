"""Task records in Django admin: read-only with their history (groups, executors and tasks change only through
their services: executors, completion policies, votes and the maker-checker outcome)."""
from django.contrib import admin

from core.admin import ServiceOnlyInline, ServiceOnlyModelAdmin, reference_link
from tasks_management.models import Task, TaskExecutor, TaskGroup


class TaskExecutorInline(ServiceOnlyInline):
    model = TaskExecutor
    fk_name = "task_group"
    fields = ("user", "is_deleted", "date_created", "user_created")
    readonly_fields = fields
    show_change_link = False


@admin.register(TaskGroup)
class TaskGroupAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "tasks", 2
    admin_label = "Task groups (who resolves tasks)"
    list_display = ("code", "completion_policy", "completion_threshold", "is_deleted", "date_created")
    search_fields = ("code",)
    list_filter = ("completion_policy", "is_deleted")
    inlines = [TaskExecutorInline]


@admin.register(TaskExecutor)
class TaskExecutorAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "tasks", 3
    admin_label = "Task group members"
    list_display = ("user", "task_group", "is_deleted", "date_created")
    list_filter = ("is_deleted",)
    search_fields = ("user__username", "task_group__code")
    list_select_related = ("user", "task_group")


@admin.register(Task)
class TaskAdmin(ServiceOnlyModelAdmin):
    """Votes, status and payload change only through the services (maker-checker)."""

    admin_area, admin_order = "tasks", 1
    list_display = ("business_event", "source", "status", "task_group", "entity_type", "date_created", "is_deleted")
    list_filter = ("status", "source", "business_event", "task_group", "is_deleted")
    search_fields = ("=id", "source", "business_event", "=entity_id")
    list_select_related = ("task_group", "entity_type")
    readonly_fields = ("entity_link",)
    date_hierarchy = "date_created"

    @admin.display(description="entity (record)")
    def entity_link(self, obj):
        return reference_link(obj, obj.entity_type, obj.entity_id)
