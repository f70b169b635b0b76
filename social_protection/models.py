"""Benefit plans, their (group) beneficiaries and the upload/enrolment records of each plan."""
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import BulkWrittenRecord, HistoryBusinessModel, HistoryModel, MutationLog, ObjectMutation, UUIDModel


class BeneficiaryStatus(models.TextChoices):
    POTENTIAL = "POTENTIAL", _("POTENTIAL")
    ACTIVE = "ACTIVE", _("ACTIVE")
    GRADUATED = "GRADUATED", _("GRADUATED")
    SUSPENDED = "SUSPENDED", _("SUSPENDED")


class BenefitPlan(HistoryBusinessModel):
    class BenefitPlanType(models.TextChoices):
        INDIVIDUAL_TYPE = "INDIVIDUAL", _("INDIVIDUAL")
        GROUP_TYPE = "GROUP", _("GROUP")

    code = models.CharField(max_length=8, null=False)
    name = models.CharField(max_length=255, null=False)
    max_beneficiaries = models.SmallIntegerField(null=False, default=0)
    ceiling_per_beneficiary = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    institution = models.CharField(max_length=255, null=True, blank=True)
    beneficiary_data_schema = models.JSONField(null=True, blank=True)
    type = models.CharField(max_length=100, choices=BenefitPlanType.choices,
                            default=BenefitPlanType.INDIVIDUAL_TYPE, null=False)
    description = models.CharField(max_length=1024, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["code", "is_deleted"], name="sp_bp_code_del_idx"),
            models.Index(fields=["name", "is_deleted"], name="sp_bp_name_del_idx"),
        ]

    def __str__(self):
        return f"Benefit Plan {self.code}"

    @property
    def schema_properties(self):
        schema = self.beneficiary_data_schema
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            return schema["properties"]
        return {}


def enrolment_indexes(prefix, member):
    """The lists read the live enrolments of a plan by status, and the enrolments of a member."""
    return [models.Index(fields=["benefit_plan", "is_deleted", "status"], name=f"{prefix}_plan_del_status_idx"),
            models.Index(fields=[member, "is_deleted"], name=f"{prefix}_{member}_del_idx")]


class Enrolment(BulkWrittenRecord, HistoryBusinessModel):
    """A member of the registry enrolled in a plan of ``PLAN_TYPE`` (``TYPE_ERROR`` otherwise, on every save).

    Enrolment writes 100k rows at a time (``INSERT … SELECT``): the plan and the member are indexed only by the
    composite indexes the lists use, the plan and the acting users are references the database does not re-check
    row by row (plans and users are never removed) and the users are not indexed; the history table indexes only
    its record id, date and acting user (it is read by record)."""

    PLAN_TYPE = None
    TYPE_ERROR = None

    # plans are closed or soft-deleted, never removed, and an enrolment locks its plan (select_for_update): the
    # reference is not re-checked for each of the 100k rows at commit (a third of an approval's time)
    benefit_plan = models.ForeignKey(BenefitPlan, models.DO_NOTHING, null=False, db_index=False, db_constraint=False)
    status = models.CharField(max_length=100, choices=BeneficiaryStatus.choices, null=False)
    json_ext = models.JSONField(default=dict, blank=True, null=True, db_column="Json_ext")

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        plan = self.benefit_plan if self.benefit_plan_id else None
        if plan is not None and plan.type != self.PLAN_TYPE:
            raise ValidationError(self.TYPE_ERROR)


class Beneficiary(Enrolment):
    PLAN_TYPE = BenefitPlan.BenefitPlanType.INDIVIDUAL_TYPE
    TYPE_ERROR = _("Beneficiary must be associated with an individual benefit plan.")
    HISTORY_UNINDEXED_FIELDS = ("benefit_plan", "individual", *BulkWrittenRecord.HISTORY_UNINDEXED_FIELDS)

    individual = models.ForeignKey("individual.Individual", models.DO_NOTHING, null=False, db_index=False)

    class Meta:
        verbose_name, verbose_name_plural = "beneficiary", "beneficiaries"
        indexes = enrolment_indexes("sp_ben", "individual")

    def __str__(self):
        return f"{self.individual.first_name} {self.individual.last_name}"


class GroupBeneficiary(Enrolment):
    PLAN_TYPE = BenefitPlan.BenefitPlanType.GROUP_TYPE
    TYPE_ERROR = _("Group beneficiary must be associated with a benefit plan type = GROUP.")
    HISTORY_UNINDEXED_FIELDS = ("benefit_plan", "group", *BulkWrittenRecord.HISTORY_UNINDEXED_FIELDS)

    group = models.ForeignKey("individual.Group", models.DO_NOTHING, null=False, db_index=False)

    class Meta:
        verbose_name, verbose_name_plural = "group beneficiary", "group beneficiaries"
        indexes = enrolment_indexes("sp_gben", "group")

    def __str__(self):
        return f"Group {self.group.code}"


class BenefitPlanDataUploadRecords(HistoryModel):
    data_upload = models.ForeignKey("individual.IndividualDataSourceUpload", models.DO_NOTHING, null=False)
    benefit_plan = models.ForeignKey(BenefitPlan, models.DO_NOTHING, null=False)
    workflow = models.CharField(max_length=50, null=False)

    class Meta:
        verbose_name, verbose_name_plural = "benefit plan upload workflow run", "benefit plan upload workflow runs"

    def __str__(self):
        return f"{self.benefit_plan.code} {self.data_upload.source_name} {self.workflow} {self.date_created}"


class BenefitPlanMutation(UUIDModel, ObjectMutation):
    benefit_plan = models.ForeignKey(BenefitPlan, models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, models.DO_NOTHING, related_name="benefit_plan")
