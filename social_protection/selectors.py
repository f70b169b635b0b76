"""Reads that are more than a filter: plan search, custom filters and eligibility of beneficiaries."""
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from core.custom_filters import custom_filter_q, refuse_masked_filters
from core.gql.filters import parse_uuid
from individual.selectors import MASKING_POLICY as REGISTRY_MASKING
from individual.selectors import live_memberships
from individual.services import Programmes
from social_protection.custom_filters import criteria_list
from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary
from social_protection.services import payment_plans

MEMBER_RELATION = "individual"  # GroupIndividual → Individual (any-member semantics for groups)


def beneficiaries():
    """Every beneficiary row (other modules link to them, e.g. grievance reporters); callers filter."""
    return Beneficiary.objects.all()


def group_beneficiaries():
    """Every group beneficiary (deleted ones included: callers filter)."""
    return GroupBeneficiary.objects.all()


def benefit_plans():
    """Every benefit plan (deleted ones included: callers filter)."""
    return BenefitPlan.objects.all()


def with_payment_plans(queryset, plan_ref="pk"):
    """``has_payment_plans_annotation``: a live payment plan references the plan (a payment module registers
    which plans have one, ``social_protection.services.register_payment_plans``; none without it)."""
    plan_ids = payment_plans()
    if plan_ids is None:
        return queryset
    return queryset.annotate(has_payment_plans_annotation=Exists(plan_ids.filter(benefit_plan_id=OuterRef(plan_ref))))


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
            member_groups = live_memberships().filter(individual_id=individual).values("group_id")
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


def _any_member_matches(criteria):
    """A group beneficiary whose group has a live member whose attributes match ``criteria``."""
    return Exists(live_memberships().filter(custom_filter_q(criteria, relation=MEMBER_RELATION),
                                            group_id=OuterRef("group_id")))


def annotate_eligibility(queryset, benefit_plan_id, status, group=False):
    """``is_eligible`` per spec §3.3: only when both status and plan are filtered and criteria exist."""
    criteria = _criteria(benefit_plan_id, status)
    if not criteria:
        return queryset.annotate(is_eligible=Value(None, output_field=BooleanField()))
    try:
        condition = Q(_any_member_matches(criteria)) if group else custom_filter_q(criteria)
    except ValidationError:
        return queryset.annotate(is_eligible=Value(None, output_field=BooleanField()))
    return queryset.annotate(is_eligible=Case(When(condition, then=Value(True)), default=Value(False),
                                              output_field=BooleanField()))


def refuse_masked_beneficiary_filters(custom_filters, user, group=False):
    """A filter on an attribute masked for ``user`` is refused (issue 10): the beneficiary's own JSON is masked
    by the ``beneficiary`` policy, a group beneficiary's filters read its members' (the registry's policy)."""
    refuse_masked_filters(custom_filters, user, REGISTRY_MASKING if group else "beneficiary")


def apply_custom_filters(queryset, custom_filters, group=False, user=None):
    """Beneficiaries: own ``json_ext``; group beneficiaries: ANY member's attributes (spec §2.3). With ``user``,
    a filter on what is masked for them is refused."""
    if user is not None:
        refuse_masked_beneficiary_filters(custom_filters, user, group)
    for item in custom_filters or []:
        queryset = queryset.filter(_any_member_matches([item]) if group else custom_filter_q([item]))
    return queryset


def enrolled_individual_ids(plan_id=None):
    """Ids of individuals that are live beneficiaries of ``plan_id`` (of any plan when None), a subquery."""
    beneficiaries = Beneficiary.objects.filter(is_deleted=False)
    if plan_id is not None:
        beneficiaries = beneficiaries.filter(benefit_plan_id=plan_id)
    return beneficiaries.values("individual_id")


def enrolled_group_ids(plan_id=None):
    beneficiaries = GroupBeneficiary.objects.filter(is_deleted=False)
    if plan_id is not None:
        beneficiaries = beneficiaries.filter(benefit_plan_id=plan_id)
    return beneficiaries.values("group_id")


def plan_schema(plan_id):
    """The plan's ``beneficiary_data_schema`` ({} when it has none), None for an unknown plan."""
    plan = BenefitPlan.objects.filter(id=plan_id).only("beneficiary_data_schema").first()
    return None if plan is None else (plan.beneficiary_data_schema or {})


class BeneficiaryProgrammes(Programmes):
    """What the individual registry asks about programmes (``individual.services.Programmes``), answered from
    the beneficiary tables; registered in ``SocialProtectionConfig.ready()``."""

    def individual_ids(self, plan_id=None):
        return enrolled_individual_ids(plan_id)

    def group_ids(self, plan_id=None):
        return enrolled_group_ids(plan_id)

    def plan_schema(self, plan_id):
        return plan_schema(plan_id)

    def enrolled(self, plan_id=None, group=False):
        """A semi-join: the outer individual (group) is a live beneficiary of ``plan_id`` (of any plan)."""
        model, member = (GroupBeneficiary, "group_id") if group else (Beneficiary, "individual_id")
        rows = model.objects.filter(**{member: OuterRef("pk")}, is_deleted=False)
        if plan_id is not None:
            rows = rows.filter(benefit_plan_id=plan_id)
        return Exists(rows)
