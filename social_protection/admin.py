"""Enrolment records in Django admin: read-only with their history (benefit plans and beneficiaries change only
through their services: validation, schema checks, maker-checker tasks)."""
from django.contrib import admin

from core.admin import ServiceOnlyModelAdmin
from social_protection.models import BenefitPlan, BenefitPlanDataUploadRecords, Beneficiary, GroupBeneficiary


@admin.register(BenefitPlan)
class BenefitPlanAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "enrolment", 1
    list_display = ("code", "name", "type", "max_beneficiaries", "date_valid_from", "date_valid_to", "is_deleted")
    list_filter = ("type", "is_deleted")
    search_fields = ("code", "name", "institution")


@admin.register(Beneficiary)
class BeneficiaryAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "enrolment", 2
    admin_label = "Beneficiaries (individuals)"
    list_display = ("individual", "benefit_plan", "status", "date_valid_from", "is_deleted")
    list_filter = ("status", "is_deleted", "benefit_plan")
    search_fields = ("individual__first_name", "individual__last_name", "benefit_plan__code")
    raw_id_fields = ("individual", "benefit_plan")
    list_select_related = ("individual", "benefit_plan")


@admin.register(GroupBeneficiary)
class GroupBeneficiaryAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "enrolment", 3
    admin_label = "Beneficiaries (groups)"
    list_display = ("group", "benefit_plan", "status", "date_valid_from", "is_deleted")
    list_filter = ("status", "is_deleted", "benefit_plan")
    search_fields = ("group__code", "benefit_plan__code")
    raw_id_fields = ("group", "benefit_plan")
    list_select_related = ("group", "benefit_plan")


@admin.register(BenefitPlanDataUploadRecords)
class BenefitPlanDataUploadRecordsAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "uploads", 5
    list_display = ("benefit_plan", "workflow", "data_upload", "date_created")
    list_filter = ("workflow", "benefit_plan")
    raw_id_fields = ("data_upload", "benefit_plan")
    list_select_related = ("benefit_plan", "data_upload")
