from django.contrib import admin

from core.admin import HistoryModelAdmin
from social_protection.models import BenefitPlan, BenefitPlanDataUploadRecords, Beneficiary, GroupBeneficiary


@admin.register(BenefitPlan)
class BenefitPlanAdmin(HistoryModelAdmin):
    list_display = ("code", "name", "type", "max_beneficiaries", "date_valid_from", "date_valid_to", "is_deleted")
    list_filter = ("type", "is_deleted")
    search_fields = ("code", "name", "institution")
    readonly_fields = HistoryModelAdmin.readonly_fields + ("replacement_uuid",)


@admin.register(Beneficiary)
class BeneficiaryAdmin(HistoryModelAdmin):
    list_display = ("individual", "benefit_plan", "status", "date_valid_from", "is_deleted")
    list_filter = ("status", "is_deleted", "benefit_plan")
    search_fields = ("individual__first_name", "individual__last_name", "benefit_plan__code")
    raw_id_fields = ("individual", "benefit_plan")
    list_select_related = ("individual", "benefit_plan")


@admin.register(GroupBeneficiary)
class GroupBeneficiaryAdmin(HistoryModelAdmin):
    list_display = ("group", "benefit_plan", "status", "date_valid_from", "is_deleted")
    list_filter = ("status", "is_deleted", "benefit_plan")
    search_fields = ("group__code", "benefit_plan__code")
    raw_id_fields = ("group", "benefit_plan")
    list_select_related = ("group", "benefit_plan")


@admin.register(BenefitPlanDataUploadRecords)
class BenefitPlanDataUploadRecordsAdmin(HistoryModelAdmin):
    list_display = ("benefit_plan", "workflow", "data_upload", "date_created")
    raw_id_fields = ("data_upload", "benefit_plan")
    list_select_related = ("benefit_plan", "data_upload")
