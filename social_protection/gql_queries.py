"""GraphQL types and filters of social_protection."""
import graphene
from graphene_django import DjangoObjectType

from core.gql.connection import ExtendedConnection
from core.gql.node import NodeRightsMixin
from individual.gql_queries import BaseFilterSet, GroupGQLType, IndividualGQLType  # UUID filters typed ID
from social_protection.apps import SocialProtectionConfig
from social_protection.masking import mask_for
from social_protection.models import (
    BenefitPlan,
    BenefitPlanDataUploadRecords,
    Beneficiary,
    GroupBeneficiary,
)

TEXT_LOOKUPS = ["exact", "iexact", "startswith", "istartswith", "contains", "icontains"]
SHORT_TEXT_LOOKUPS = ["iexact", "istartswith", "icontains"]
RANGE_LOOKUPS = ["exact", "lt", "lte", "gt", "gte"]


def can_see_schema(info):
    """``beneficiary_data_schema`` and ``json_ext`` are null for users without right 171001 (spec §2.1)."""
    user = getattr(info.context, "user", None)
    return bool(user and user.is_authenticated and user.has_perms(SocialProtectionConfig.gql_schema_search_perms))


class SchemaGuardMixin:
    def resolve_json_ext(self, info):
        return self.json_ext if can_see_schema(info) else None


# --- benefit plans ----------------------------------------------------------------------------------
PLAN_FILTERS = {
    "id": ["exact"],
    "code": TEXT_LOOKUPS,
    "name": TEXT_LOOKUPS,
    "institution": TEXT_LOOKUPS,
    "description": TEXT_LOOKUPS,
    "date_valid_from": RANGE_LOOKUPS,
    "date_valid_to": RANGE_LOOKUPS,
    "max_beneficiaries": RANGE_LOOKUPS,
    "date_created": RANGE_LOOKUPS,
    "date_updated": RANGE_LOOKUPS,
    "is_deleted": ["exact"],
    "version": ["exact"],
}


class BenefitPlanFilter(BaseFilterSet):
    class Meta:
        model = BenefitPlan
        fields = {**PLAN_FILTERS, "type": TEXT_LOOKUPS}


class _PlanFieldsMixin(SchemaGuardMixin):
    def resolve_beneficiary_data_schema(self, info):
        return self.beneficiary_data_schema if can_see_schema(info) else None

    def resolve_has_payment_plans(self, info):
        # annotated by the list resolver (payment_cycle installed); False otherwise
        return bool(getattr(self, "has_payment_plans_annotation", False))


PLAN_FIELDS = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
               "version", "date_valid_from", "date_valid_to", "replacement_uuid", "code", "name",
               "max_beneficiaries", "ceiling_per_beneficiary", "institution", "beneficiary_data_schema", "type",
               "description")


class BenefitPlanGQLType(NodeRightsMixin, _PlanFieldsMixin, DjangoObjectType):
    node_perms = staticmethod(lambda: SocialProtectionConfig.gql_benefit_plan_search_perms)

    uuid = graphene.String(source="uuid")
    has_payment_plans = graphene.Boolean()

    class Meta:
        model = BenefitPlan
        interfaces = (graphene.relay.Node,)
        fields = PLAN_FIELDS
        filterset_class = BenefitPlanFilter
        connection_class = ExtendedConnection


HistoricalBenefitPlan = BenefitPlan.history.model


class BenefitPlanHistoryFilter(BaseFilterSet):
    class Meta:
        model = HistoricalBenefitPlan
        fields = PLAN_FILTERS


class BenefitPlanHistoryGQLType(NodeRightsMixin, _PlanFieldsMixin, DjangoObjectType):
    node_perms = staticmethod(lambda: SocialProtectionConfig.gql_benefit_plan_search_perms)

    uuid = graphene.String()
    has_payment_plans = graphene.Boolean()

    class Meta:
        model = HistoricalBenefitPlan
        interfaces = (graphene.relay.Node,)
        fields = PLAN_FIELDS + ("history_date", "history_user")
        filterset_class = BenefitPlanHistoryFilter
        connection_class = ExtendedConnection

    def resolve_id(self, info):
        return self.history_id

    def resolve_uuid(self, info):
        return str(self.id)


# --- beneficiaries ----------------------------------------------------------------------------------
BENEFICIARY_COMMON_FILTERS = {
    "id": ["exact"],
    "status": ["exact", "iexact", "istartswith", "icontains"],
    "date_valid_from": RANGE_LOOKUPS,
    "date_valid_to": RANGE_LOOKUPS,
    "date_created": RANGE_LOOKUPS,
    "date_updated": RANGE_LOOKUPS,
    "is_deleted": ["exact"],
    "version": ["exact"],
    "benefit_plan__id": ["exact"],
    "benefit_plan__code": SHORT_TEXT_LOOKUPS,
    "benefit_plan__name": SHORT_TEXT_LOOKUPS,
    "benefit_plan__type": ["exact"],
    "benefit_plan__is_deleted": ["exact"],
}


class BeneficiaryFilter(BaseFilterSet):
    class Meta:
        model = Beneficiary
        fields = {
            **BENEFICIARY_COMMON_FILTERS,
            "individual__id": ["exact"],
            "individual__first_name": SHORT_TEXT_LOOKUPS,
            "individual__last_name": SHORT_TEXT_LOOKUPS,
            "individual__dob": RANGE_LOOKUPS,
            "individual__date_created": RANGE_LOOKUPS,
            "individual__date_updated": RANGE_LOOKUPS,
            "individual__is_deleted": ["exact"],
            "individual__version": ["exact"],
        }


def masked_json_ext(root, info, group):
    """Beneficiary ``jsonExt``: null without schema right 171001, else with the configured fields masked
    (``beneficiary_mask_fields`` / ``group_beneficiary_mask_fields``) unless the user holds 900101 (spec §6)."""
    if not can_see_schema(info):
        return None
    return mask_for(info.context.user, root.json_ext, group=group)


class _EligibilityMixin:
    def resolve_is_eligible(self, info):
        return getattr(self, "is_eligible", None)


BENEFICIARY_FIELDS = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created",
                      "user_updated", "version", "date_valid_from", "date_valid_to", "replacement_uuid",
                      "benefit_plan", "status")


class BeneficiaryGQLType(NodeRightsMixin, _EligibilityMixin, DjangoObjectType):
    node_perms = staticmethod(lambda: SocialProtectionConfig.gql_beneficiary_search_perms)

    uuid = graphene.String(source="uuid")
    is_eligible = graphene.Boolean()
    # access to a beneficiary is by right (spec §1.6): its individual is read from the joined row, not
    # re-queried per row through IndividualGQLType.get_queryset
    individual = graphene.Field(IndividualGQLType)

    class Meta:
        model = Beneficiary
        interfaces = (graphene.relay.Node,)
        fields = BENEFICIARY_FIELDS + ("individual",)
        filterset_class = BeneficiaryFilter
        connection_class = ExtendedConnection

    def resolve_individual(self, info):
        return self.individual

    def resolve_json_ext(self, info):
        return masked_json_ext(self, info, group=False)


class GroupBeneficiaryFilter(BaseFilterSet):
    class Meta:
        model = GroupBeneficiary
        fields = {
            **BENEFICIARY_COMMON_FILTERS,
            "group__id": ["exact"],
            "group__code": SHORT_TEXT_LOOKUPS,
            "group__date_created": RANGE_LOOKUPS,
            "group__date_updated": RANGE_LOOKUPS,
            "group__is_deleted": ["exact"],
            "group__version": ["exact"],
        }


class GroupBeneficiaryGQLType(NodeRightsMixin, _EligibilityMixin, DjangoObjectType):
    node_perms = staticmethod(lambda: SocialProtectionConfig.gql_beneficiary_search_perms)

    uuid = graphene.String(source="uuid")
    is_eligible = graphene.Boolean()
    group = graphene.Field(GroupGQLType)

    class Meta:
        model = GroupBeneficiary
        interfaces = (graphene.relay.Node,)
        fields = BENEFICIARY_FIELDS + ("group",)
        filterset_class = GroupBeneficiaryFilter
        connection_class = ExtendedConnection

    def resolve_group(self, info):
        return self.group

    def resolve_json_ext(self, info):
        return masked_json_ext(self, info, group=True)


# --- upload history ---------------------------------------------------------------------------------
class BenefitPlanDataUploadFilter(BaseFilterSet):
    class Meta:
        model = BenefitPlanDataUploadRecords
        fields = {
            "id": ["exact"],
            "date_created": RANGE_LOOKUPS,
            "date_updated": RANGE_LOOKUPS,
            "is_deleted": ["exact"],
            "version": ["exact"],
            "workflow": TEXT_LOOKUPS,
            "data_upload__id": ["exact"],
            "data_upload__source_name": SHORT_TEXT_LOOKUPS,
            "data_upload__source_type": SHORT_TEXT_LOOKUPS,
            "data_upload__status": SHORT_TEXT_LOOKUPS,
            "benefit_plan__id": ["exact"],
            "benefit_plan__code": SHORT_TEXT_LOOKUPS,
        }


class BenefitPlanDataUploadQGLType(NodeRightsMixin, SchemaGuardMixin, DjangoObjectType):
    node_perms = staticmethod(lambda: SocialProtectionConfig.gql_beneficiary_search_perms)

    uuid = graphene.String(source="uuid")

    class Meta:
        model = BenefitPlanDataUploadRecords
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "data_upload", "benefit_plan", "workflow")
        filterset_class = BenefitPlanDataUploadFilter
        connection_class = ExtendedConnection


class BenefitPlanSchemaFieldsGQLType(graphene.ObjectType):
    schema_fields = graphene.List(graphene.String)
