"""GraphQL queries of social_protection (mutations in gql_mutations.py)."""
import contextvars
import json

import graphene
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from core.custom_filters import CustomFilterRegistryPoint, custom_filter_q
from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.export import ExportableQueryMixin
from core.gql.mutation import mutation_fields
from core.gql_queries import ValidationMessageGQLType
from core.rights import require
from individual.selectors import members_prefetch
from social_protection import gql_mutations as mutations
from social_protection.gql_queries import (
    BENEFICIARY_SEARCH,
    PLAN_SEARCH,
    SCHEMA_SEARCH,
    BenefitPlanDataUploadQGLType,
    BenefitPlanGQLType,
    BenefitPlanHistoryGQLType,
    BenefitPlanSchemaFieldsGQLType,
    BeneficiaryGQLType,
    GroupBeneficiaryGQLType,
    HistoricalBenefitPlan,
)
from social_protection.models import BenefitPlan, BenefitPlanDataUploadRecords, Beneficiary, GroupBeneficiary
from social_protection.selectors import (
    annotate_eligibility,
    apply_custom_filters,
    filter_plans,
    refuse_masked_beneficiary_filters,
    with_payment_plans,
)
from social_protection.validation import schema_errors

BfTypeEnum = graphene.Enum("BfTypeEnum", [("INDIVIDUAL", "INDIVIDUAL"), ("GROUP", "GROUP")])
LIST_DENIED = "Unauthorized"  # spec §3.2: lists answer "Unauthorized", the validity queries "unauthorized"


def _plan_args():
    return dict(
        search=graphene.String(), individual_id=graphene.String(), group_id=graphene.String(),
        beneficiary_status=graphene.String(), sort_alphabetically=graphene.Boolean(),
        apply_default_validity_filter=graphene.Boolean(), client_mutation_id=graphene.String(),
    )


def _beneficiaries(info, model, custom_filters, is_eligible, filters, group=False):
    """(Group) beneficiaries, custom-filtered (spec §2.3), with their eligibility (spec §3.3)."""
    user = info.context.user
    require(user, BENEFICIARY_SEARCH, LIST_DENIED)
    # row security (the registry's, through the member) is the node type's: BeneficiaryGQLType.restrict
    try:
        queryset = apply_custom_filters(model.objects.all(), custom_filters, group=group, user=user)
    except ValidationError as exc:
        raise GraphQLError("; ".join(exc.messages))
    queryset = annotate_eligibility(queryset, filters.get("benefit_plan__id"), filters.get("status"), group=group)
    return queryset if is_eligible is None else queryset.filter(is_eligible=is_eligible)


def _validity(is_valid, message=None):
    return ValidationMessageGQLType(is_valid=is_valid, error_code=None if is_valid else 1,
                                    error_message=message)


class Query(ExportableQueryMixin, graphene.ObjectType):
    exportable_fields = ["beneficiary", "group_beneficiary"]
    # columns of the registry row and the plan (``individual.first_name``, ``group.code``): masked by their own
    # type's policy, under the registry's row security (core.gql.export)
    export_relations = {"beneficiary": ["individual", "benefit_plan"], "group_beneficiary": ["group", "benefit_plan"]}

    benefit_plan = OrderedDjangoFilterConnectionField(BenefitPlanGQLType, **_plan_args())
    benefit_plan_history = OrderedDjangoFilterConnectionField(BenefitPlanHistoryGQLType, **_plan_args())
    beneficiary = OrderedDjangoFilterConnectionField(
        BeneficiaryGQLType, custom_filters=graphene.List(of_type=graphene.String), is_eligible=graphene.Boolean(),
        client_mutation_id=graphene.String())
    group_beneficiary = OrderedDjangoFilterConnectionField(
        GroupBeneficiaryGQLType, custom_filters=graphene.List(of_type=graphene.String),
        is_eligible=graphene.Boolean(), client_mutation_id=graphene.String())
    beneficiary_data_upload_history = OrderedDjangoFilterConnectionField(BenefitPlanDataUploadQGLType)
    bf_code_validity = graphene.Field(ValidationMessageGQLType, bf_code=graphene.String(required=True))
    bf_name_validity = graphene.Field(ValidationMessageGQLType, bf_name=graphene.String(required=True))
    bf_schema_validity = graphene.Field(ValidationMessageGQLType, bf_schema=graphene.String(required=True))
    benefit_plan_schema_field = graphene.Field(BenefitPlanSchemaFieldsGQLType, bf_type=graphene.Argument(BfTypeEnum))

    # --- plans ---
    def resolve_benefit_plan(self, info, client_mutation_id=None, search=None, individual_id=None, group_id=None,
                             beneficiary_status=None, sort_alphabetically=None, apply_default_validity_filter=None,
                             **kwargs):
        require(info.context.user, PLAN_SEARCH, LIST_DENIED)
        queryset = BenefitPlan.objects.all()
        if client_mutation_id:
            queryset = queryset.filter(mutations__mutation__client_mutation_id=client_mutation_id,
                                       mutations__mutation__user=info.context.user)
        queryset = filter_plans(queryset, search, individual_id, group_id, beneficiary_status,
                                sort_alphabetically, apply_default_validity_filter)
        return with_payment_plans(queryset).select_related("user_updated")

    def resolve_benefit_plan_history(self, info, client_mutation_id=None, search=None, individual_id=None,
                                     group_id=None, beneficiary_status=None, sort_alphabetically=None,
                                     apply_default_validity_filter=None, **kwargs):
        require(info.context.user, PLAN_SEARCH, LIST_DENIED)
        queryset = filter_plans(HistoricalBenefitPlan.objects.all(), search, individual_id, group_id,
                                beneficiary_status, sort_alphabetically, apply_default_validity_filter, history=True)
        return with_payment_plans(queryset, plan_ref="id").select_related("user_updated")

    # --- beneficiaries ---
    def resolve_beneficiary(self, info, custom_filters=None, is_eligible=None, client_mutation_id=None, **kwargs):
        # the individuals come with the page; core shows each only if the registry's row security lets the
        # caller see it (BeneficiaryGQLType.granted_relations: one query per page for a restricted caller)
        queryset = _beneficiaries(info, Beneficiary, custom_filters, is_eligible, kwargs)
        return _finish_for_export(queryset.select_related("individual"), info.context.user)

    def resolve_group_beneficiary(self, info, custom_filters=None, is_eligible=None, client_mutation_id=None,
                                  **kwargs):
        # the groups and their heads come with the page (access by the beneficiary right, spec §1.6); a group
        # the caller's row security hides is null, and its members with it (a membership is visible by its group)
        queryset = _beneficiaries(info, GroupBeneficiary, custom_filters, is_eligible, kwargs, group=True)
        return _finish_for_export(queryset.select_related("group").prefetch_related(members_prefetch("group__")),
                                  info.context.user)

    def resolve_beneficiary_data_upload_history(self, info, **kwargs):
        require(info.context.user, BENEFICIARY_SEARCH, LIST_DENIED)
        return BenefitPlanDataUploadRecords.objects.select_related("data_upload", "data_upload__user_created")

    # --- validity checks ---
    def resolve_bf_code_validity(self, info, bf_code):
        require(info.context.user, PLAN_SEARCH)
        if BenefitPlan.objects.filter(code=bf_code, is_deleted=False).exists():
            return _validity(False, f"BenefitPlan code {bf_code} already exists")
        return _validity(True)

    def resolve_bf_name_validity(self, info, bf_name):
        require(info.context.user, PLAN_SEARCH)
        if BenefitPlan.objects.filter(name=bf_name, is_deleted=False).exists():
            return _validity(False, f"BenefitPlan name {bf_name} already exists")
        return _validity(True)

    def resolve_bf_schema_validity(self, info, bf_schema):
        require(info.context.user, PLAN_SEARCH)
        errors = schema_errors(bf_schema)
        return _validity(not errors, "; ".join(errors) if errors else None)

    def resolve_benefit_plan_schema_field(self, info, bf_type=None):
        require(info.context.user, SCHEMA_SEARCH)
        plans = BenefitPlan.objects.filter(is_deleted=False, beneficiary_data_schema__isnull=False)
        if bf_type is not None:
            plans = plans.filter(type=getattr(bf_type, "value", bf_type))
        fields = set()
        for schema in plans.values_list("beneficiary_data_schema", flat=True):
            if isinstance(schema, str):
                try:
                    schema = json.loads(schema)
                except ValueError:
                    continue
            properties = schema.get("properties") if isinstance(schema, dict) else None
            if isinstance(properties, dict):
                fields.update(f"json_ext__{key}" for key in properties)
        return BenefitPlanSchemaFieldsGQLType(schema_fields=sorted(fields))


Mutation = mutation_fields(
    mutations.CreateBenefitPlanMutation, mutations.UpdateBenefitPlanMutation, mutations.DeleteBenefitPlanMutation,
    mutations.CloseBenefitPlanMutation, mutations.CreateBeneficiaryMutation, mutations.UpdateBeneficiaryMutation,
    mutations.DeleteBeneficiaryMutation, mutations.CreateGroupBeneficiaryMutation,
    mutations.UpdateGroupBeneficiaryMutation, mutations.DeleteGroupBeneficiaryMutation,
)


# --- exports ------------------------------------------------------------------------------------------
# Set while a group-beneficiary export runs its list resolver in "group" mode (spec §3.4): that changes how
# the list itself filters, so it cannot be an export patch applied afterwards.
_EXPORT = contextvars.ContextVar("social_protection_export", default=None)
GROUP_ID_FIELD = "group__id"


def _refers_to_group_id(columns, fields):
    """Spec §3.4: the export's field mapping (``fieldsColumns`` keys, or the fields) names ``group__id``."""
    names = list(columns or {}) + list(fields or [])
    return any(str(name).replace(".", "__") == GROUP_ID_FIELD for name in names)


def _group_json_filtered(queryset, custom_filters, user):
    """Spec §3.4: custom filters through individual's ``GroupIndividual`` wizard on relation ``group``
    (the group's own ``json_ext``, a copy of its head's: masked by the registry's policy), instead of the
    any-member semantics of the list."""
    wizards = CustomFilterRegistryPoint.wizards("individual", "GroupIndividual")
    try:
        refuse_masked_beneficiary_filters(custom_filters, user, group=True)
        if wizards:
            for wizard in wizards:
                queryset = wizard().apply_filter_to_queryset(custom_filters, queryset, relation="group")
            return queryset
        return queryset.filter(custom_filter_q(custom_filters, relation="group")).distinct()
    except ValidationError as exc:
        raise GraphQLError("; ".join(exc.messages))


def _finish_for_export(queryset, user):
    """Group-mode custom filters of a running group-beneficiary export (no-op for lists)."""
    state = _EXPORT.get()
    if state and state.get("group_custom_filters"):
        queryset = _group_json_filtered(queryset, state["group_custom_filters"], user)
    return queryset


def _export_resolver(list_name, resolver):
    def resolve(root, info, fields_columns=None, fields=None, custom_filters=None, **kwargs):
        try:
            columns = json.loads(fields_columns) if fields_columns else None
        except ValueError:
            columns = None
        group_mode = (list_name == "group_beneficiary" and bool(custom_filters)
                      and _refers_to_group_id(columns if isinstance(columns, dict) else None, fields))
        token = _EXPORT.set({"group_custom_filters": custom_filters if group_mode else None})
        try:
            return resolver(root, info, fields_columns=fields_columns, fields=fields,
                            custom_filters=None if group_mode else custom_filters, **kwargs)
        finally:
            _EXPORT.reset(token)

    return staticmethod(resolve)


# spec §6 masking of exports: core masks every JSON column by its owning type's policy, after every filter
for _name in Query.exportable_fields:
    setattr(Query, f"resolve_{_name}_export", _export_resolver(_name, getattr(Query, f"resolve_{_name}_export")))
