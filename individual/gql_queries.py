"""GraphQL types and filters of the individual registry.

Every type is a core protected type: the search right (``read_perms``) and the model's row security apply to
lists, ``node(id:)`` and foreign keys alike; ``jsonExt`` is masked by the ``individual`` policy. Fields that need
other rows (memberships, members, heads) are loaded for a whole page at once (``prime_page`` + a loader).
"""
import django_filters
import graphene

from core.gql.filters import (
    DATE_LOOKUPS,
    HISTORY_MODEL_FILTERS,
    ID_LOOKUPS,
    STRING_LOOKUPS,
    TEXT_LOOKUPS,
    USER_UPDATED_FILTERS,
    filterset_for,
    parse_uuid,
    prefixed,
)
from core.gql.connection import selected
from core.gql.loaders import BatchLoader, NodeLoader
from core.gql.types import (
    BUSINESS_MODEL_FIELDS,
    HISTORY_MODEL_FIELDS,
    HISTORY_RECORD_FIELDS,
    HistoricalRecordType,
    HistoryModelType,
)
from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
    IndividualDataUploadRecords,
)

INDIVIDUAL_SEARCH = "individual.gql_individual_search_perms"
GROUP_SEARCH = "individual.gql_group_search_perms"
MASKING = "individual"


# --- page loaders -----------------------------------------------------------------------------------------
class _MembershipsLoader(BatchLoader):
    """Non-deleted, row-secured memberships by individual (``by = "individual_id"``) or group (``"group_id"``),
    joined with the other side (``related``); what those rows refer to is primed for the same page."""

    by = None
    related = None
    roles = None  # all roles

    def related_type(self):
        raise NotImplementedError

    def batch_load(self, keys):
        memberships = GroupIndividual.objects.filter(**{f"{self.by}__in": keys}, is_deleted=False)
        if self.roles:
            memberships = memberships.filter(role__in=self.roles)
        memberships = list(GroupIndividual.get_queryset(memberships, self.user)
                           .select_related(self.related).order_by("date_created", "id"))
        related, related_type = [getattr(m, self.related) for m in memberships], self.related_type()
        # a live membership is visible by its group's location, and so are its group and its individual (spec §4):
        # the joined rows are what the related type would load, once its right is checked
        readable = related_type.readable(self.info)
        NodeLoader.for_request(self.info, related_type).seed({row.pk: row if readable else None for row in related})
        GroupIndividualGQLType.prime_page(memberships, self.info)
        related_type.prime_page(related, self.info)
        found = {key: [] for key in keys}
        for membership in memberships:
            found[getattr(membership, self.by)].append(membership)
        return found


class MembershipsOfIndividuals(_MembershipsLoader):
    by, related = "individual_id", "group"

    def related_type(self):
        return GroupGQLType


class MembersOfGroups(_MembershipsLoader):
    by, related = "group_id", "individual"

    def related_type(self):
        return IndividualGQLType


class HeadMembershipsOfGroups(MembersOfGroups):
    """Only the HEAD memberships: a page that shows each group's head but not its members reads one row per
    group, not every member."""

    roles = (GroupIndividual.Role.HEAD,)


class HeadsById(BatchLoader):
    """Individuals named by group history rows (``json_ext.head_id``), under the individual row security."""

    def normalize(self, key):
        return parse_uuid(key)

    def batch_load(self, keys):
        heads = list(Individual.get_queryset(Individual.objects.filter(id__in=keys), self.user)
                     .select_related("location", "user_updated"))
        IndividualGQLType.prime_page(heads, self.info)
        return {head.id: head for head in heads}


def _head_of(memberships):
    for membership in memberships:
        if membership.role == GroupIndividual.Role.HEAD:
            return membership.individual
    return None


# --- live models --------------------------------------------------------------------------------
INDIVIDUAL_FILTERS = {**HISTORY_MODEL_FILTERS, "first_name": TEXT_LOOKUPS, "last_name": TEXT_LOOKUPS,
                      "dob": DATE_LOOKUPS}
NAME_COLUMNS = ("first_name", "last_name")  # trigram-indexed (migration 0002): short searches go by word prefix
INDIVIDUAL_FIELDS = (*BUSINESS_MODEL_FIELDS, "first_name", "last_name", "dob", "location")


class IndividualGQLType(HistoryModelType):
    read_perms = INDIVIDUAL_SEARCH
    masking = MASKING

    memberships = graphene.List(lambda: GroupIndividualGQLType,
                                description="Non-deleted group memberships of the individual")

    class Meta:
        model = Individual
        fields = INDIVIDUAL_FIELDS
        filterset_class = filterset_for(Individual, INDIVIDUAL_FILTERS, word_prefix_search=NAME_COLUMNS)

    @classmethod
    def prime_page(cls, nodes, info):
        super().prime_page(nodes, info)
        MembershipsOfIndividuals.for_request(info).prime(node.id for node in nodes)

    def resolve_memberships(root, info):
        return MembershipsOfIndividuals.for_request(info).load(root.id) or []


GROUP_FILTERS = {**HISTORY_MODEL_FILTERS, "code": TEXT_LOOKUPS, "date_valid_from": ["gte"],
                 "date_valid_to": ["lte"]}


class GroupGQLType(HistoryModelType):
    read_perms = GROUP_SEARCH
    masking = MASKING  # a group's json_ext mirrors its head's attributes

    head = graphene.Field(IndividualGQLType)
    members = graphene.List(lambda: GroupIndividualGQLType, description="Non-deleted memberships of the group")

    class Meta:
        model = Group
        fields = (*BUSINESS_MODEL_FIELDS, "code", "location")
        filterset_class = filterset_for(Group, GROUP_FILTERS)

    @classmethod
    def prime_page(cls, nodes, info):
        super().prime_page(nodes, info)
        keys = [node.id for node in nodes if not hasattr(node, "active_members")]
        loader = MembersOfGroups if selected(info, "members") else HeadMembershipsOfGroups
        loader.for_request(info).prime(keys)

    @staticmethod
    def _members(group, info, loader=MembersOfGroups):
        # a list of another module may join the members with its page (individual.selectors.members_prefetch)
        prefetched = getattr(group, "active_members", None)
        if prefetched is not None:
            return prefetched
        return loader.for_request(info).load(group.id) or []

    def resolve_head(root, info):
        """The individual of the group's non-deleted HEAD membership (spec §5.1): from the members when the
        query reads them anyway, else from the head memberships alone."""
        members = MembersOfGroups.for_request(info)
        loader = MembersOfGroups if root.id in members.values or root.id in members.pending else \
            HeadMembershipsOfGroups
        return _head_of(GroupGQLType._members(root, info, loader))

    def resolve_members(root, info):
        return GroupGQLType._members(root, info)


GROUP_INDIVIDUAL_FILTERS = {
    **HISTORY_MODEL_FILTERS,
    "role": STRING_LOOKUPS,
    "recipient_type": STRING_LOOKUPS,
    **prefixed("individual", INDIVIDUAL_FILTERS),
    "group__id": ID_LOOKUPS,
    "group__code": TEXT_LOOKUPS,
    "group__is_deleted": ["exact"],
}


class GroupIndividualGQLType(HistoryModelType):
    read_perms = GROUP_SEARCH
    masking = MASKING

    class Meta:
        model = GroupIndividual
        fields = (*HISTORY_MODEL_FIELDS, "group", "individual", "role", "recipient_type")
        filterset_class = filterset_for(GroupIndividual, GROUP_INDIVIDUAL_FILTERS,
                                        word_prefix_search=[f"individual__{name}" for name in NAME_COLUMNS])


class MaskedJsonKeyFilter(django_filters.CharFilter):
    """A filter on a key of ``json_ext`` (``field_name="json_ext__head"``): refused, like a custom filter, when the
    registry's masking policy masks that key for the caller (issue 10: no ``icontains`` oracle on masked values)."""

    def filter(self, qs, value):
        if value not in (None, ""):
            from django.core.exceptions import ValidationError
            from graphql import GraphQLError

            from core.masking import masking_policy

            request = getattr(self.parent, "request", None)
            try:
                masking_policy(MASKING).refuse_filter(getattr(request, "user", None), self.field_name.split("__")[1:])
            except ValidationError as exc:
                raise GraphQLError("; ".join(exc.messages))
        return super().filter(qs, value)


# --- history ------------------------------------------------------------------------------------
HistoricalIndividual = Individual.history.model
HistoricalGroup = Group.history.model
HistoricalGroupIndividual = GroupIndividual.history.model


class IndividualHistoryGQLType(HistoricalRecordType):
    read_perms = INDIVIDUAL_SEARCH
    masking = MASKING
    history_of = Individual

    class Meta:
        model = HistoricalIndividual
        fields = (*INDIVIDUAL_FIELDS, *HISTORY_RECORD_FIELDS)
        filterset_class = filterset_for(HistoricalIndividual, {**INDIVIDUAL_FILTERS, **USER_UPDATED_FILTERS})
        convert_choices_to_enum = False


class GroupHistoryGQLType(HistoricalRecordType):
    read_perms = GROUP_SEARCH
    masking = MASKING
    history_of = Group

    head = graphene.Field(IndividualGQLType)

    class Meta:
        model = HistoricalGroup
        fields = (*BUSINESS_MODEL_FIELDS, "code", "location", *HISTORY_RECORD_FIELDS)
        filterset_class = filterset_for(
            HistoricalGroup, {**HISTORY_MODEL_FILTERS, **USER_UPDATED_FILTERS},
            json_ext_head__icontains=MaskedJsonKeyFilter(field_name="json_ext__head", lookup_expr="icontains"))
        convert_choices_to_enum = False

    @staticmethod
    def _head_id(row):
        return (row.json_ext or {}).get("head_id") if isinstance(row.json_ext, dict) else None

    @classmethod
    def prime_page(cls, nodes, info):
        """``head_id`` lives in json_ext (no ORM prefetch possible): the page's heads in one query."""
        super().prime_page(nodes, info)
        HeadsById.for_request(info).prime(cls._head_id(node) for node in nodes)

    def resolve_head(root, info):
        """The individual named by the row's ``json_ext.head_id``, if the user may see it (row security)."""
        return HeadsById.for_request(info).load(GroupHistoryGQLType._head_id(root))


class GroupIndividualHistoryGQLType(HistoricalRecordType):
    read_perms = GROUP_SEARCH
    masking = MASKING

    class Meta:
        model = HistoricalGroupIndividual
        fields = (*HISTORY_MODEL_FIELDS, "group", "individual", "role", "recipient_type", *HISTORY_RECORD_FIELDS)
        filterset_class = filterset_for(HistoricalGroupIndividual, {
            **HISTORY_MODEL_FILTERS, "role": STRING_LOOKUPS, "individual__id": ["exact"], "group__id": ["exact"],
            **USER_UPDATED_FILTERS})
        convert_choices_to_enum = ["role", "recipient_type"]

    @classmethod
    def restrict(cls, queryset, user):
        """Membership history is visible by its group's visibility (spec §4)."""
        from core.location import is_unrestricted, row_security_enabled

        if not row_security_enabled() or is_unrestricted(user):
            return queryset
        return queryset.filter(group_id__in=Group.get_queryset(Group.objects.all(), user).values("id"))


# --- uploads and data sources -------------------------------------------------------------------
DATA_FILTERS = {key: HISTORY_MODEL_FILTERS[key] for key in ("id", "date_created", "date_updated", "is_deleted")}
UPLOAD_FILTERS = prefixed("upload", {"id": ID_LOOKUPS, "status": TEXT_LOOKUPS, "source_name": TEXT_LOOKUPS,
                                     "source_type": TEXT_LOOKUPS})


class IndividualDataSourceUploadGQLType(HistoryModelType):
    read_perms = INDIVIDUAL_SEARCH

    class Meta:
        model = IndividualDataSourceUpload
        fields = (*HISTORY_MODEL_FIELDS, "source_name", "source_type", "status", "error")
        filterset_class = filterset_for(IndividualDataSourceUpload, {
            **HISTORY_MODEL_FILTERS, "status": TEXT_LOOKUPS, "source_type": TEXT_LOOKUPS,
            "source_name": TEXT_LOOKUPS})
        convert_choices_to_enum = False


class IndividualDataSourceGQLType(HistoryModelType):
    read_perms = INDIVIDUAL_SEARCH
    masking = MASKING  # the raw uploaded row: the individual's attributes

    class Meta:
        model = IndividualDataSource
        fields = (*HISTORY_MODEL_FIELDS, "individual", "upload", "validations")
        filterset_class = filterset_for(IndividualDataSource, {
            **DATA_FILTERS, **prefixed("individual", INDIVIDUAL_FILTERS), **UPLOAD_FILTERS})


class GroupDataSourceGQLType(HistoryModelType):
    read_perms = INDIVIDUAL_SEARCH

    class Meta:
        model = GroupDataSource
        fields = (*HISTORY_MODEL_FIELDS, "group", "upload", "validations")
        filterset_class = filterset_for(GroupDataSource, {
            **DATA_FILTERS, "group__id": ID_LOOKUPS, "group__code": TEXT_LOOKUPS, **UPLOAD_FILTERS})


class IndividualDataUploadQGLType(HistoryModelType):
    read_perms = INDIVIDUAL_SEARCH

    class Meta:
        model = IndividualDataUploadRecords
        fields = (*HISTORY_MODEL_FIELDS, "data_upload", "workflow")
        filterset_class = filterset_for(IndividualDataUploadRecords, {
            **DATA_FILTERS, "workflow": STRING_LOOKUPS, "data_upload__id": ["exact"],
            "data_upload__status": TEXT_LOOKUPS, "data_upload__source_name": TEXT_LOOKUPS})


# --- plain object types -------------------------------------------------------------------------
def _summary_type(name, noun):
    fields = ("number_of_selected_{}", "total_number_of_{}", "number_of_{}_not_assigned_to_programme",
              "number_of_{}_assigned_to_programme", "number_of_{}_assigned_to_selected_programme",
              "number_of_{}_to_upload")
    return type(name, (graphene.ObjectType,), {field.format(noun): graphene.String() for field in fields})


IndividualSummaryEnrollmentGQLType = _summary_type("IndividualSummaryEnrollmentGQLType", "individuals")
GroupSummaryEnrollmentGQLType = _summary_type("GroupSummaryEnrollmentGQLType", "groups")


class GlobalSchemaType(graphene.ObjectType):
    schema = graphene.JSONString()
