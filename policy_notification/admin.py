"""Household notification rows and message indications in Django admin: read-only with their history (consent
and language change through ``updateFamilyNotification`` / the group service; indications are written by the
detection and the dispatcher only)."""
from django.contrib import admin

from core.admin import ServiceOnlyModelAdmin
from policy_notification.models import FamilyNotification, NotificationIndication


@admin.register(FamilyNotification)
class FamilyNotificationAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "notifications", 1
    admin_label = "Household notification settings"
    list_display = ("group", "approval_of_notification", "language_of_notification", "is_deleted", "date_updated")
    list_filter = ("approval_of_notification", "language_of_notification", "is_deleted")
    search_fields = ("group__code",)
    raw_id_fields = ("group",)
    list_select_related = ("group",)


@admin.register(NotificationIndication)
class NotificationIndicationAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "notifications", 2
    admin_label = "Notifications sent and due"
    list_display = ("notification_type", "enrolment_id", "group", "period_key", "status", "provider", "attempts",
                    "sent_at")
    list_filter = ("notification_type", "status", "provider")
    search_fields = ("enrolment_id", "group__code", "details")
    raw_id_fields = ("group",)
    list_select_related = ("group",)
    date_hierarchy = "date_created"
