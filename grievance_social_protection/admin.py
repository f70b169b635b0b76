from django.contrib import admin

from core.admin import HistoryModelAdmin
from grievance_social_protection.models import Comment, Ticket, TicketMutation
from grievance_social_protection.services import save_new_ticket


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    can_delete = False
    fields = ("comment", "commenter_type", "commenter_id", "is_resolution", "date_created", "user_created")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # comments are added through the service (json_ext.comment_ids, rights)


@admin.register(Ticket)
class TicketAdmin(HistoryModelAdmin):
    list_display = ("code", "title", "status", "category", "priority", "due_date", "attending_staff",
                    "date_created", "is_deleted")
    list_filter = ("status", "category", "priority", "is_deleted")
    search_fields = ("code", "title", "description", "reporter_id")
    readonly_fields = HistoryModelAdmin.readonly_fields + ("reporter_type", "reporter_id")
    raw_id_fields = ("attending_staff",)
    inlines = [CommentInline]
    date_hierarchy = "date_created"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            save_new_ticket(obj, request.user)  # generates the code as the service does


@admin.register(Comment)
class CommentAdmin(HistoryModelAdmin):
    list_display = ("ticket", "short_comment", "commenter_type", "commenter_id", "is_resolution", "date_created")
    list_filter = ("is_resolution", "is_deleted")
    search_fields = ("comment", "ticket__code", "ticket__title")
    raw_id_fields = ("ticket",)
    readonly_fields = HistoryModelAdmin.readonly_fields + ("is_resolution",)

    @admin.display(description="comment")
    def short_comment(self, obj):
        return str(obj)


@admin.register(TicketMutation)
class TicketMutationAdmin(admin.ModelAdmin):
    list_display = ("ticket", "mutation")
    raw_id_fields = ("ticket", "mutation")

    def has_change_permission(self, request, obj=None):
        return False
