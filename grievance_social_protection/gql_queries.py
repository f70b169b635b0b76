"""GraphQL types of the grievance module. Derived reporter/commenter fields are loaded once per page."""
from collections import defaultdict

import graphene
from graphene.utils.str_converters import to_snake_case
from graphene_django import DjangoObjectType

from core.gql.connection import ExtendedConnection, OrderedDjangoFilterConnectionField
from core.gql_queries import UserGQLType
from core.models import MutationLog
from grievance_social_protection.apps import TicketConfig
from grievance_social_protection.links import attach_links, link_type_name, person_of, to_json
from grievance_social_protection.models import Comment, Ticket, TicketMutation

PAGE_ATTR = "_grievance_page"
REPORTER = ("reporter_type_id", "reporter_id", "_reporter_obj")
COMMENTER = ("commenter_type_id", "commenter_id", "_commenter_obj")


def prefix_filterset(prefix, filter_fields):
    return {f"{prefix}{name}": lookups for name, lookups in filter_fields.items()}


def _user(info):
    return getattr(info.context, "user", None)


def _has(info, perms):
    user = _user(info)
    return bool(user and user.is_authenticated and user.has_perms(perms))


# --- page-level batch loading ----------------------------------------------------------------------
def set_page(objects):
    for obj in objects:
        setattr(obj, PAGE_ATTR, objects)


def _page_of(obj):
    return getattr(obj, PAGE_ATTR, None) or [obj]


def _linked(obj, spec):
    type_attr, id_attr, target_attr = spec
    if not hasattr(obj, target_attr):
        attach_links(_page_of(obj), type_attr, id_attr, target_attr)
    return getattr(obj, target_attr)


def _client_mutation_id(ticket):
    """First non-failed mutation linked to the ticket, loaded for the whole page at once."""
    if not hasattr(ticket, "_client_mutation_id"):
        page = [t for t in _page_of(ticket) if isinstance(t, Ticket)]
        found = defaultdict(list)
        links = (TicketMutation.objects.filter(ticket_id__in=[t.id for t in page])
                 .exclude(mutation__status=MutationLog.ERROR).select_related("mutation")
                 .order_by("mutation__request_date_time"))
        for link in links:
            found[link.ticket_id].append(link.mutation.client_mutation_id)
        for t in page:
            t._client_mutation_id = next((c for c in found.get(t.id, []) if c), None)
        if not isinstance(ticket, Ticket):
            ticket._client_mutation_id = None
    return ticket._client_mutation_id


# --- rules -------------------------------------------------------------------------------------------
def anonymised(ticket, info, field_name):
    """§7 our rule: fields listed for the ticket's category (fallback Default) are hidden without 127002."""
    if _has(info, TicketConfig.gql_mutation_update_tickets_perms):
        return False
    config = TicketConfig.grievance_anonymized_fields or {}
    hidden = config.get(ticket.category) if ticket.category in config else config.get("Default")
    hidden = hidden or []
    return field_name in hidden or to_snake_case(field_name) in hidden


def reporter_visible(ticket, info, field_name):
    return _has(info, TicketConfig.gql_query_tickets_perms) and not anonymised(ticket, info, field_name)


def commenter_visible(comment, info):
    if _has(info, TicketConfig.gql_query_comments_perms):
        return True
    user = _user(info)
    return bool(user and user.is_authenticated and comment.ticket.attending_staff_id == user.id)


class TicketGQLType(DjangoObjectType):
    uuid = graphene.String()
    client_mutation_id = graphene.String()
    reporter = graphene.JSONString()
    reporter_id = graphene.String()
    reporter_type = graphene.Int()
    reporter_type_name = graphene.String()
    reporter_first_name = graphene.String()
    reporter_last_name = graphene.String()
    reporter_dob = graphene.String()
    is_history = graphene.Boolean()

    class Meta:
        model = Ticket
        interfaces = (graphene.relay.Node,)
        fields = ("id", "key", "title", "description", "code", "attending_staff", "date_of_incident", "status",
                  "priority", "due_date", "category", "flags", "channel", "resolution", "json_ext",
                  "date_created", "date_updated", "version", "is_deleted", "date_valid_from", "date_valid_to",
                  "replacement_uuid")
        filter_fields = {
            "id": ["exact", "isnull"],
            "version": ["exact"],
            **{name: ["exact", "istartswith", "icontains", "iexact"] for name in (
                "key", "code", "title", "description", "status", "priority", "category", "flags", "channel",
                "resolution")},
            "reporter_id": ["exact"],
            **{name: ["exact", "istartswith", "icontains", "iexact"] for name in (
                "due_date", "date_of_incident", "date_created")},
            **prefix_filterset("attending_staff__", UserGQLType._meta.filter_fields),
        }
        connection_class = ExtendedConnection
        convert_choices_to_enum = False

    @classmethod
    def is_type_of(cls, root, info):
        # history rows (showHistory / ticketVersion) are served as tickets
        return isinstance(root, (Ticket, Ticket.history.model)) or super().is_type_of(root, info)

    @classmethod
    def get_queryset(cls, queryset, info):
        return Ticket.get_queryset(queryset, _user(info))

    def resolve_id(self, info):
        return self.id

    def resolve_uuid(self, info):
        return str(self.id)

    def resolve_status(self, info):
        return self.status

    def resolve_client_mutation_id(self, info):
        return _client_mutation_id(self)

    def resolve_is_history(self, info):
        live_version = getattr(self, "live_version", None)
        return live_version is not None and live_version != self.version

    def resolve_reporter_id(self, info):
        return self.reporter_id if reporter_visible(self, info, "reporterId") else None

    def resolve_reporter_type(self, info):
        return self.reporter_type_id if reporter_visible(self, info, "reporterType") else None

    def resolve_reporter_type_name(self, info):
        if not reporter_visible(self, info, "reporterTypeName"):
            return None
        return link_type_name(self.reporter_type_id)

    def resolve_reporter(self, info):
        if not reporter_visible(self, info, "reporter"):
            return None
        return to_json(_linked(self, REPORTER))

    def resolve_reporter_first_name(self, info):
        if not reporter_visible(self, info, "reporterFirstName"):
            return None
        person = person_of(_linked(self, REPORTER))
        return person.first_name if person else None

    def resolve_reporter_last_name(self, info):
        if not reporter_visible(self, info, "reporterLastName"):
            return None
        person = person_of(_linked(self, REPORTER))
        return person.last_name if person else None

    def resolve_reporter_dob(self, info):
        if not reporter_visible(self, info, "reporterDob"):
            return None
        person = person_of(_linked(self, REPORTER))
        return person.dob.isoformat() if person and person.dob else None


class CommentGQLType(DjangoObjectType):
    uuid = graphene.String()
    ticket = graphene.Field(lambda: TicketGQLType, description="null for callers without the ticket query right")
    commenter = graphene.JSONString()
    commenter_id = graphene.String()
    commenter_type = graphene.Int()
    commenter_type_name = graphene.String()
    commenter_first_name = graphene.String()
    commenter_last_name = graphene.String()
    commenter_dob = graphene.String()

    class Meta:
        model = Comment
        interfaces = (graphene.relay.Node,)
        fields = ("id", "ticket", "comment", "is_resolution", "date_created", "date_updated", "version",
                  "is_deleted", "json_ext")
        filter_fields = {
            "id": ["exact", "isnull"],
            "comment": ["exact", "istartswith", "icontains", "iexact"],
            "date_created": ["exact", "istartswith", "icontains", "iexact"],
            "is_resolution": ["exact"],
            **prefix_filterset("ticket__", TicketGQLType._meta.filter_fields),
        }
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return Comment.get_queryset(queryset, _user(info))

    def resolve_uuid(self, info):
        return str(self.id)

    def resolve_ticket(self, info):
        """The (select_related) ticket, under the same rule as ``TicketGQLType.get_queryset`` (127000).

        Declared explicitly (nullable): the generated FK field looked every ticket up again through
        ``get_node`` (one query per comment) and failed with an internal error for callers without 127000."""
        return self.ticket if _has(info, TicketConfig.gql_query_tickets_perms) else None

    def resolve_commenter_id(self, info):
        return self.commenter_id if commenter_visible(self, info) else None

    def resolve_commenter_type(self, info):
        return self.commenter_type_id if commenter_visible(self, info) else None

    def resolve_commenter_type_name(self, info):
        return link_type_name(self.commenter_type_id) if commenter_visible(self, info) else None

    def resolve_commenter(self, info):
        return to_json(_linked(self, COMMENTER)) if commenter_visible(self, info) else None

    def resolve_commenter_first_name(self, info):
        person = person_of(_linked(self, COMMENTER)) if commenter_visible(self, info) else None
        return person.first_name if person else None

    def resolve_commenter_last_name(self, info):
        person = person_of(_linked(self, COMMENTER)) if commenter_visible(self, info) else None
        return person.last_name if person else None

    def resolve_commenter_dob(self, info):
        person = person_of(_linked(self, COMMENTER)) if commenter_visible(self, info) else None
        return person.dob.isoformat() if person and person.dob else None


class PagedConnectionField(OrderedDjangoFilterConnectionField):
    """Marks the rows of a page so derived fields load their links for the whole page in one go."""

    @classmethod
    def resolve_connection(cls, connection, args, iterable, max_limit=None):
        result = super().resolve_connection(connection, args, iterable, max_limit=max_limit)
        nodes = [edge.node for edge in result.edges]
        set_page(nodes)
        tickets = [n.ticket for n in nodes if isinstance(n, Comment) and Comment.ticket.is_cached(n)]
        if tickets:
            set_page(tickets)
        return result


class AttendingStaffRoleGQLType(graphene.ObjectType):
    category = graphene.String()
    role_ids = graphene.List(graphene.String)


class ResolutionTimesByCategoryGQLType(graphene.ObjectType):
    category = graphene.String()
    resolution_time = graphene.String()


class GrievanceTypeConfigurationGQLType(graphene.ObjectType):
    grievance_types = graphene.List(graphene.String)
    grievance_flags = graphene.List(graphene.String)
    grievance_channels = graphene.List(graphene.String)
    grievance_category_staff_roles = graphene.List(AttendingStaffRoleGQLType)
    grievance_default_resolutions_by_category = graphene.List(ResolutionTimesByCategoryGQLType)

    def resolve_grievance_types(self, info):
        return TicketConfig.grievance_types or []

    def resolve_grievance_flags(self, info):
        return TicketConfig.grievance_flags or []

    def resolve_grievance_channels(self, info):
        return TicketConfig.grievance_channels or []

    def resolve_grievance_category_staff_roles(self, info):
        roles = TicketConfig.default_attending_staff_role_ids or {}
        return [AttendingStaffRoleGQLType(category=category, role_ids=[str(r) for r in (ids or [])])
                for category, ids in roles.items()]

    def resolve_grievance_default_resolutions_by_category(self, info):
        defaults = TicketConfig.default_resolution or {}
        return [ResolutionTimesByCategoryGQLType(category=category, resolution_time=value)
                for category, value in defaults.items()]


__all__ = ["TicketGQLType", "CommentGQLType", "GrievanceTypeConfigurationGQLType", "PagedConnectionField"]
