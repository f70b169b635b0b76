"""Tickets and comments in Django admin: read-only with their history. They change only through their services
(category, flags, channel and resolution checks, generated codes, commenter rules, resolution by comment)."""
from django.contrib import admin

from core.admin import ReadOnlyAdminMixin, ServiceOnlyInline, ServiceOnlyModelAdmin, reference_link
from core.admin_site import SYSTEM, SystemOnlyForSuperusers
from grievance_social_protection.models import Comment, Ticket, TicketAttachment, TicketMutation


class CommentInline(ServiceOnlyInline):
    model = Comment
    fields = ("comment", "commenter_type", "commenter_id", "is_resolution", "date_created", "user_created")
    readonly_fields = fields


@admin.register(Ticket)
class TicketAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "grievances", 1
    readonly_fields = ("reporter_link",)
    list_display = ("code", "title", "status", "category", "priority", "due_date", "attending_staff",
                    "date_created", "is_deleted")
    list_filter = ("status", "category", "priority", "is_deleted")
    search_fields = ("code", "title", "description", "reporter_id")
    raw_id_fields = ("attending_staff",)
    inlines = [CommentInline]
    date_hierarchy = "date_created"

    @admin.display(description="reporter (record)")
    def reporter_link(self, obj):
        return reference_link(obj, obj.reporter_type, obj.reporter_id)


@admin.register(Comment)
class CommentAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "grievances", 2
    readonly_fields = ("commenter_link",)
    list_display = ("ticket", "short_comment", "commenter_type", "commenter_id", "is_resolution", "date_created")
    list_filter = ("is_resolution", "is_deleted")
    search_fields = ("comment", "ticket__code", "ticket__title")
    raw_id_fields = ("ticket",)

    @admin.display(description="comment")
    def short_comment(self, obj):
        return str(obj)

    @admin.display(description="commenter (record)")
    def commenter_link(self, obj):
        return reference_link(obj, obj.commenter_type, obj.commenter_id)


@admin.register(TicketMutation)
class TicketMutationAdmin(SystemOnlyForSuperusers, ReadOnlyAdminMixin, admin.ModelAdmin):
    admin_area = SYSTEM  # the link table between tickets and the mutation log
    list_display = ("ticket", "mutation")
    raw_id_fields = ("ticket", "mutation")


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "grievances", 3
    # metadata only: the bytes are served by the download endpoint, under the ticket's rights and row security
    list_display = ("filename", "ticket", "mime_type", "size", "date", "date_created", "is_deleted")
    list_filter = ("mime_type", "is_deleted")
    search_fields = ("filename", "sha256", "ticket__code", "ticket__title")
    raw_id_fields = ("ticket",)
