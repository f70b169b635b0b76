"""GraphQL queries and mutations of the individual registry."""

import graphene
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from graphql import GraphQLError

from core.custom_filters import CustomFilterRegistryPoint, custom_filter_q
from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.export import ExportableQueryMixin
from individual.apps import IndividualConfig
from individual.custom_filters import GroupCustomFilterWizard, GroupIndividualCustomFilterWizard, \
    IndividualCustomFilterWizard
from individual.gql_mutations import (
    AddIndividualToGroupMutation,
    ConfirmGroupEnrollmentMutation,
    ConfirmIndividualEnrollmentMutation,
    CreateGroupAndMoveIndividualMutation,
    CreateGroupIndividualsMutation,
    CreateGroupMutation,
    CreateIndividualMutation,
    DeleteGroupMutation,
    DeleteIndividualMutation,
    EditIndividualInGroupMutation,
    RemoveIndividualFromGroupMutation,
    UndoDeleteIndividualMutation,
    UpdateGroupMutation,
    UpdateIndividualMutation,
)
from individual.gql_queries import (
    GlobalSchemaType,
    GroupDataSourceGQLType,
    GroupGQLType,
    GroupHistoryGQLType,
    GroupIndividualGQLType,
    GroupIndividualHistoryGQLType,
    GroupSummaryEnrollmentGQLType,
    HistoricalGroup,
    HistoricalGroupIndividual,
    HistoricalIndividual,
    IndividualDataSourceGQLType,
    IndividualDataSourceUploadGQLType,
    IndividualDataUploadQGLType,
    IndividualGQLType,
    IndividualHistoryGQLType,
    IndividualSummaryEnrollmentGQLType,
    parse_uuid,
)
from individual.masking import mask_queryset
from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
    IndividualDataUploadRecords,
)
from individual.services import groups_selectable, individuals_without_group

CustomFilterRegistryPoint.register_custom_filters(
    "individual", [IndividualCustomFilterWizard, GroupCustomFilterWizard, GroupIndividualCustomFilterWizard])


def require_rights(user, perms):
    """List queries: anonymous or missing right → GraphQL error exactly ``Unauthorized`` (spec §1)."""
    if not user or not user.is_authenticated or not user.has_perms(perms):
        raise PermissionDenied("Unauthorized")


def _custom_filtered(queryset, custom_filters, relation=None):
    if not custom_filters:
        return queryset
    try:
        return queryset.filter(custom_filter_q(custom_filters, relation=relation))
    except ValidationError as exc:
        raise GraphQLError("; ".join(exc.messages))


def _beneficiary_ids(model_name, field, benefit_plan_id):
    """Ids (subquery) of individuals/groups that are non-deleted beneficiaries of the plan."""
    if not apps.is_installed("social_protection"):
        return None
    model = apps.get_model("social_protection", model_name)
    return model.objects.filter(benefit_plan_id=benefit_plan_id, is_deleted=False).values(field)


def _plan_uuid(value):
    parsed = parse_uuid(value)
    if value and parsed is None:
        raise GraphQLError(f"Invalid benefit plan id {value}")
    return parsed


def _client_mutation_filter(queryset, client_mutation_id):
    if client_mutation_id:
        return queryset.filter(mutations__mutation__client_mutation_id=client_mutation_id)
    return queryset


def _membership_prefetch(user, to_attr, related):
    memberships = GroupIndividual.get_queryset(GroupIndividual.objects.filter(is_deleted=False), user)
    return Prefetch("groupindividual_set", queryset=memberships.select_related(related).order_by("date_created", "id"),
                    to_attr=to_attr)


class Query(ExportableQueryMixin, graphene.ObjectType):
    exportable_fields = ["individual", "group", "group_individual"]

    individual = OrderedDjangoFilterConnectionField(
        IndividualGQLType,
        client_mutation_id=graphene.String(),
        group_id=graphene.String(),
        benefit_plan_id=graphene.String(),
        benefit_plan_to_enroll=graphene.String(),
        filter_not_attached_to_group=graphene.Boolean(),
        custom_filters=graphene.List(graphene.String),
        apply_default_validity_filter=graphene.Boolean(),
    )
    individual_history = OrderedDjangoFilterConnectionField(
        IndividualHistoryGQLType, group_id=graphene.String(), apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
    )
    individual_data_source = OrderedDjangoFilterConnectionField(
        IndividualDataSourceGQLType, apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
    )
    individual_data_source_upload = OrderedDjangoFilterConnectionField(
        IndividualDataSourceUploadGQLType, apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
    )
    individual_data_upload_history = OrderedDjangoFilterConnectionField(
        IndividualDataUploadQGLType, apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
    )
    group_data_source = OrderedDjangoFilterConnectionField(
        GroupDataSourceGQLType, apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
    )
    group = OrderedDjangoFilterConnectionField(
        GroupGQLType,
        client_mutation_id=graphene.String(),
        first_name=graphene.String(),
        last_name=graphene.String(),
        benefit_plan_to_enroll=graphene.String(),
        custom_filters=graphene.List(graphene.String),
        apply_default_validity_filter=graphene.Boolean(),
    )
    group_history = OrderedDjangoFilterConnectionField(
        GroupHistoryGQLType, apply_default_validity_filter=graphene.Boolean(), client_mutation_id=graphene.String(),
    )
    group_individual = OrderedDjangoFilterConnectionField(
        GroupIndividualGQLType, apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(), custom_filters=graphene.List(graphene.String),
    )
    group_individual_history = OrderedDjangoFilterConnectionField(
        GroupIndividualHistoryGQLType, apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
    )
    individual_enrollment_summary = graphene.Field(
        IndividualSummaryEnrollmentGQLType,
        custom_filters=graphene.List(graphene.String), benefit_plan_id=graphene.String(),
    )
    group_enrollment_summary = graphene.Field(
        GroupSummaryEnrollmentGQLType,
        custom_filters=graphene.List(graphene.String), benefit_plan_id=graphene.String(),
    )
    global_schema = graphene.Field(GlobalSchemaType)

    # --- individuals --------------------------------------------------------------------------
    def resolve_individual(self, info, client_mutation_id=None, group_id=None, benefit_plan_id=None,
                           benefit_plan_to_enroll=None, filter_not_attached_to_group=None, custom_filters=None,
                           **kwargs):
        user = info.context.user
        require_rights(user, IndividualConfig.gql_individual_search_perms)
        queryset = Individual.objects.all()
        if group_id:
            parsed = parse_uuid(group_id)
            if parsed is None:
                return Individual.objects.none()
            queryset = queryset.filter(groupindividual__group_id=parsed, groupindividual__is_deleted=False)
        if benefit_plan_id:
            ids = _beneficiary_ids("Beneficiary", "individual_id", _plan_uuid(benefit_plan_id))
            queryset = queryset.filter(id__in=ids) if ids is not None else queryset.none()
        if benefit_plan_to_enroll:
            ids = _beneficiary_ids("Beneficiary", "individual_id", _plan_uuid(benefit_plan_to_enroll))
            queryset = queryset.filter(is_deleted=False)
            if ids is not None:
                queryset = queryset.exclude(id__in=ids)
        if filter_not_attached_to_group:
            queryset = queryset.filter(groupindividual__isnull=True)
        queryset = _custom_filtered(queryset, custom_filters)
        queryset = _client_mutation_filter(queryset, client_mutation_id)
        if group_id or client_mutation_id:
            queryset = queryset.distinct()
        return queryset.select_related("user_updated").prefetch_related(
            _membership_prefetch(user, "active_memberships", "group"))

    def resolve_individual_history(self, info, group_id=None, client_mutation_id=None, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_individual_search_perms)
        return HistoricalIndividual.objects.select_related("user_updated")

    def resolve_individual_data_source(self, info, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_individual_search_perms)
        return IndividualDataSource.objects.all()

    def resolve_individual_data_source_upload(self, info, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_individual_search_perms)
        return IndividualDataSourceUpload.objects.all()

    def resolve_individual_data_upload_history(self, info, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_individual_search_perms)
        return IndividualDataUploadRecords.objects.select_related("data_upload", "user_created")

    def resolve_group_data_source(self, info, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_individual_search_perms)
        return GroupDataSource.objects.all()

    # --- groups -------------------------------------------------------------------------------
    def resolve_group(self, info, client_mutation_id=None, first_name=None, last_name=None,
                      benefit_plan_to_enroll=None, custom_filters=None, **kwargs):
        user = info.context.user
        require_rights(user, IndividualConfig.gql_group_search_perms)
        queryset = Group.objects.all()
        member_q = Q()
        if first_name:
            member_q &= Q(individual__first_name__icontains=first_name)
        if last_name:
            member_q &= Q(individual__last_name__icontains=last_name)
        if member_q:
            queryset = queryset.filter(id__in=GroupIndividual.objects.filter(
                member_q, is_deleted=False).values("group_id"))
        if benefit_plan_to_enroll:
            ids = _beneficiary_ids("GroupBeneficiary", "group_id", _plan_uuid(benefit_plan_to_enroll))
            queryset = queryset.filter(is_deleted=False)
            if ids is not None:
                queryset = queryset.exclude(id__in=ids)
        queryset = _custom_filtered(queryset, custom_filters)
        queryset = _client_mutation_filter(queryset, client_mutation_id)
        if client_mutation_id:
            queryset = queryset.distinct()
        return queryset.select_related("user_updated").prefetch_related(
            _membership_prefetch(user, "active_members", "individual"))

    def resolve_group_history(self, info, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_group_search_perms)
        return HistoricalGroup.objects.select_related("user_updated")

    def resolve_group_individual(self, info, custom_filters=None, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_group_search_perms)
        if parse_uuid(kwargs.get("group__id")) is None:
            return GroupIndividual.objects.none()  # upstream: the member list needs a valid group id
        queryset = _custom_filtered(GroupIndividual.objects.all(), custom_filters)
        return queryset.select_related("individual", "group")

    def resolve_group_individual_history(self, info, **kwargs):
        require_rights(info.context.user, IndividualConfig.gql_group_search_perms)
        return HistoricalGroupIndividual.objects.select_related("user_updated")

    # --- enrolment summaries --------------------------------------------------------------------
    def resolve_individual_enrollment_summary(self, info, custom_filters=None, benefit_plan_id=None):
        require_rights(info.context.user, IndividualConfig.gql_individual_search_perms)
        try:
            selected = individuals_without_group(custom_filters)
        except ValidationError as exc:
            raise GraphQLError("; ".join(exc.messages))
        return IndividualSummaryEnrollmentGQLType(**_summary(
            selected, Individual.objects.filter(is_deleted=False), "Beneficiary", "individual_id",
            benefit_plan_id, "individuals"))

    def resolve_group_enrollment_summary(self, info, custom_filters=None, benefit_plan_id=None):
        require_rights(info.context.user, IndividualConfig.gql_group_search_perms)
        try:
            selected = groups_selectable(custom_filters)
        except ValidationError as exc:
            raise GraphQLError("; ".join(exc.messages))
        return GroupSummaryEnrollmentGQLType(**_summary(
            selected, Group.objects.filter(is_deleted=False), "GroupBeneficiary", "group_id",
            benefit_plan_id, "groups"))

    def resolve_global_schema(self, info):
        # no right (spec "—"), but like every other query it needs a logged-in user: the schema describes
        # the personal attributes collected and is not for anonymous callers
        user = info.context.user
        if not user or not user.is_authenticated:
            raise PermissionDenied("Unauthorized")
        return GlobalSchemaType(schema=IndividualConfig.get_individual_schema())


# --- exports: masking (spec §3) ------------------------------------------------------------------
# JSON columns of each export that carry individual attributes: what the GraphQL types mask too. Core applies
# ``export_patches`` last, to the filtered and row-secured queryset, just before the file is written.
MASKED_EXPORT_COLUMNS = {
    "individual": ("json_ext",),
    "group": ("json_ext",),  # a group's json_ext mirrors its head's attributes
    "group_individual": ("json_ext", "individual__json_ext"),
}


def _mask_patch(columns):
    def patch(queryset, info):
        return mask_queryset(queryset, getattr(info.context, "user", None), columns)

    return patch


Query.export_patches = {name: [_mask_patch(columns)] for name, columns in MASKED_EXPORT_COLUMNS.items()}


def _summary(selected, total, beneficiary_model, field, benefit_plan_id, noun):
    number_selected = selected.count()
    if apps.is_installed("social_protection"):
        model = apps.get_model("social_protection", beneficiary_model)
        any_plan = model.objects.filter(is_deleted=False).values(field)
        not_assigned = selected.exclude(id__in=any_plan).count()
        if benefit_plan_id:
            plan = _plan_uuid(benefit_plan_id)
            in_plan = selected.filter(id__in=model.objects.filter(
                is_deleted=False, benefit_plan_id=plan).values(field)).count()
        else:
            in_plan = 0
    else:
        not_assigned, in_plan = number_selected, 0
    return {
        f"number_of_selected_{noun}": str(number_selected),
        f"total_number_of_{noun}": str(total.count()),
        f"number_of_{noun}_not_assigned_to_programme": str(not_assigned),
        f"number_of_{noun}_assigned_to_programme": str(number_selected - not_assigned),
        f"number_of_{noun}_assigned_to_selected_programme": str(in_plan),
        f"number_of_{noun}_to_upload": str(number_selected - in_plan),
    }


class Mutation(graphene.ObjectType):
    create_individual = CreateIndividualMutation.Field()
    update_individual = UpdateIndividualMutation.Field()
    delete_individual = DeleteIndividualMutation.Field()
    undo_delete_individual = UndoDeleteIndividualMutation.Field()
    create_group = CreateGroupMutation.Field()
    update_group = UpdateGroupMutation.Field()
    delete_group = DeleteGroupMutation.Field()
    add_individual_to_group = AddIndividualToGroupMutation.Field()
    edit_individual_in_group = EditIndividualInGroupMutation.Field()
    remove_individual_from_group = RemoveIndividualFromGroupMutation.Field()
    create_group_individuals = CreateGroupIndividualsMutation.Field()
    create_group_and_move_individual = CreateGroupAndMoveIndividualMutation.Field()
    confirm_individual_enrollment = ConfirmIndividualEnrollmentMutation.Field()
    confirm_group_enrollment = ConfirmGroupEnrollmentMutation.Field()
