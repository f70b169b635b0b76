"""GraphQL types of the grievance module.

Rights: tickets (and every reporter-derived field) need 127000; comments need 127004, or being the attending
staff of some ticket, and then show only the comments of the tickets they attend (``Comment.get_queryset``).
The derived reporter / commenter fields (spec §7) and ``clientMutationId`` are batch-loaded for the whole page.
"""
import json
import uuid

import graphene
from django.utils.text import slugify
from graphene.utils.str_converters import to_camel_case, to_snake_case
from graphene_django.registry import get_global_registry

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.filters import DATE_LOOKUPS, ID_LOOKUPS, STRING_LOOKUPS, LenientUUIDFilter, filterset_for, prefixed
from core.gql.loaders import BatchLoader
from core.gql.types import BUSINESS_MODEL_FIELDS, HISTORY_MODEL_FIELDS, HistoryModelType, ProtectedType
from core.gql_queries import UserGQLType
from core.models import MutationLog
from core.request_memo import memoized
from core.rights import has_rights, is_authenticated
from grievance_social_protection.apps import DEFAULT_CONFIG, TicketConfig
from grievance_social_protection.links import LinkLoader, link_type_name, link_type_of, person_of, to_json
from grievance_social_protection.models import Comment, Ticket, TicketAttachment, TicketMutation

TICKET_SEARCH = "grievance_social_protection.gql_query_tickets_perms"
TICKET_UPDATE = "grievance_social_protection.gql_mutation_update_tickets_perms"
COMMENT_SEARCH = "grievance_social_protection.gql_query_comments_perms"
ATTACHMENT_SEARCH = "grievance_social_protection.gql_query_ticket_attachments_perms"

TICKET_FILTERS = {
    "id": ID_LOOKUPS,
    "version": ["exact"],
    **{name: STRING_LOOKUPS for name in ("key", "code", "title", "description", "status", "priority", "category",
                                         "flags", "channel", "resolution")},
    "reporter_id": ["exact"],
    **{name: STRING_LOOKUPS for name in ("due_date", "date_of_incident", "date_created")},
    **prefixed("attending_staff", UserGQLType._meta.filter_fields),
}
COMMENT_FILTERS = {
    "id": ID_LOOKUPS,
    "comment": STRING_LOOKUPS,
    "date_created": STRING_LOOKUPS,
    "is_resolution": ["exact"],
    **prefixed("ticket", TICKET_FILTERS),
}


# --- derived link fields (spec §7) -----------------------------------------------------------------------
def _protected_type(model):
    found = get_global_registry().get_type_for_model(model)
    return found if found is not None and issubclass(found, ProtectedType) else None


def visible_link_rows(rows, user):
    """``rows`` of a link type under the row security of their own GraphQL type and of every registry row they
    refer to (a beneficiary's individual): what the caller may see of a reporter or commenter (issue 10)."""
    own = _protected_type(rows.model)
    if own is not None:
        rows = own.restrict(rows, user)
    for field in rows.model._meta.concrete_fields:
        target = _protected_type(field.related_model) if field.many_to_one else None
        if target is None or not target.has_row_security():
            continue
        manager = field.related_model._default_manager
        visible = target.restrict(manager.all(), user)
        if len(visible.query.where.children) != len(manager.all().query.where.children):
            rows = rows.filter(**{f"{field.name}__in": visible.values("pk")})
    return rows


class VisibleLinks(LinkLoader):
    """The reporter / commenter rows of a page (one query per link type), null when the caller's row security
    hides them or the individual behind them: a ticket of district A never shows a grievant of district B."""

    def rows(self, content_type_id):
        return visible_link_rows(super().rows(content_type_id), self.user)


def link_json(target, info):
    """The linked row as JSON (spec §7) shown like its own type shows it: ``jsonExt`` masked by the type's
    policy, fields the type hides from the caller null."""
    data = to_json(target)
    own = _protected_type(type(target)) if target is not None else None
    if data is None or own is None:
        return data
    for name in own.hidden_fields(info):
        key = to_camel_case(name)
        if key in data:
            data[key] = None
    if own.masking and isinstance(data.get("jsonExt"), dict):
        from core.masking import masking_policy

        data["jsonExt"] = masking_policy(own.masking).mask(getattr(info.context, "user", None), data["jsonExt"])
    return data


def encoded(data):
    """The JSON text of ``data``, which the ``JSONString`` scalar encodes once more: upstream's resolver answers
    ``json.dumps(attrs)``, so the wire carries a JSON string holding a JSON string and the frontend calls
    ``JSON.parse`` twice (spec §7); a value encoded once crashes the tickets list, the ticket page and the
    comments (``"[object Object]" is not valid JSON``). Null stays null."""
    return None if data is None else json.dumps(data)


def anonymised(ticket, info, field_name):
    """§7 our rule: fields listed for the ticket's category (fallback Default) are hidden without 127002."""
    if has_rights(info.context.user, TICKET_UPDATE):
        return False
    config = TicketConfig.grievance_anonymized_fields or {}
    hidden = (config.get(ticket.category) if ticket.category in config else config.get("Default")) or []
    return field_name in hidden or to_snake_case(field_name) in hidden


def link_fields(prefix, visible=None):
    """A mixin with the derived fields of the generic link ``<prefix>_type``/``<prefix>_id``: ``<prefix>`` (the
    row as JSON text), ``<prefix>Id``, ``<prefix>Type`` (content type id), ``<prefix>TypeName``, and
    ``<prefix>FirstName``/``LastName``/``Dob`` of the Individual behind it. ``visible(root, info, field name)``,
    when given, hides a field (null)."""
    type_attr, id_attr = f"{prefix}_type_id", f"{prefix}_id"

    def target(root, info):
        return VisibleLinks.for_request(info).load((getattr(root, type_attr), getattr(root, id_attr)))

    def person(root, info):
        return person_of(getattr(root, type_attr), target(root, info))

    def dob(root, info):
        found = person(root, info)
        return found.dob.isoformat() if found and found.dob else None

    values = {
        prefix: (graphene.JSONString, lambda root, info: encoded(link_json(target(root, info), info))),
        f"{prefix}_id": (graphene.String, lambda root, info: getattr(root, id_attr)),
        f"{prefix}_type": (graphene.Int, lambda root, info: getattr(root, type_attr)),
        f"{prefix}_type_name": (graphene.String, lambda root, info: link_type_name(getattr(root, type_attr))),
        f"{prefix}_first_name": (graphene.String, lambda root, info: getattr(person(root, info), "first_name", None)),
        f"{prefix}_last_name": (graphene.String, lambda root, info: getattr(person(root, info), "last_name", None)),
        f"{prefix}_dob": (graphene.String, dob),
    }

    def field(name, scalar, value):
        graphql_name = to_camel_case(name)

        def resolve(root, info):
            return value(root, info) if visible is None or visible(root, info, graphql_name) else None

        return scalar(resolver=resolve)

    fields = {name: field(name, scalar, value) for name, (scalar, value) in values.items()}
    return type(f"{to_camel_case(prefix).capitalize()}LinkFields", (), fields)


def reporter_visible(ticket, info, field_name):
    return TicketGQLType.readable(info) and not anonymised(ticket, info, field_name)


class ClientMutationIds(BatchLoader):
    """The first non-failed client mutation id linked to each ticket (spec §3.2), one query per page."""

    def batch_load(self, keys):
        found = {}
        links = (TicketMutation.objects.filter(ticket_id__in=keys).exclude(mutation__status=MutationLog.ERROR)
                 .order_by("mutation__request_date_time").values_list("ticket_id", "mutation__client_mutation_id"))
        for ticket_id, client_mutation_id in links:
            if client_mutation_id and ticket_id not in found:
                found[ticket_id] = client_mutation_id
        return found


class TicketAttachmentGQLType(HistoryModelType):
    """A ticket's attachment (spec §12); its bytes are downloaded from ``/api/ticket/attach?id=<uuid>``.
    Row security: the ticket's (``TicketAttachment.get_queryset``)."""

    read_perms = ATTACHMENT_SEARCH

    class Meta:
        model = TicketAttachment
        fields = (*HISTORY_MODEL_FIELDS, "ticket", "filename", "mime_type", "date", "size", "sha256")
        filterset_class = filterset_for(
            TicketAttachment,
            {"id": ID_LOOKUPS, "filename": STRING_LOOKUPS, "mime_type": ["exact"], "date": DATE_LOOKUPS,
             "ticket__id": ["exact"], "ticket__code": STRING_LOOKUPS},
            # ``ticket_Uuid``, the frontend's filter: the ticket's uuid is its id
            ticket__uuid=LenientUUIDFilter(field_name="ticket_id", lookup_expr="exact"))


class TicketAttachments(BatchLoader):
    """The live attachments each ticket of a page shows (rights and row security of the attachments), one query
    per page; keys are ticket ids."""

    def batch_load(self, keys):
        rows = TicketAttachment.objects.filter(ticket_id__in=keys, is_deleted=False).order_by("-date_created", "id")
        found = {}
        attachments = list(TicketAttachmentGQLType.get_queryset(rows, self.info))
        for attachment in attachments:
            found.setdefault(attachment.ticket_id, []).append(attachment)
        if attachments:
            TicketAttachmentGQLType.prime_page(attachments, self.info)
        return found


class TicketGQLType(link_fields("reporter", reporter_visible), HistoryModelType):
    read_perms = TICKET_SEARCH

    client_mutation_id = graphene.String()
    is_history = graphene.Boolean()
    # read-only aliases of code / title: the legacy names the frontend's category picker reads
    ticket_code = graphene.String(resolver=lambda root, info: root.code)
    ticket_title = graphene.String(resolver=lambda root, info: root.title)
    attachments = graphene.List(TicketAttachmentGQLType,
                                description="live attachments, newest first (null without the attachment right)")
    attachment_count = graphene.Int(description="number of live attachments (null without the attachment right)")

    class Meta:
        model = Ticket
        fields = (*BUSINESS_MODEL_FIELDS, "key", "title", "description", "code", "attending_staff",
                  "date_of_incident", "status", "priority", "due_date", "category", "flags", "channel", "resolution")
        filterset_class = filterset_for(Ticket, TICKET_FILTERS)
        convert_choices_to_enum = False

    @classmethod
    def is_type_of(cls, root, info):
        # history rows (showHistory / ticketVersion) are served as tickets
        return isinstance(root, (Ticket, Ticket.history.model)) or super().is_type_of(root, info)

    @classmethod
    def prime_page(cls, nodes, info):
        super().prime_page(nodes, info)
        VisibleLinks.for_request(info).prime((node.reporter_type_id, node.reporter_id) for node in nodes
                                           if node.reporter_type_id)
        ClientMutationIds.for_request(info).prime(node.id for node in nodes if isinstance(node, Ticket))
        if TicketAttachmentGQLType.readable(info):
            TicketAttachments.for_request(info).prime(node.id for node in nodes)

    def resolve_id(self, info):
        return self.id  # history rows answer their ticket's id

    def resolve_client_mutation_id(self, info):
        if not isinstance(self, Ticket):
            return None  # a history row
        return ClientMutationIds.for_request(info).load(self.id)

    def resolve_attachments(self, info):
        if not TicketAttachmentGQLType.readable(info):
            return None
        return TicketAttachments.for_request(info).load(self.id) or []

    def resolve_attachment_count(self, info):
        attachments = TicketGQLType.resolve_attachments(self, info)
        return None if attachments is None else len(attachments)

    def resolve_is_history(self, info):
        live_version = getattr(self, "live_version", None)
        return live_version is not None and live_version != self.version


# commenter fields need 127004 or being the ticket's attending staff: exactly the comments the row security
# (Comment.get_queryset) lets a caller read, so a readable comment shows its commenter
class CommentGQLType(link_fields("commenter"), HistoryModelType):
    read_perms = COMMENT_SEARCH

    ticket = graphene.Field(TicketGQLType, description="null for callers without the ticket query right")

    class Meta:
        model = Comment
        fields = (*HISTORY_MODEL_FIELDS, "ticket", "comment", "is_resolution")
        filterset_class = filterset_for(Comment, COMMENT_FILTERS)

    @classmethod
    def readable(cls, info):
        """127004, or attending staff of some live ticket (row security then narrows to their tickets)."""
        user = getattr(info.context, "user", None)
        if has_rights(user, cls.read_perms):
            return True
        return is_authenticated(user) and memoized(
            ("grievance.attends_tickets", user.pk),
            lambda: Ticket.objects.filter(attending_staff=user, is_deleted=False).exists())

    @classmethod
    def prime_page(cls, nodes, info):
        super().prime_page(nodes, info)  # the tickets (joined with the page) under the ticket rights
        tickets = [node.ticket for node in nodes if Comment.ticket.is_cached(node)]
        if tickets:
            TicketGQLType.prime_page(tickets, info)
        VisibleLinks.for_request(info).prime((node.commenter_type_id, node.commenter_id) for node in nodes
                                           if node.commenter_type_id)

    def resolve_ticket(self, info):
        # declared nullable: a caller without 127000 reads null here, not an error for the whole comment
        return TicketGQLType.get_node(info, self.ticket_id)


class AttendingStaffRoleGQLType(graphene.ObjectType):
    category = graphene.String()
    role_ids = graphene.List(graphene.String)


class ResolutionTimesByCategoryGQLType(graphene.ObjectType):
    category = graphene.String()
    resolution_time = graphene.String()


def _configured(key, convert=None):
    def resolve(root, info):
        value = getattr(TicketConfig, key) or ([] if convert is None else {})
        return value if convert is None else [convert(category, item) for category, item in value.items()]

    return resolve


class GrievanceTypeConfigurationGQLType(graphene.ObjectType):
    grievance_types = graphene.List(graphene.String, resolver=_configured("grievance_types"))
    grievance_flags = graphene.List(graphene.String, resolver=_configured("grievance_flags"))
    grievance_channels = graphene.List(graphene.String, resolver=_configured("grievance_channels"))
    grievance_category_staff_roles = graphene.List(AttendingStaffRoleGQLType, resolver=_configured(
        "default_attending_staff_role_ids",
        lambda category, ids: AttendingStaffRoleGQLType(category=category, role_ids=[str(r) for r in ids or []])))
    grievance_default_resolutions_by_category = graphene.List(ResolutionTimesByCategoryGQLType, resolver=_configured(
        "default_resolution",
        lambda category, value: ResolutionTimesByCategoryGQLType(category=category, resolution_time=value)))


# --- category picker ---------------------------------------------------------------------------------------
# namespace of the categories' uuids: a category keeps its uuid as long as its title is configured
CATEGORY_NAMESPACE = uuid.UUID("5b1f3f0e-1270-4c61-9a7e-127000000000")


def grievance_rights():
    """Every grievance right (each ``*_perms`` key of the configuration, read at call time): the category picker
    is for anyone who works on grievances, whatever their part."""
    return sorted({str(code) for key in DEFAULT_CONFIG if key.endswith("_perms")
                   for code in getattr(TicketConfig, key) or []})


class CategoryGQLType(graphene.ObjectType):
    """A configured grievance type (``grievance_types``) in the shape of upstream's category records, which the
    frontend's DropDownCategoryPicker lists (it shows ``categoryTitle``, the value a ticket's ``category`` holds).
    Not a model: ``id`` and ``uuid`` are the same stable uuid derived from the title (no ``node(id:)`` lookup)."""

    id = graphene.ID(required=True)
    uuid = graphene.String()
    category_title = graphene.String()
    slug = graphene.String()
    tickets = OrderedDjangoFilterConnectionField(
        TicketGQLType, description="live tickets of the category, under the ticket rights (empty without 127000)")

    @classmethod
    def configured(cls):
        categories = []
        for title in dict.fromkeys(TicketConfig.grievance_types or []):
            key = str(uuid.uuid5(CATEGORY_NAMESPACE, str(title)))
            categories.append(cls(id=key, uuid=key, category_title=title, slug=slugify(str(title))))
        return categories

    def resolve_tickets(self, info, **kwargs):
        # TicketGQLType.get_queryset applies 127000 and the tickets' row security
        return Ticket.objects.filter(is_deleted=False, category=self.category_title).order_by("-date_created")


class CategoryConnection(graphene.relay.Connection):
    class Meta:
        node = CategoryGQLType


__all__ = ["TicketGQLType", "TicketAttachmentGQLType", "CommentGQLType", "GrievanceTypeConfigurationGQLType",
           "CategoryGQLType", "CategoryConnection"]
