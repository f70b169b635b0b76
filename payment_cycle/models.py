"""Payment cycles, payment plans (a rule configured for a benefit plan) and the entitlements they compute."""
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import BulkWrittenRecord, HistoryModel, MutationLog, ObjectMutation, UUIDModel


class PaymentCycle(HistoryModel):
    class PaymentCycleStatus(models.TextChoices):
        PENDING = "PENDING", _("PENDING")
        ACTIVE = "ACTIVE", _("ACTIVE")
        SUSPENDED = "SUSPENDED", _("SUSPENDED")

    code = models.CharField(max_length=255, null=False)
    start_date = models.DateField(null=False)
    end_date = models.DateField(null=False)
    status = models.CharField(max_length=255, choices=PaymentCycleStatus.choices,
                              default=PaymentCycleStatus.PENDING, null=False)
    # the class of business object the cycle was processed for (Generation 1: BenefitPlan); no object id
    type = models.ForeignKey(ContentType, models.DO_NOTHING, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["code", "is_deleted"], name="pc_cycle_code_del_idx"),
                   models.Index(fields=["start_date", "end_date"], name="pc_cycle_dates_idx")]

    def __str__(self):
        return f"Payment cycle {self.code}"


class PaymentCycleMutation(UUIDModel, ObjectMutation):
    payment_cycle = models.ForeignKey(PaymentCycle, models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, models.DO_NOTHING, related_name="payment_cycle")


class PaymentPlan(HistoryModel):
    """A calculation rule (by uuid) with its parameters, paying one benefit plan every ``periodicity`` months."""

    PERIODICITIES = (1, 2, 3, 4, 6, 12)

    code = models.CharField(max_length=32, null=False)
    name = models.CharField(max_length=255, null=False)
    benefit_plan = models.ForeignKey("social_protection.BenefitPlan", models.DO_NOTHING, related_name="payment_plans")
    calculation = models.UUIDField(null=False)
    periodicity = models.PositiveSmallIntegerField(default=1)
    date_valid_from = models.DateField(null=False)
    date_valid_to = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["benefit_plan", "is_deleted"], name="pc_plan_bp_del_idx"),
                   models.Index(fields=["code", "is_deleted"], name="pc_plan_code_del_idx")]
        constraints = [models.UniqueConstraint(fields=["code"], condition=Q(is_deleted=False),
                                               name="pc_payment_plan_code_live_uniq")]

    def __str__(self):
        return f"Payment plan {self.code}"

    @property
    def rule_parameters(self):
        return (self.json_ext or {}).get("calculation_rule") or {}

    @property
    def advanced_criteria(self):
        criteria = (self.json_ext or {}).get("advanced_criteria") or []
        return criteria if isinstance(criteria, list) else []


class PaymentPlanMutation(UUIDModel, ObjectMutation):
    payment_plan = models.ForeignKey(PaymentPlan, models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, models.DO_NOTHING, related_name="payment_plan")


class EntitlementStatus(models.TextChoices):
    ACCEPTED = "ACCEPTED", _("ACCEPTED")
    PENDING_APPROVAL = "PENDING_APPROVAL", _("PENDING_APPROVAL")
    APPROVE_FOR_PAYMENT = "APPROVE_FOR_PAYMENT", _("APPROVE_FOR_PAYMENT")
    REJECTED = "REJECTED", _("REJECTED")
    PAID = "PAID", _("PAID")
    CANCELLED = "CANCELLED", _("CANCELLED")


# what a recomputation of a PENDING cycle may replace: nothing approved, paid or decided by a checker
RECOMPUTABLE_STATUSES = (EntitlementStatus.ACCEPTED, EntitlementStatus.PENDING_APPROVAL)


def _reference(model, related_name="+", null=False):
    """A reference the processing derives in the same statement from rows that are never hard-deleted (the
    enrolment, its recipient, group and plan, the acting user): not re-checked row by row by the database and
    not indexed on its own (the composite indexes below serve the lookups). At a million entitlements each such
    check costs more than the insert itself (bench/entitlements.py); the cycle and the payment plan keep theirs."""
    return models.ForeignKey(model, models.DO_NOTHING, null=null, blank=null, related_name=related_name,
                             db_constraint=False, db_index=False)


class Entitlement(BulkWrittenRecord, HistoryModel):
    """The computed benefit of one enrolment in one cycle, for one payment plan."""

    # its history is read by entitlement and date: the history table indexes nothing else
    HISTORY_UNINDEXED_FIELDS = ("payment_cycle", "payment_plan", "benefit_plan", "beneficiary", "group_beneficiary",
                                "individual", "group", *BulkWrittenRecord.HISTORY_UNINDEXED_FIELDS)

    payment_cycle = models.ForeignKey(PaymentCycle, models.DO_NOTHING, related_name="entitlements", db_index=False)
    payment_plan = models.ForeignKey(PaymentPlan, models.DO_NOTHING, related_name="entitlements", db_index=False)
    benefit_plan = _reference("social_protection.BenefitPlan")
    beneficiary = _reference("social_protection.Beneficiary", related_name="entitlements", null=True)
    group_beneficiary = _reference("social_protection.GroupBeneficiary", related_name="entitlements", null=True)
    individual = _reference("individual.Individual", related_name="entitlements")
    group = _reference("individual.Group", null=True)
    code = models.CharField(max_length=16, null=False)
    amount = models.DecimalField(max_digits=18, decimal_places=2, null=False)
    currency = models.CharField(max_length=3, null=False)
    date_due = models.DateField(null=False)
    period_start = models.DateField(null=False)
    period_end = models.DateField(null=False)
    type = models.CharField(max_length=255, default="Cash Transfer", null=False)
    status = models.CharField(max_length=32, choices=EntitlementStatus.choices, default=EntitlementStatus.ACCEPTED,
                              null=False)
    calculation = models.UUIDField(null=False)
    # reconciliation with the payment provider's answer
    paid_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    receipt = models.CharField(max_length=255, null=True, blank=True)
    date_paid = models.DateField(null=True, blank=True)
    failure_reason = models.CharField(max_length=1024, null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["payment_cycle", "payment_plan", "status"], name="pc_ent_cycle_plan_st_idx"),
            models.Index(fields=["individual", "is_deleted"], name="pc_ent_individual_del_idx"),
            models.Index(fields=["benefit_plan", "is_deleted"], name="pc_ent_bp_del_idx"),
            # an enrolment's entitlements (its latest amount in notifications); only one of the two is set per row
            models.Index(fields=["beneficiary", "date_created"], condition=Q(beneficiary__isnull=False),
                         name="pc_ent_beneficiary_idx"),
            models.Index(fields=["group_beneficiary", "date_created"], condition=Q(group_beneficiary__isnull=False),
                         name="pc_ent_group_ben_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="pc_entitlement_code_uniq"),
            models.UniqueConstraint(fields=["payment_cycle", "payment_plan", "beneficiary"],
                                    condition=Q(is_deleted=False, beneficiary__isnull=False),
                                    name="pc_ent_cycle_plan_beneficiary_uniq"),
            models.UniqueConstraint(fields=["payment_cycle", "payment_plan", "group_beneficiary"],
                                    condition=Q(is_deleted=False, group_beneficiary__isnull=False),
                                    name="pc_ent_cycle_plan_group_ben_uniq"),
            models.CheckConstraint(
                condition=(Q(beneficiary__isnull=False, group_beneficiary__isnull=True)
                           | Q(beneficiary__isnull=True, group_beneficiary__isnull=False)),
                name="pc_ent_one_enrolment"),
        ]

    def __str__(self):
        return f"Entitlement {self.code}"


class EntitlementCodeCounter(models.Model):
    """Entitlement codes are a permutation of a counter (unique by construction, no collision retries):
    one row, its ``value`` the last number handed out. A run reserves a block of numbers at once."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)


def benefit_plan_content_type():
    from social_protection.selectors import benefit_plans

    return ContentType.objects.get_for_model(benefit_plans().model)
