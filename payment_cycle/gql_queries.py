"""GraphQL types and filters of payment_cycle (core protected types: rights on lists and ``node(id:)``).

* ``PaymentCycleGQLType``: ``status`` is the enum named ``PaymentCycleStatus`` (spec §4.1: the frontend picker
  declares ``$status: PaymentCycleStatus``), for the field and for the ``status`` filter arguments alike;
* ``PaymentPlanGQLType``: its benefit plan comes with the row (read by the payment-plan right);
* ``EntitlementGQLType``: visible only when the registry's row security lets the caller see its individual
  (``restrict``); the individual and group are read by the entitlement right under the registry's row security
  (``granted_relations``), the cycle, payment plan and benefit plan with the row (one page, no N+1).
"""
import graphene

from core.gql.filters import DATE_LOOKUPS, ID_LOOKUPS, STRING_LOOKUPS, TEXT_LOOKUPS, filterset_for, prefixed
from core.gql.types import HISTORY_MODEL_FIELDS, HistoryModelType
from payment_cycle.models import Entitlement, PaymentCycle, PaymentPlan

CYCLE_SEARCH = "payment_cycle.gql_query_payment_cycle_perms"
PLAN_SEARCH = "payment_cycle.gql_query_payment_plan_perms"
ENTITLEMENT_SEARCH = CYCLE_SEARCH  # spec §3: ``entitlement`` and ``entitlementSummary`` share the cycle right

# the contract's name (spec §4.1); values PENDING / ACTIVE / SUSPENDED
PaymentCycleStatusEnum = graphene.Enum(
    "PaymentCycleStatus", [(value, value) for value in PaymentCycle.PaymentCycleStatus.values])

NUMBER_LOOKUPS = ["exact", "lt", "lte", "gt", "gte"]


def _enum_value(value):
    return getattr(value, "value", value)


# --- payment cycles ----------------------------------------------------------------------------------
CYCLE_FILTERS = {
    "id": ["exact"],
    "code": STRING_LOOKUPS,
    "start_date": DATE_LOOKUPS,
    "end_date": DATE_LOOKUPS,
    "status": STRING_LOOKUPS,
    "type__id": ["exact"],
    "date_created": DATE_LOOKUPS,
    "date_updated": DATE_LOOKUPS,
    "is_deleted": ["exact"],
    "version": ["exact"],
}


class PaymentCycleGQLType(HistoryModelType):
    """A payment cycle; ``jsonExt`` carries the processing progress (``json_ext.processing``, spec §10.4)."""

    read_perms = CYCLE_SEARCH
    # declared before Meta: graphene-django takes the filter argument types of ``status`` from this field
    status = graphene.Field(PaymentCycleStatusEnum)

    class Meta:
        model = PaymentCycle
        fields = (*HISTORY_MODEL_FIELDS, "code", "start_date", "end_date", "status")
        filterset_class = filterset_for(PaymentCycle, CYCLE_FILTERS)

    def resolve_status(root, info):
        return root.status


# --- payment plans -----------------------------------------------------------------------------------
PLAN_FILTERS = {
    "id": ["exact"],
    "code": STRING_LOOKUPS,
    "name": STRING_LOOKUPS,
    "benefit_plan__id": ["exact"],
    "calculation": ["exact"],
    "periodicity": ["exact"],
    "date_valid_from": DATE_LOOKUPS,
    "date_valid_to": [*DATE_LOOKUPS, "isnull"],
    "date_created": DATE_LOOKUPS,
    "date_updated": DATE_LOOKUPS,
    "is_deleted": ["exact"],
    "version": ["exact"],
}


class PaymentPlanGQLType(HistoryModelType):
    """A rule (by uuid) configured for a benefit plan; ``jsonExt`` holds ``calculation_rule`` and
    ``advanced_criteria`` (spec §10.1). Its benefit plan is read by the payment-plan right."""

    read_perms = PLAN_SEARCH
    granted_relations = ("benefit_plan",)

    class Meta:
        model = PaymentPlan
        fields = (*HISTORY_MODEL_FIELDS, "code", "name", "benefit_plan", "calculation", "periodicity",
                  "date_valid_from", "date_valid_to")
        filterset_class = filterset_for(PaymentPlan, PLAN_FILTERS)


# --- entitlements ------------------------------------------------------------------------------------
ENTITLEMENT_FILTERS = {
    "id": ["exact"],
    "payment_cycle__id": ["exact"],
    "payment_plan__id": ["exact"],
    "benefit_plan__id": ["exact"],
    "individual__id": ["exact"],
    "group__id": ID_LOOKUPS,
    "status": STRING_LOOKUPS,
    "code": STRING_LOOKUPS,
    "amount": NUMBER_LOOKUPS,
    "currency": ["exact"],
    "date_due": DATE_LOOKUPS,
    "period_start": DATE_LOOKUPS,
    "period_end": DATE_LOOKUPS,
    "date_created": DATE_LOOKUPS,
    "date_updated": DATE_LOOKUPS,
    "is_deleted": ["exact"],
    **prefixed("individual", {"first_name": TEXT_LOOKUPS, "last_name": TEXT_LOOKUPS}),
    **prefixed("payment_cycle", {"code": TEXT_LOOKUPS}),
}
ENTITLEMENT_FIELDS = (*HISTORY_MODEL_FIELDS, "payment_cycle", "payment_plan", "benefit_plan", "beneficiary",
                      "group_beneficiary", "individual", "group", "code", "amount", "currency", "date_due",
                      "period_start", "period_end", "type", "status", "calculation", "paid_amount", "receipt",
                      "date_paid", "failure_reason")


class EntitlementGQLType(HistoryModelType):
    """The computed benefit of one enrolment in one cycle (spec §10.2)."""

    read_perms = ENTITLEMENT_SEARCH
    # read by the entitlement right; the individual and group only when the registry's row security shows them
    granted_relations = ("payment_cycle", "payment_plan", "benefit_plan", "individual", "group")

    class Meta:
        model = Entitlement
        fields = ENTITLEMENT_FIELDS
        filterset_class = filterset_for(Entitlement, ENTITLEMENT_FILTERS)

    @classmethod
    def restrict(cls, queryset, user):
        """Row security (issue 10): an entitlement is visible when the registry's row security lets the caller
        see its individual (the recipient) — lists, counts, summaries and ``node(id:)`` alike."""
        from individual.selectors import visible_individual_ids

        visible = visible_individual_ids(user)
        return queryset if visible is None else queryset.filter(individual_id__in=visible)


class EntitlementSummaryGQLType(graphene.ObjectType):
    """Count and total amount of a cycle's entitlements in one status (spec §10.3)."""

    status = graphene.String()
    count = graphene.Int()
    total_amount = graphene.Decimal()


# --- deduplication summary ---------------------------------------------------------------------------
class DeduplicationSummaryRowGQLType(graphene.ObjectType):
    """Enrolments of a cycle sharing the same values of the chosen columns: how many, their ids, the values."""

    count = graphene.Int()
    ids = graphene.List(graphene.String)
    column_values = graphene.JSONString()


class DeduplicationSummaryGQLType(graphene.ObjectType):
    rows = graphene.List(DeduplicationSummaryRowGQLType)
