"""GraphQL queries of payment_cycle (mutations in gql_mutations.py): spec payment_cycle.md §4, §6, §10.3.

Each resolver checks the right, then reads; row security of entitlements is the node type's
(``EntitlementGQLType.restrict``), applied to the list, the summary and the deduplication summary alike.
"""
import re

import graphene
from django.core.exceptions import ValidationError
from django.db.models import Q
from graphql import GraphQLError

from core.gql.connection import OrderedDjangoFilterConnectionField, selected
from core.gql.filters import parse_uuid
from core.gql.mutation import mutation_fields
from core.gql_queries import ValidationMessageGQLType
from core.rights import require
from payment_cycle import gql_mutations as mutations
from payment_cycle.gql_queries import (
    CYCLE_SEARCH,
    ENTITLEMENT_SEARCH,
    PLAN_SEARCH,
    DeduplicationSummaryGQLType,
    DeduplicationSummaryRowGQLType,
    EntitlementGQLType,
    EntitlementSummaryGQLType,
    PaymentCycleGQLType,
    PaymentPlanGQLType,
)
from payment_cycle.models import Entitlement, PaymentCycle, PaymentPlan
from payment_cycle.selectors import duplicate_enrolments, entitlement_summary

LIST_DENIED = "Unauthorized"  # spec §4.1 / §8: queries of this module answer "Unauthorized"
# the relations an entitlement row joins when the query selects them (one statement for the page)
ENTITLEMENT_RELATIONS = {"paymentCycle": "payment_cycle", "paymentPlan": "payment_plan",
                         "benefitPlan": "benefit_plan", "individual": "individual", "group": "group"}
DEDUPLICATION_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
DEDUPLICATION_MAX_COLUMNS = 10


def _own_mutation(queryset, client_mutation_id, user):
    """Rows linked to the caller's own mutation with this ``clientMutationId`` (another user's ids find nothing)."""
    return queryset.filter(mutations__mutation__client_mutation_id=client_mutation_id,
                           mutations__mutation__user=user)


def _listed(info, model, perms, client_mutation_id, search_q):
    """The rows of a list query: the right checked, restricted to the caller's mutation and to the search."""
    user = info.context.user
    require(user, perms, LIST_DENIED)
    queryset = model.objects.all()
    if client_mutation_id:
        queryset = _own_mutation(queryset, client_mutation_id, user)
    return queryset.filter(search_q) if search_q else queryset


def _cycle_id(value):
    parsed = parse_uuid(value)
    if parsed is None:
        raise GraphQLError(f"Invalid paymentCycleId {str(value)[:100]!r}")
    return parsed


def _live_entitlements(user, payment_cycle_id):
    """The cycle's non-deleted entitlements the caller's row security lets them see."""
    queryset = Entitlement.objects.filter(payment_cycle_id=payment_cycle_id, is_deleted=False)
    return EntitlementGQLType.restrict(queryset, user)


# --- deduplication summary ---------------------------------------------------------------------------
def _refuse_masked_columns(columns, user):
    """A column masked for the caller (the enrolment's ``json_ext`` policies) is refused: grouping by it would
    reveal what the lists mask."""
    from core.masking import masking_policy

    for policy in ("beneficiary", "group_beneficiary"):
        try:
            checker = masking_policy(policy)
        except LookupError:
            continue
        for column in columns:
            checker.refuse_filter(user, (column,))


class Query(graphene.ObjectType):
    payment_cycle = OrderedDjangoFilterConnectionField(
        PaymentCycleGQLType,
        search=graphene.String(),
        client_mutation_id=graphene.String(),
        # generic openIMIS arguments: a cycle has no validity dates, they are accepted and ignored (spec §4.1)
        date_valid_from__gte=graphene.DateTime(),
        date_valid_to__lte=graphene.DateTime(),
        apply_default_validity_filter=graphene.Boolean(),
    )
    payment_cycle_code_validity = graphene.Field(ValidationMessageGQLType, code=graphene.String(required=True))
    payment_plan = OrderedDjangoFilterConnectionField(
        PaymentPlanGQLType, search=graphene.String(), client_mutation_id=graphene.String())
    entitlement = OrderedDjangoFilterConnectionField(EntitlementGQLType, search=graphene.String())
    entitlement_summary = graphene.List(EntitlementSummaryGQLType, payment_cycle_id=graphene.String(required=True))
    benefit_deduplication_summary = graphene.Field(
        DeduplicationSummaryGQLType, columns=graphene.List(graphene.String, required=True),
        payment_cycle_id=graphene.String(required=True))

    def resolve_payment_cycle(self, info, search=None, client_mutation_id=None, **kwargs):
        return _listed(info, PaymentCycle, CYCLE_SEARCH, client_mutation_id,
                       search and Q(code__icontains=search))

    def resolve_payment_cycle_code_validity(self, info, code):
        from payment_cycle.services import code_validity

        require(info.context.user, CYCLE_SEARCH, LIST_DENIED)
        is_valid, message = code_validity(code)
        return ValidationMessageGQLType(is_valid=is_valid, error_code=None if is_valid else 1,
                                        error_message=message)

    def resolve_payment_plan(self, info, search=None, client_mutation_id=None, **kwargs):
        queryset = _listed(info, PaymentPlan, PLAN_SEARCH, client_mutation_id,
                           search and (Q(code__icontains=search) | Q(name__icontains=search)))
        if selected(info, "benefitPlan"):
            queryset = queryset.select_related("benefit_plan")
        return queryset

    def resolve_entitlement(self, info, search=None, **kwargs):
        # row security (the individual's) is the node type's: EntitlementGQLType.restrict
        require(info.context.user, ENTITLEMENT_SEARCH, LIST_DENIED)
        queryset = Entitlement.objects.all()
        if search:
            queryset = queryset.filter(code__icontains=search)
        joined = [path for name, path in ENTITLEMENT_RELATIONS.items() if selected(info, name)]
        return queryset.select_related(*joined) if joined else queryset

    def resolve_entitlement_summary(self, info, payment_cycle_id):
        user = info.context.user
        require(user, ENTITLEMENT_SEARCH, LIST_DENIED)
        visible = EntitlementGQLType.restrict(Entitlement.objects.all(), user)  # the caller's row security
        rows = entitlement_summary(_cycle_id(payment_cycle_id), queryset=visible)
        return [EntitlementSummaryGQLType(status=row["status"], count=row["count"], total_amount=row["total_amount"])
                for row in rows]

    def resolve_benefit_deduplication_summary(self, info, columns, payment_cycle_id):
        user = info.context.user
        require(user, ENTITLEMENT_SEARCH, LIST_DENIED)
        columns = list(dict.fromkeys(columns or []))
        if not columns or len(columns) > DEDUPLICATION_MAX_COLUMNS:
            raise GraphQLError(f"columns: give 1 to {DEDUPLICATION_MAX_COLUMNS} json_ext keys")
        bad = [c for c in columns if not isinstance(c, str) or not DEDUPLICATION_COLUMN.match(c)]
        if bad:
            raise GraphQLError(f"columns: {str(bad[0])[:100]!r} is not a json_ext key")
        try:
            _refuse_masked_columns(columns, user)
        except ValidationError as exc:
            raise GraphQLError("; ".join(exc.messages))
        cycle_id = _cycle_id(payment_cycle_id)
        return DeduplicationSummaryGQLType(rows=[DeduplicationSummaryRowGQLType(**row) for row in
                                                 duplicate_enrolments(_live_entitlements(user, cycle_id), columns)])


Mutation = mutation_fields(
    mutations.CreatePaymentCycleMutation, mutations.UpdatePaymentCycleMutation, mutations.DeletePaymentCycleMutation,
    mutations.ProcessBenefitPlanPaymentCycleMutation,
    mutations.CreatePaymentPlanMutation, mutations.UpdatePaymentPlanMutation, mutations.DeletePaymentPlanMutation,
    mutations.ApproveEntitlementsMutation, mutations.RejectEntitlementsMutation,
    mutations.MarkEntitlementsPaidMutation,
)
