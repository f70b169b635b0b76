"""GraphQL queries and mutations of the individual registry."""
import uuid

import graphene
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLError

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.export import ExportableQueryMixin
from core.gql.filters import parse_uuid
from core.gql.mutation import mutation_fields
from core.rights import require
from individual.apps import IndividualConfig
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
    GROUP_SEARCH,
    INDIVIDUAL_SEARCH,
    GlobalSchemaType,
    GroupDataSourceGQLType,
    GroupGQLType,
    GroupHistoryGQLType,
    GroupIndividualGQLType,
    GroupIndividualHistoryGQLType,
    GroupSummaryEnrollmentGQLType,
    IndividualDataSourceGQLType,
    IndividualDataSourceUploadGQLType,
    IndividualDataUploadQGLType,
    IndividualGQLType,
    IndividualHistoryGQLType,
    IndividualSummaryEnrollmentGQLType,
)
from individual.models import Group, GroupIndividual, Individual, IndividualDataSource
from individual.selectors import groups_selectable, individuals_without_group, registry_filtered
from individual.services import UploadStatus, apply_group_filters, enrolment_selection_of_upload, programmes

LIST_DENIED = "Unauthorized"  # spec §1: a list refused reads exactly this


def _custom_filtered(queryset, custom_filters, user, relation=None):
    """Custom filters on the registry's JSON; one on an attribute masked for ``user`` is refused (issue 10)."""
    try:
        return registry_filtered(queryset, custom_filters, user, relation=relation)
    except ValidationError as exc:
        raise GraphQLError("; ".join(exc.messages))


def _plan_uuid(value):
    parsed = parse_uuid(value)
    if value and parsed is None:
        raise GraphQLError(f"Invalid benefit plan id {value}")
    return parsed


def _client_mutation_filter(queryset, client_mutation_id):
    if client_mutation_id:
        return queryset.filter(mutations__mutation__client_mutation_id=client_mutation_id)
    return queryset


def _list_of(node_type, *related):
    """The resolver of a list that only needs its type's right (filters, order and row security come with the
    type), joined with ``related``."""

    def resolve(root, info, **kwargs):
        require(info.context.user, node_type.read_perms, LIST_DENIED)
        queryset = node_type._meta.model.objects.all()
        return queryset.select_related(*related) if related else queryset

    return resolve


def _history_list(**extra):
    return dict(apply_default_validity_filter=graphene.Boolean(), client_mutation_id=graphene.String(), **extra)


# --- the people of an enrolment by criteria, listed as its upload's data sources ---------------------------
class _PendingEnrolmentRows:
    """The people a waiting enrolment by criteria would enrol, as unsaved ``IndividualDataSource`` rows of its
    upload: a lazy sequence (slicing reads one page, ``len`` one COUNT) that the connection pages like a list."""

    def __init__(self, upload, selection, people):
        self.upload, self.selection, self.people = upload, selection, people

    def __len__(self):
        return self.people.count()

    def __getitem__(self, item):
        if isinstance(item, slice):
            return _PendingEnrolmentRows(self.upload, self.selection, self.people[item])
        return self._row(self.people[item])

    def __iter__(self):
        return (self._row(person) for person in self.people)

    def _row(self, person):
        """The person as an unsaved data source of the upload (a stable id per upload and person)."""
        snapshot, maker = self.selection.snapshot, self.selection.user_id
        row = IndividualDataSource(
            id=uuid.uuid5(self.upload.id, str(person.id)), upload=self.upload, individual=person,
            json_ext=person.json_ext, validations={}, is_deleted=False, date_created=snapshot, date_updated=snapshot,
            version=1, user_created_id=maker, user_updated_id=maker)
        row._state.adding = False
        return row


_DATA_SOURCE_FILTERS_OF_A_PERSON = "individual__"


def _pending_enrolment_rows(info, kwargs):
    """For ``upload__id`` naming an enrolment by criteria that waits for approval, its people (the caller's row
    security applies on top of the maker's) filtered by the ``individual__*`` filters; None for any other list.
    Other filters have no meaning for rows that are not stored and are refused."""
    upload_id = parse_uuid(kwargs.get("upload__id"))
    if upload_id is None:
        return None
    upload, selection = enrolment_selection_of_upload(upload_id)
    if selection is None:
        return None
    paging = {"first", "last", "after", "before", "offset", "order_by", "orderBy", "upload__id"}
    people = Individual.objects.none()
    if upload.status == UploadStatus.WAITING_FOR_VERIFICATION:
        people = Individual.get_queryset(selection.people(), info.context.user)
    for name, value in kwargs.items():
        if name in paging or value is None:
            continue
        if name in ("is_deleted", "individual__isnull", "individual__id__isnull"):
            if value:  # the rows served are not deleted and each has its person
                people = Individual.objects.none()
        elif name.startswith(_DATA_SOURCE_FILTERS_OF_A_PERSON):
            lookup = name[len(_DATA_SOURCE_FILTERS_OF_A_PERSON):]
            if lookup == "id":
                value = parse_uuid(value)
                if value is None:
                    people = Individual.objects.none()
                    continue
            people = people.filter(**{lookup: value})
        else:
            raise GraphQLError(f"{to_camel_case(name)} cannot filter an enrolment by criteria: its rows are not "
                               "stored (filter on individual fields)")
    return _PendingEnrolmentRows(upload, selection, people.order_by("last_name", "first_name", "id"))


class _DataSourceConnectionField(OrderedDjangoFilterConnectionField):
    """The data-source list: a waiting enrolment by criteria is served from its stored selection (rights, row
    security and filters applied by the resolver), every other upload from its stored rows."""

    @classmethod
    def resolve_queryset(cls, connection, iterable, info, args, filtering_args, filterset_class):
        if isinstance(iterable, _PendingEnrolmentRows):
            return iterable
        return super().resolve_queryset(connection, iterable, info, args, filtering_args, filterset_class)


class Query(ExportableQueryMixin, graphene.ObjectType):
    exportable_fields = ["individual", "group", "group_individual"]
    export_relations = {"group_individual": ["individual", "group"]}  # a membership's individual and group columns

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
    individual_history = OrderedDjangoFilterConnectionField(IndividualHistoryGQLType,
                                                            **_history_list(group_id=graphene.String()))
    individual_data_source = _DataSourceConnectionField(IndividualDataSourceGQLType, **_history_list())
    individual_data_source_upload = OrderedDjangoFilterConnectionField(IndividualDataSourceUploadGQLType,
                                                                       **_history_list())
    individual_data_upload_history = OrderedDjangoFilterConnectionField(IndividualDataUploadQGLType,
                                                                        **_history_list())
    group_data_source = OrderedDjangoFilterConnectionField(GroupDataSourceGQLType, **_history_list())
    group = OrderedDjangoFilterConnectionField(
        GroupGQLType,
        client_mutation_id=graphene.String(),
        first_name=graphene.String(),
        last_name=graphene.String(),
        benefit_plan_to_enroll=graphene.String(),
        custom_filters=graphene.List(graphene.String),
        apply_default_validity_filter=graphene.Boolean(),
        additional_filter=graphene.JSONString(),
    )
    group_history = OrderedDjangoFilterConnectionField(GroupHistoryGQLType, **_history_list())
    group_individual = OrderedDjangoFilterConnectionField(
        GroupIndividualGQLType, custom_filters=graphene.List(graphene.String), **_history_list())
    group_individual_history = OrderedDjangoFilterConnectionField(GroupIndividualHistoryGQLType, **_history_list())
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
        require(info.context.user, INDIVIDUAL_SEARCH, LIST_DENIED)
        queryset = Individual.objects.all()
        if group_id:
            parsed = parse_uuid(group_id)
            if parsed is None:
                return Individual.objects.none()
            queryset = queryset.filter(groupindividual__group_id=parsed, groupindividual__is_deleted=False)
        if benefit_plan_id:
            queryset = queryset.filter(id__in=programmes().individual_ids(_plan_uuid(benefit_plan_id)))
        if benefit_plan_to_enroll:
            queryset = queryset.filter(is_deleted=False).exclude(
                id__in=programmes().individual_ids(_plan_uuid(benefit_plan_to_enroll)))
        if filter_not_attached_to_group:
            queryset = queryset.filter(groupindividual__isnull=True)
        queryset = _custom_filtered(queryset, custom_filters, info.context.user)
        queryset = _client_mutation_filter(queryset, client_mutation_id)
        if group_id or client_mutation_id:
            queryset = queryset.distinct()
        return queryset.select_related("user_updated")

    resolve_individual_history = _list_of(IndividualHistoryGQLType, "user_updated")

    def resolve_individual_data_source(self, info, **kwargs):
        """The rows of an upload. An enrolment by criteria waiting for approval stores no rows: its upload's
        list answers the people the approval would enrol (the stored selection re-run, paged), as unsaved data
        sources of the upload whose ``individual`` is the person (a group's HEAD for a group enrolment)."""
        require(info.context.user, IndividualDataSourceGQLType.read_perms, LIST_DENIED)
        pending = _pending_enrolment_rows(info, kwargs)
        return pending if pending is not None else IndividualDataSource.objects.all()

    resolve_individual_data_source_upload = _list_of(IndividualDataSourceUploadGQLType)
    resolve_group_data_source = _list_of(GroupDataSourceGQLType)
    resolve_individual_data_upload_history = _list_of(IndividualDataUploadQGLType, "data_upload", "user_created")

    # --- groups -------------------------------------------------------------------------------
    def resolve_group(self, info, client_mutation_id=None, first_name=None, last_name=None,
                      benefit_plan_to_enroll=None, custom_filters=None, additional_filter=None, **kwargs):
        require(info.context.user, GROUP_SEARCH, LIST_DENIED)
        queryset = Group.objects.all()
        members = {}
        if first_name:
            members["individual__first_name__icontains"] = first_name
        if last_name:
            members["individual__last_name__icontains"] = last_name
        if members:
            queryset = queryset.filter(id__in=GroupIndividual.objects.filter(
                **members, is_deleted=False).values("group_id"))
        if benefit_plan_to_enroll:
            queryset = queryset.filter(is_deleted=False).exclude(
                id__in=programmes().group_ids(_plan_uuid(benefit_plan_to_enroll)))
        queryset = _custom_filtered(queryset, custom_filters, info.context.user)
        try:
            queryset = apply_group_filters(queryset, additional_filter)
        except ValidationError as exc:
            raise GraphQLError("; ".join(exc.messages))
        queryset = _client_mutation_filter(queryset, client_mutation_id)
        if client_mutation_id:
            queryset = queryset.distinct()
        return queryset.select_related("user_updated")

    resolve_group_history = _list_of(GroupHistoryGQLType, "user_updated")
    resolve_group_individual_history = _list_of(GroupIndividualHistoryGQLType, "user_updated")

    def resolve_group_individual(self, info, custom_filters=None, **kwargs):
        require(info.context.user, GROUP_SEARCH, LIST_DENIED)
        if parse_uuid(kwargs.get("group__id")) is None:
            return GroupIndividual.objects.none()  # upstream: the member list needs a valid group id
        queryset = _custom_filtered(GroupIndividual.objects.all(), custom_filters, info.context.user)
        return queryset.select_related("individual", "group")

    # --- enrolment summaries --------------------------------------------------------------------
    # every count is of the rows the caller's row security lets them see (issue 10): the selection the
    # confirm mutation would enrol, and the total
    def resolve_individual_enrollment_summary(self, info, custom_filters=None, benefit_plan_id=None):
        user = info.context.user
        require(user, INDIVIDUAL_SEARCH, LIST_DENIED)
        try:
            selected = individuals_without_group(custom_filters, user)
        except ValidationError as exc:
            raise GraphQLError("; ".join(exc.messages))
        total = Individual.get_queryset(Individual.objects.filter(is_deleted=False), user)
        return IndividualSummaryEnrollmentGQLType(**_summary(selected, total, benefit_plan_id, "individuals", False))

    def resolve_group_enrollment_summary(self, info, custom_filters=None, benefit_plan_id=None):
        user = info.context.user
        require(user, GROUP_SEARCH, LIST_DENIED)
        try:
            selected = groups_selectable(custom_filters, user)
        except ValidationError as exc:
            raise GraphQLError("; ".join(exc.messages))
        total = Group.get_queryset(Group.objects.filter(is_deleted=False), user)
        return GroupSummaryEnrollmentGQLType(**_summary(selected, total, benefit_plan_id, "groups", True))

    def resolve_global_schema(self, info):
        # no right (spec "—"), but like every other query it needs a logged-in user: the schema describes
        # the personal attributes collected and is not for anonymous callers
        require(info.context.user, None, LIST_DENIED)
        return GlobalSchemaType(schema=IndividualConfig.get_individual_schema())


def _summary(selected, total, benefit_plan_id, noun, group):
    """Spec §5.2: counts (as strings) of a selection against the programmes. Two statements whatever the sizes:
    the selection's three counts as conditional aggregates of one pass (enrolment tested by semi-joins, no
    DISTINCT), and the total."""
    plan = _plan_uuid(benefit_plan_id) if benefit_plan_id else None
    enrolled = programmes().enrolled
    counts = {"selected": Count("pk"), "assigned": Count("pk", filter=Q(enrolled(None, group=group)))}
    if plan is not None:
        counts["in_plan"] = Count("pk", filter=Q(enrolled(plan, group=group)))
    found = selected.order_by().aggregate(**counts)
    number_selected, assigned, in_plan = found["selected"], found["assigned"], found.get("in_plan") or 0
    return {
        f"number_of_selected_{noun}": str(number_selected),
        f"total_number_of_{noun}": str(total.count()),
        f"number_of_{noun}_not_assigned_to_programme": str(number_selected - assigned),
        f"number_of_{noun}_assigned_to_programme": str(assigned),
        f"number_of_{noun}_assigned_to_selected_programme": str(in_plan),
        f"number_of_{noun}_to_upload": str(number_selected - in_plan),
    }


# exports (spec §3 masking): core masks every JSON column by the policy of the type owning it (the individual's,
# the group's — a copy of its head's attributes — and the membership's), after every filter and row security.

Mutation = mutation_fields(
    CreateIndividualMutation, UpdateIndividualMutation, DeleteIndividualMutation, UndoDeleteIndividualMutation,
    CreateGroupMutation, UpdateGroupMutation, DeleteGroupMutation, AddIndividualToGroupMutation,
    EditIndividualInGroupMutation, RemoveIndividualFromGroupMutation, CreateGroupIndividualsMutation,
    CreateGroupAndMoveIndividualMutation, ConfirmIndividualEnrollmentMutation, ConfirmGroupEnrollmentMutation,
)
