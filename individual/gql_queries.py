"""GraphQL types and filters of the individual registry."""
import uuid as uuid_lib

import django_filters
import graphene
from django.db import models
from graphene_django import DjangoObjectType
from graphene_django.filter.filters import TypedFilter
from graphene_django.filter.filterset import GrapheneFilterSetMixin
from graphql_relay import from_global_id

from core.gql.connection import ExtendedConnection
from individual.apps import IndividualConfig
from individual.masking import mask_for
from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
    IndividualDataUploadRecords,
)

DATE_LOOKUPS = ["exact", "lt", "lte", "gt", "gte"]
TEXT_LOOKUPS = ["iexact", "istartswith", "icontains"]


def parse_uuid(value):
    """A raw UUID or a relay global id ("Type:uuid") → UUID, else None."""
    if value is None:
        return None
    if isinstance(value, uuid_lib.UUID):
        return value
    text = str(value).strip()
    try:
        return uuid_lib.UUID(text)
    except ValueError:
        pass
    try:
        _type, raw = from_global_id(text)
        return uuid_lib.UUID(str(raw))
    except Exception:
        return None


class LenientUUIDFilter(TypedFilter):
    """UUID filter typed ID: accepts raw UUIDs and relay ids; anything else matches nothing."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_type", graphene.ID)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        parsed = parse_uuid(value)
        if parsed is None:
            return qs.none()
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": parsed})


class BaseFilterSet(GrapheneFilterSetMixin, django_filters.FilterSet):
    FILTER_DEFAULTS = {**GrapheneFilterSetMixin.FILTER_DEFAULTS,
                       models.UUIDField: {"filter_class": LenientUUIDFilter}}


def readable(queryset, user, perms):
    """Node types: nothing without the search right (``node(id:)`` only checks the login; lists check first)."""
    if not user or not user.is_authenticated or not user.has_perms(perms):
        return queryset.none()
    return queryset


def _individual_right():
    return IndividualConfig.gql_individual_search_perms


def _group_right():
    return IndividualConfig.gql_group_search_perms


class JsonExtMaskingMixin:
    def resolve_json_ext(self, info):
        return mask_for(getattr(info.context, "user", None), self.json_ext)


# --- live models --------------------------------------------------------------------------------
INDIVIDUAL_FILTERS = {
    "id": ["exact", "isnull"],
    "first_name": TEXT_LOOKUPS,
    "last_name": TEXT_LOOKUPS,
    "dob": DATE_LOOKUPS,
    "date_created": DATE_LOOKUPS,
    "date_updated": DATE_LOOKUPS,
    "is_deleted": ["exact"],
    "version": ["exact"],
}


class IndividualFilter(BaseFilterSet):
    class Meta:
        model = Individual
        fields = INDIVIDUAL_FILTERS


class IndividualGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String(source="uuid")
    memberships = graphene.List(lambda: GroupIndividualGQLType,
                                description="Non-deleted group memberships of the individual")

    class Meta:
        model = Individual
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "date_valid_from", "date_valid_to", "replacement_uuid", "first_name", "last_name",
                  "dob", "location")
        filterset_class = IndividualFilter
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return Individual.get_queryset(readable(queryset, info.context.user, _individual_right()), info.context.user)

    def resolve_memberships(self, info):
        prefetched = getattr(self, "active_memberships", None)
        if prefetched is not None:
            return prefetched
        return list(GroupIndividual.objects.filter(individual_id=self.id, is_deleted=False).select_related("group"))


class GroupFilter(BaseFilterSet):
    class Meta:
        model = Group
        fields = {
            "id": ["exact", "isnull"],
            "code": TEXT_LOOKUPS,
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "date_valid_from": ["gte"],
            "date_valid_to": ["lte"],
            "is_deleted": ["exact"],
            "version": ["exact"],
        }


def _head_of(memberships):
    for membership in memberships:
        if membership.role == GroupIndividual.Role.HEAD:
            return membership.individual
    return None


class GroupGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String(source="uuid")
    head = graphene.Field(IndividualGQLType)
    members = graphene.List(lambda: GroupIndividualGQLType, description="Non-deleted memberships of the group")

    class Meta:
        model = Group
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "date_valid_from", "date_valid_to", "replacement_uuid", "code", "location")
        filterset_class = GroupFilter
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return Group.get_queryset(readable(queryset, info.context.user, _group_right()), info.context.user)

    def _active_members(self):
        prefetched = getattr(self, "active_members", None)
        if prefetched is not None:
            return prefetched
        return list(GroupIndividual.objects.filter(group_id=self.id, is_deleted=False).select_related("individual")
                    .order_by("date_created", "id"))

    def resolve_head(self, info):
        return _head_of(GroupGQLType._active_members(self))

    def resolve_members(self, info):
        return GroupGQLType._active_members(self)


class GroupIndividualFilter(BaseFilterSet):
    class Meta:
        model = GroupIndividual
        fields = {
            "id": ["exact", "isnull"],
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "role": ["exact", "iexact", "istartswith", "icontains"],
            "recipient_type": ["exact", "iexact", "istartswith", "icontains"],
            "is_deleted": ["exact"],
            "version": ["exact"],
            **{f"individual__{k}": v for k, v in INDIVIDUAL_FILTERS.items()},
            "group__id": ["exact", "isnull"],
            "group__code": TEXT_LOOKUPS,
            "group__is_deleted": ["exact"],
        }


class GroupIndividualGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String(source="uuid")
    # explicit: graphene-django would re-query a related type that has its own get_queryset, row by row
    group = graphene.Field(lambda: GroupGQLType)
    individual = graphene.Field(IndividualGQLType)

    def resolve_group(self, info):
        return self.group

    def resolve_individual(self, info):
        return self.individual

    class Meta:
        model = GroupIndividual
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "group", "individual", "role", "recipient_type")
        filterset_class = GroupIndividualFilter
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return GroupIndividual.get_queryset(readable(queryset, info.context.user, _group_right()), info.context.user)


# --- history ------------------------------------------------------------------------------------
HistoricalIndividual = Individual.history.model
HistoricalGroup = Group.history.model
HistoricalGroupIndividual = GroupIndividual.history.model

USER_UPDATED_FILTERS = {"user_updated__username": ["exact", "iexact", "istartswith", "icontains"]}


class IndividualHistoryFilter(BaseFilterSet):
    class Meta:
        model = HistoricalIndividual
        fields = {**INDIVIDUAL_FILTERS, **USER_UPDATED_FILTERS}


class IndividualHistoryGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String()

    class Meta:
        model = HistoricalIndividual
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "date_valid_from", "date_valid_to", "replacement_uuid", "first_name", "last_name",
                  "dob", "location", "history_date", "history_type")
        filterset_class = IndividualHistoryFilter
        connection_class = ExtendedConnection
        convert_choices_to_enum = False

    def resolve_id(self, info):
        return self.id

    def resolve_uuid(self, info):
        return str(self.id)

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        return visible_history(readable(queryset, user, _individual_right()), Individual, user)


class GroupHistoryFilter(BaseFilterSet):
    json_ext_head__icontains = django_filters.CharFilter(field_name="json_ext__head", lookup_expr="icontains")

    class Meta:
        model = HistoricalGroup
        fields = {
            "id": ["exact", "isnull"],
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "is_deleted": ["exact"],
            "version": ["exact"],
            **USER_UPDATED_FILTERS,
        }


class _PageHeads:
    """The heads of one page of group history rows, loaded together on the first ``head`` asked for."""

    def __init__(self, rows, user):
        self.rows, self.user, self.heads = rows, user, None

    def get(self, head_id):
        if self.heads is None:
            ids = {parse_uuid((row.json_ext or {}).get("head_id")) for row in self.rows} - {None}
            queryset = Individual.get_queryset(Individual.objects.filter(id__in=ids), self.user)
            self.heads = {head.id: head for head in queryset.select_related("location", "user_updated")} if ids else {}
        return self.heads.get(head_id)


class GroupHistoryConnection(ExtendedConnection):
    """One query for the heads of the whole page (``head_id`` lives in json_ext: no ORM prefetch possible)."""

    class Meta:
        abstract = True

    def resolve_edges(self, info, **kwargs):
        loader = _PageHeads([edge.node for edge in self.edges], info.context.user)
        for edge in self.edges:
            edge.node._page_heads = loader
        return self.edges


class GroupHistoryGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String()
    head = graphene.Field(IndividualGQLType)

    class Meta:
        model = HistoricalGroup
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "date_valid_from", "date_valid_to", "replacement_uuid", "code", "location",
                  "history_date", "history_type")
        filterset_class = GroupHistoryFilter
        connection_class = GroupHistoryConnection
        convert_choices_to_enum = False

    def resolve_id(self, info):
        return self.id

    def resolve_uuid(self, info):
        return str(self.id)

    def resolve_head(self, info):
        """The individual named by the row's ``json_ext.head_id``, if the user may see it (row security)."""
        head_id = parse_uuid((self.json_ext or {}).get("head_id"))
        if head_id is None:
            return None
        loader = getattr(self, "_page_heads", None) or _PageHeads([self], info.context.user)  # e.g. node(id:)
        return loader.get(head_id)

    @classmethod
    def get_queryset(cls, queryset, info):
        return visible_history(readable(queryset, info.context.user, _group_right()), Group, info.context.user)


class GroupIndividualHistoryFilter(BaseFilterSet):
    class Meta:
        model = HistoricalGroupIndividual
        fields = {
            "id": ["exact", "isnull"],
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "role": ["exact", "iexact", "istartswith", "icontains"],
            "is_deleted": ["exact"],
            "version": ["exact"],
            "individual__id": ["exact"],
            "group__id": ["exact"],
            **USER_UPDATED_FILTERS,
        }


class GroupIndividualHistoryGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String()
    group = graphene.Field(lambda: GroupGQLType)
    individual = graphene.Field(IndividualGQLType)

    def resolve_group(self, info):
        return self.group

    def resolve_individual(self, info):
        return self.individual

    class Meta:
        model = HistoricalGroupIndividual
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "group", "individual", "role", "recipient_type", "history_date", "history_type")
        filterset_class = GroupIndividualHistoryFilter
        connection_class = ExtendedConnection
        convert_choices_to_enum = ["role", "recipient_type"]

    def resolve_id(self, info):
        return self.id

    def resolve_uuid(self, info):
        return str(self.id)

    @classmethod
    def get_queryset(cls, queryset, info):
        user = info.context.user
        queryset = readable(queryset, user, _group_right())
        from core.location import is_unrestricted, row_security_enabled

        if not row_security_enabled() or is_unrestricted(user):
            return queryset
        visible_groups = Group.get_queryset(Group.objects.all(), user).values("id")
        return queryset.filter(group_id__in=visible_groups)


def visible_history(queryset, model, user):
    from core.location import is_unrestricted, row_security_enabled

    if not row_security_enabled() or is_unrestricted(user):
        return queryset
    return queryset.filter(id__in=model.get_queryset(model.objects.all(), user).values("id"))


# --- uploads and data sources -------------------------------------------------------------------
class IndividualDataSourceUploadFilter(BaseFilterSet):
    class Meta:
        model = IndividualDataSourceUpload
        fields = {
            "id": ["exact", "isnull"],
            "status": TEXT_LOOKUPS,
            "source_type": TEXT_LOOKUPS,
            "source_name": TEXT_LOOKUPS,
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "is_deleted": ["exact"],
            "version": ["exact"],
        }


class IndividualDataSourceUploadGQLType(DjangoObjectType):
    uuid = graphene.String(source="uuid")

    class Meta:
        model = IndividualDataSourceUpload
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "source_name", "source_type", "status", "error")
        filterset_class = IndividualDataSourceUploadFilter
        connection_class = ExtendedConnection
        convert_choices_to_enum = False

    @classmethod
    def get_queryset(cls, queryset, info):
        return readable(queryset, info.context.user, _individual_right())


UPLOAD_FILTERS = {
    "upload__id": ["exact", "isnull"],
    "upload__status": TEXT_LOOKUPS,
    "upload__source_name": TEXT_LOOKUPS,
    "upload__source_type": TEXT_LOOKUPS,
}


class IndividualDataSourceFilter(BaseFilterSet):
    class Meta:
        model = IndividualDataSource
        fields = {
            "id": ["exact", "isnull"],
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "is_deleted": ["exact"],
            **{f"individual__{k}": v for k, v in INDIVIDUAL_FILTERS.items()},
            **UPLOAD_FILTERS,
        }


class IndividualDataSourceGQLType(JsonExtMaskingMixin, DjangoObjectType):
    uuid = graphene.String(source="uuid")
    individual = graphene.Field(IndividualGQLType)

    def resolve_individual(self, info):
        return self.individual

    class Meta:
        model = IndividualDataSource
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "individual", "upload", "validations")
        filterset_class = IndividualDataSourceFilter
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return readable(queryset, info.context.user, _individual_right())


class GroupDataSourceFilter(BaseFilterSet):
    class Meta:
        model = GroupDataSource
        fields = {
            "id": ["exact", "isnull"],
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "is_deleted": ["exact"],
            "group__id": ["exact", "isnull"],
            "group__code": TEXT_LOOKUPS,
            **UPLOAD_FILTERS,
        }


class GroupDataSourceGQLType(DjangoObjectType):
    uuid = graphene.String(source="uuid")
    group = graphene.Field(GroupGQLType)

    def resolve_group(self, info):
        return self.group

    class Meta:
        model = GroupDataSource
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "group", "upload", "validations")
        filterset_class = GroupDataSourceFilter
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return readable(queryset, info.context.user, _individual_right())


class IndividualDataUploadRecordsFilter(BaseFilterSet):
    class Meta:
        model = IndividualDataUploadRecords
        fields = {
            "id": ["exact", "isnull"],
            "date_created": DATE_LOOKUPS,
            "date_updated": DATE_LOOKUPS,
            "is_deleted": ["exact"],
            "workflow": ["exact", "iexact", "istartswith", "icontains"],
            "data_upload__id": ["exact"],
            "data_upload__status": TEXT_LOOKUPS,
            "data_upload__source_name": TEXT_LOOKUPS,
        }


class IndividualDataUploadQGLType(DjangoObjectType):
    uuid = graphene.String(source="uuid")

    class Meta:
        model = IndividualDataUploadRecords
        interfaces = (graphene.relay.Node,)
        fields = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created", "user_updated",
                  "version", "data_upload", "workflow")
        filterset_class = IndividualDataUploadRecordsFilter
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return readable(queryset, info.context.user, _individual_right())

    def resolve_json_ext(self, info):
        user = info.context.user
        return self.json_ext if user.has_perms(IndividualConfig.gql_individual_search_perms) else None


# --- plain object types -------------------------------------------------------------------------
class IndividualSummaryEnrollmentGQLType(graphene.ObjectType):
    number_of_selected_individuals = graphene.String()
    total_number_of_individuals = graphene.String()
    number_of_individuals_not_assigned_to_programme = graphene.String()
    number_of_individuals_assigned_to_programme = graphene.String()
    number_of_individuals_assigned_to_selected_programme = graphene.String()
    number_of_individuals_to_upload = graphene.String()


class GroupSummaryEnrollmentGQLType(graphene.ObjectType):
    number_of_selected_groups = graphene.String()
    total_number_of_groups = graphene.String()
    number_of_groups_not_assigned_to_programme = graphene.String()
    number_of_groups_assigned_to_programme = graphene.String()
    number_of_groups_assigned_to_selected_programme = graphene.String()
    number_of_groups_to_upload = graphene.String()


class GlobalSchemaType(graphene.ObjectType):
    schema = graphene.JSONString()
