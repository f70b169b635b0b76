"""Reads that are more than a filter: plan search, custom filters and eligibility of beneficiaries."""
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Exists, OuterRef, Prefetch, Q, Value, When
from django.utils import timezone

from core.custom_filters import custom_filter_q
from individual.gql_queries import parse_uuid
from individual.models import GroupIndividual
from social_protection.custom_filters import criteria_list
from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary

MEMBER_RELATION = "individual"  # GroupIndividual → Individual (any-member semantics for groups)


def payment_plan_model():
    if not apps.is_installed("payment_cycle"):
        return None
    try:
        return apps.get_model("payment_cycle", "PaymentPlan")
    except LookupError:
        return None


def with_payment_plans(queryset, plan_ref="pk"):
    model = payment_plan_model()
    if model is None:
        return queryset
    live = model.objects.filter(benefit_plan_id=OuterRef(plan_ref))
    if any(f.name == "is_deleted" for f in model._meta.fields):
        live = live.filter(is_deleted=False)
    return queryset.annotate(has_payment_plans_annotation=Exists(live))


def filter_plans(queryset, search=None, individual_id=None, group_id=None, beneficiary_status=None,
                 sort_alphabetically=None, apply_default_validity_filter=None, history=False):
    if search:
        for term in str(search).split():
            queryset = queryset.filter(Q(code__icontains=term) | Q(name__icontains=term))
    plan_ref = "id"
    status_q = Q(status=beneficiary_status) if beneficiary_status else Q()
    if individual_id:
        individual = parse_uuid(individual_id)
        as_beneficiary = Beneficiary.objects.filter(status_q, individual_id=individual, is_deleted=False,
                                                    benefit_plan_id=OuterRef(plan_ref))
        condition = Exists(as_beneficiary)
        if not history:
            member_groups = GroupIndividual.objects.filter(individual_id=individual, is_deleted=False).values("group_id")
            condition |= Exists(GroupBeneficiary.objects.filter(status_q, group_id__in=member_groups,
                                                                is_deleted=False, benefit_plan_id=OuterRef(plan_ref)))
        queryset = queryset.filter(condition)
    elif group_id:
        queryset = queryset.filter(Exists(GroupBeneficiary.objects.filter(
            status_q, group_id=parse_uuid(group_id), is_deleted=False, benefit_plan_id=OuterRef(plan_ref))))
    elif beneficiary_status:
        queryset = queryset.filter(
            Exists(Beneficiary.objects.filter(status_q, is_deleted=False, benefit_plan_id=OuterRef(plan_ref)))
            | Exists(GroupBeneficiary.objects.filter(status_q, is_deleted=False, benefit_plan_id=OuterRef(plan_ref))))
    if apply_default_validity_filter:
        now = timezone.now()
        queryset = queryset.filter(Q(date_valid_to__isnull=True) | Q(date_valid_to__gte=now))
    if sort_alphabetically:
        queryset = queryset.order_by("code")
    return queryset


def _criteria(benefit_plan_id, status):
    plan_id = parse_uuid(benefit_plan_id)
    if plan_id is None or not status:
        return None
    plan = BenefitPlan.objects.filter(id=plan_id).only("json_ext").first()
    if plan is None:
        return None
    advanced = (plan.json_ext or {}).get("advanced_criteria") if isinstance(plan.json_ext, dict) else None
    if isinstance(advanced, dict):
        items = criteria_list(advanced.get(getattr(status, "value", status)))
    else:
        items = []
    return items or None


def annotate_eligibility(queryset, benefit_plan_id, status, group=False):
    """``is_eligible`` per spec §3.3: only when both status and plan are filtered and criteria exist."""
    criteria = _criteria(benefit_plan_id, status)
    if not criteria:
        return queryset.annotate(is_eligible=Value(None, output_field=BooleanField()))
    try:
        if group:
            matches = Exists(GroupIndividual.objects.filter(
                custom_filter_q(criteria, relation=MEMBER_RELATION), group_id=OuterRef("group_id"),
                is_deleted=False))
            condition = Q(matches)
        else:
            condition = custom_filter_q(criteria)
    except ValidationError:
        return queryset.annotate(is_eligible=Value(None, output_field=BooleanField()))
    return queryset.annotate(is_eligible=Case(When(condition, then=Value(True)), default=Value(False),
                                              output_field=BooleanField()))


def apply_custom_filters(queryset, custom_filters, group=False):
    """Beneficiaries: own ``json_ext``; group beneficiaries: ANY member's attributes (spec §2.3)."""
    if not custom_filters:
        return queryset
    for item in custom_filters:
        if group:
            queryset = queryset.filter(Exists(GroupIndividual.objects.filter(
                custom_filter_q([item], relation=MEMBER_RELATION), group_id=OuterRef("group_id"),
                is_deleted=False)))
        else:
            queryset = queryset.filter(custom_filter_q([item]))
    return queryset


def head_prefetch():
    """Group heads for a page of group beneficiaries in one query (GroupGQLType reads ``active_members``)."""
    return Prefetch("group__groupindividual_set",
                    queryset=GroupIndividual.objects.filter(is_deleted=False).select_related("individual")
                    .order_by("date_created", "id"),
                    to_attr="active_members")
