import graphene
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.mutation import mutation_fields
from core.rights import UNAUTHORIZED, require
from grievance_social_protection.gql_mutations import (
    CreateCommentMutation,
    CreateTicketAttachmentMutation,
    CreateTicketMutation,
    DeleteTicketAttachmentMutation,
    DeleteTicketMutation,
    ReopenTicketMutation,
    ResolveGrievanceByCommentMutation,
    UpdateTicketMutation,
)
from grievance_social_protection.gql_queries import (
    ATTACHMENT_SEARCH,
    TICKET_SEARCH,
    CategoryConnection,
    CategoryGQLType,
    CommentGQLType,
    GrievanceTypeConfigurationGQLType,
    TicketAttachmentGQLType,
    TicketGQLType,
    grievance_rights,
)
from grievance_social_protection.models import Comment, Ticket, TicketAttachment


def _live_tickets(info):
    """Non-deleted tickets, newest first (``orderBy`` replaces the order); refused without 127000."""
    require(info.context.user, TICKET_SEARCH)
    return Ticket.objects.filter(is_deleted=False).order_by("-date_created")


class Query(graphene.ObjectType):
    tickets = OrderedDjangoFilterConnectionField(
        TicketGQLType,
        show_history=graphene.Boolean(),
        client_mutation_id=graphene.String(),
        ticket_version=graphene.Int(),
    )
    ticket_details = OrderedDjangoFilterConnectionField(TicketGQLType)
    tickets_str = OrderedDjangoFilterConnectionField(TicketGQLType, str=graphene.String())
    grievance_config = graphene.Field(GrievanceTypeConfigurationGQLType)
    category = graphene.relay.ConnectionField(CategoryConnection)
    comments = OrderedDjangoFilterConnectionField(CommentGQLType)
    ticket_attachments = OrderedDjangoFilterConnectionField(TicketAttachmentGQLType)

    def resolve_tickets(self, info, show_history=None, client_mutation_id=None, ticket_version=None, **kwargs):
        tickets = _live_tickets(info)
        if show_history or ticket_version is not None:
            live_version = Ticket.objects.filter(id=OuterRef("id")).values("version")[:1]
            rows = Ticket.history.annotate(live_version=Subquery(live_version))
            if ticket_version is not None:
                rows = rows.filter(version=ticket_version)
            return rows.order_by("-history_date", "-history_id")
        if client_mutation_id:
            tickets = tickets.filter(mutations__mutation__client_mutation_id=client_mutation_id).distinct()
        return tickets

    def resolve_ticket_details(self, info, **kwargs):
        return _live_tickets(info)

    def resolve_tickets_str(self, info, str=None, **kwargs):
        tickets = _live_tickets(info)
        for term in (str or "").split():
            tickets = tickets.filter(Q(code__icontains=term) | Q(title__icontains=term)
                                     | Q(description__icontains=term))
        return tickets

    def resolve_grievance_config(self, info, **kwargs):
        # anonymous callers get the error "unauthorized": the frontend reads it as "not logged in"
        require(info.context.user, TICKET_SEARCH)
        return GrievanceTypeConfigurationGQLType()

    def resolve_category(self, info, **kwargs):
        # the frontend's category picker: the configured grievance types, for any holder of a grievance right
        require(info.context.user, grievance_rights)
        return CategoryGQLType.configured()

    def resolve_comments(self, info, **kwargs):
        if not CommentGQLType.readable(info):
            raise PermissionDenied(UNAUTHORIZED)
        # Comment.get_queryset narrows attending staff to the comments of their own tickets
        return Comment.objects.filter(is_deleted=False).select_related("ticket").order_by("-date_created")

    def resolve_ticket_attachments(self, info, **kwargs):
        """Live attachments of live tickets, newest first; the type applies the tickets' row security."""
        require(info.context.user, ATTACHMENT_SEARCH)
        return (TicketAttachment.objects.filter(is_deleted=False, ticket__is_deleted=False).select_related("ticket")
                .order_by("-date_created", "id"))


Mutation = mutation_fields(CreateTicketMutation, UpdateTicketMutation, DeleteTicketMutation, CreateCommentMutation,
                           ResolveGrievanceByCommentMutation, ReopenTicketMutation, CreateTicketAttachmentMutation,
                           DeleteTicketAttachmentMutation)
