"""Payment cycles, payment plans and entitlements in Django admin: read-only with their history (they change
through their services: validation, maker-checker, set-based processing); amounts are never edited here."""
from django.contrib import admin

from core.admin import ServiceOnlyModelAdmin
from payment_cycle.models import Entitlement, PaymentCycle, PaymentPlan


@admin.register(PaymentCycle)
class PaymentCycleAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "payments", 1
    list_display = ("code", "start_date", "end_date", "status", "is_deleted", "date_updated")
    list_filter = ("status", "is_deleted")
    search_fields = ("code",)
    date_hierarchy = "start_date"


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "payments", 2
    list_display = ("code", "name", "benefit_plan", "periodicity", "calculation", "date_valid_from", "date_valid_to",
                    "is_deleted")
    list_filter = ("periodicity", "is_deleted")
    search_fields = ("code", "name", "benefit_plan__code")
    raw_id_fields = ("benefit_plan",)
    list_select_related = ("benefit_plan",)


@admin.register(Entitlement)
class EntitlementAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "payments", 3
    list_display = ("code", "payment_cycle", "payment_plan", "individual", "amount", "currency", "status",
                    "date_due", "date_paid", "is_deleted")
    list_filter = ("status", "currency", "is_deleted", "payment_cycle")
    search_fields = ("code", "individual__first_name", "individual__last_name", "receipt")
    raw_id_fields = ("payment_cycle", "payment_plan", "benefit_plan", "beneficiary", "group_beneficiary",
                     "individual", "group")
    list_select_related = ("payment_cycle", "payment_plan", "individual")
