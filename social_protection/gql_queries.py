"""GraphQL types and filters of social_protection (core protected types: rights on lists and ``node(id:)``)."""
import graphene
from graphene_django.registry import get_global_registry
from graphene_django.utils import bypass_get_queryset

from core.gql.filters import (
    DATE_LOOKUPS,
    STRING_LOOKUPS,
    TEXT_LOOKUPS,
    filterset_for,
    prefixed,
)
from core.gql.types import (
    BUSINESS_MODEL_FIELDS,
    HISTORY_MODEL_FIELDS,
    HistoricalRecordType,
    HistoryModelType,
)
from core.rights import has_rights
from social_protection.models import (
    BenefitPlan,
    BenefitPlanDataUploadRecords,
    Beneficiary,
    GroupBeneficiary,
)

PLAN_SEARCH = "social_protection.gql_benefit_plan_search_perms"
BENEFICIARY_SEARCH = "social_protection.gql_beneficiary_search_perms"
SCHEMA_SEARCH = "social_protection.gql_schema_search_perms"
PLAN_TEXT_LOOKUPS = ["exact", "iexact", "startswith", "istartswith", "contains", "icontains"]


def can_see_schema(info):
    """``beneficiary_data_schema`` and ``json_ext`` are null for users without right 171001 (spec §2.1)."""
    return has_rights(getattr(info.context, "user", None), SCHEMA_SEARCH)


def _guarded_json_ext(root, info):
    """``jsonExt`` (masked by the type's policy) for schema readers only."""
    return HistoryModelType.resolve_json_ext(root, info) if can_see_schema(info) else None


# --- benefit plans ----------------------------------------------------------------------------------
PLAN_FILTERS = {
    "id": ["exact"],
    **{field: PLAN_TEXT_LOOKUPS for field in ("code", "name", "institution", "description")},
    **{field: DATE_LOOKUPS for field in ("date_valid_from", "date_valid_to", "max_beneficiaries", "date_created",
                                         "date_updated")},
    "is_deleted": ["exact"],
    "version": ["exact"],
}
PLAN_FIELDS = (*BUSINESS_MODEL_FIELDS, "code", "name", "max_beneficiaries", "ceiling_per_beneficiary", "institution",
               "beneficiary_data_schema", "type", "description")


class _PlanFields:
    has_payment_plans = graphene.Boolean()

    @classmethod
    def hidden_fields(cls, info):
        return () if can_see_schema(info) else ("json_ext", "beneficiary_data_schema")

    resolve_json_ext = _guarded_json_ext

    def resolve_beneficiary_data_schema(root, info):
        return root.beneficiary_data_schema if can_see_schema(info) else None

    def resolve_has_payment_plans(root, info):
        # annotated by the list resolver when a payment module is installed; False otherwise
        return bool(getattr(root, "has_payment_plans_annotation", False))


class BenefitPlanGQLType(_PlanFields, HistoryModelType):
    read_perms = PLAN_SEARCH

    class Meta:
        model = BenefitPlan
        fields = PLAN_FIELDS
        filterset_class = filterset_for(BenefitPlan, {**PLAN_FILTERS, "type": PLAN_TEXT_LOOKUPS})


HistoricalBenefitPlan = BenefitPlan.history.model


class BenefitPlanHistoryGQLType(_PlanFields, HistoricalRecordType):
    read_perms = PLAN_SEARCH
    history_of = BenefitPlan

    class Meta:
        model = HistoricalBenefitPlan
        fields = (*PLAN_FIELDS, "history_date", "history_user")
        filterset_class = filterset_for(HistoricalBenefitPlan, PLAN_FILTERS)

    def resolve_id(root, info):
        return root.history_id  # a history row is its own node; ``uuid`` names the plan


# --- beneficiaries ----------------------------------------------------------------------------------
BENEFICIARY_FILTERS = {
    "id": ["exact"],
    "status": STRING_LOOKUPS,
    **{field: DATE_LOOKUPS for field in ("date_valid_from", "date_valid_to", "date_created", "date_updated")},
    "is_deleted": ["exact"],
    "version": ["exact"],
    **prefixed("benefit_plan", {"id": ["exact"], "code": TEXT_LOOKUPS, "name": TEXT_LOOKUPS, "type": ["exact"],
                                "is_deleted": ["exact"]}),
}
MEMBER_FILTERS = {"id": ["exact"], "date_created": DATE_LOOKUPS, "date_updated": DATE_LOOKUPS,
                  "is_deleted": ["exact"], "version": ["exact"]}
BENEFICIARY_FIELDS = (*BUSINESS_MODEL_FIELDS, "benefit_plan", "status")


def registry_type(model, field_name):
    """The GraphQL type of what ``model.field_name`` points to (the registry's type, without importing it)."""
    return get_global_registry().get_type_for_model(model._meta.get_field(field_name).related_model)


def joined(field_name):
    """A resolver reading the row joined with the page: access is by this module's right (spec §1.6), the
    row is not re-checked against its own type's rights."""
    return bypass_get_queryset(lambda root, info: getattr(root, field_name))


class _BeneficiaryType(HistoryModelType):
    """A (group) beneficiary; its plan comes with the row. Its ``member`` (individual or group) is read by the
    beneficiary right (spec §1.6: no registry right needed); the row itself is visible only when the registry's
    row security lets the caller see that individual or group (``restrict``, ``granted_relations``)."""

    read_perms = BENEFICIARY_SEARCH
    member = None

    is_eligible = graphene.Boolean()

    class Meta:
        abstract = True

    @classmethod
    def restrict(cls, queryset, user):
        """Row security (issue 10): a (group) beneficiary is visible when the registry's row security lets the
        caller see its individual (group) — lists, counts, filters, exports and ``node(id:)`` alike."""
        from individual.selectors import visible_group_ids, visible_individual_ids

        visible = (visible_group_ids if cls.member == "group" else visible_individual_ids)(user)
        return queryset if visible is None else queryset.filter(**{f"{cls.member}_id__in": visible})

    @classmethod
    def hidden_fields(cls, info):
        return () if can_see_schema(info) else ("json_ext",)

    resolve_benefit_plan = joined("benefit_plan")
    resolve_json_ext = _guarded_json_ext

    def resolve_is_eligible(root, info):
        return getattr(root, "is_eligible", None)


def member_field(model, member):
    """The registry row a (group) beneficiary is about (nullable: hidden by row security); resolved by core for
    ``granted_relations``."""
    return graphene.Field(lambda: registry_type(model, member))


def member_filterset(model, member, filters):
    return filterset_for(model, {**BENEFICIARY_FILTERS, **prefixed(member, {**MEMBER_FILTERS, **filters})})


class BeneficiaryGQLType(_BeneficiaryType):
    member, masking, granted_relations = "individual", "beneficiary", ("individual",)
    individual = member_field(Beneficiary, "individual")

    class Meta:
        model = Beneficiary
        fields = (*BENEFICIARY_FIELDS, "individual")
        filterset_class = member_filterset(Beneficiary, "individual", {
            "first_name": TEXT_LOOKUPS, "last_name": TEXT_LOOKUPS, "dob": DATE_LOOKUPS})


class GroupBeneficiaryGQLType(_BeneficiaryType):
    member, masking, granted_relations = "group", "group_beneficiary", ("group",)
    group = member_field(GroupBeneficiary, "group")

    class Meta:
        model = GroupBeneficiary
        fields = (*BENEFICIARY_FIELDS, "group")
        filterset_class = member_filterset(GroupBeneficiary, "group", {"code": TEXT_LOOKUPS})


# --- upload history ---------------------------------------------------------------------------------
class BenefitPlanDataUploadQGLType(HistoryModelType):
    read_perms = BENEFICIARY_SEARCH

    class Meta:
        model = BenefitPlanDataUploadRecords
        fields = (*HISTORY_MODEL_FIELDS, "data_upload", "benefit_plan", "workflow")
        filterset_class = filterset_for(BenefitPlanDataUploadRecords, {
            "id": ["exact"], "date_created": DATE_LOOKUPS, "date_updated": DATE_LOOKUPS, "is_deleted": ["exact"],
            "version": ["exact"], "workflow": PLAN_TEXT_LOOKUPS,
            **prefixed("data_upload", {"id": ["exact"], "source_name": TEXT_LOOKUPS, "source_type": TEXT_LOOKUPS,
                                       "status": TEXT_LOOKUPS}),
            **prefixed("benefit_plan", {"id": ["exact"], "code": TEXT_LOOKUPS})})

    resolve_benefit_plan = joined("benefit_plan")
    resolve_json_ext = _guarded_json_ext


class BenefitPlanSchemaFieldsGQLType(graphene.ObjectType):
    schema_fields = graphene.List(graphene.String)
