import graphene
from django.db.models import OuterRef, Q, Subquery

from core.schema import require
from grievance_social_protection.apps import TicketConfig
from grievance_social_protection.gql_mutations import (
    CreateCommentMutation,
    CreateTicketMutation,
    DeleteTicketMutation,
    ReopenTicketMutation,
    ResolveGrievanceByCommentMutation,
    UpdateTicketMutation,
)
from grievance_social_protection.gql_queries import (
    CommentGQLType,
    GrievanceTypeConfigurationGQLType,
    PagedConnectionField,
    TicketGQLType,
)
from grievance_social_protection.models import Comment, Ticket


def _live_tickets():
    return Ticket.objects.filter(is_deleted=False).order_by("-date_created")


class Query(graphene.ObjectType):
    tickets = PagedConnectionField(
        TicketGQLType,
        show_history=graphene.Boolean(),
        client_mutation_id=graphene.String(),
        ticket_version=graphene.Int(),
    )
    ticket_details = PagedConnectionField(TicketGQLType)
    tickets_str = PagedConnectionField(TicketGQLType, str=graphene.String())
    grievance_config = graphene.Field(GrievanceTypeConfigurationGQLType)
    comments = PagedConnectionField(CommentGQLType)

    def resolve_tickets(self, info, show_history=None, client_mutation_id=None, ticket_version=None, **kwargs):
        require(info.context.user, TicketConfig.gql_query_tickets_perms)
        if show_history or ticket_version is not None:
            live_version = Ticket.objects.filter(id=OuterRef("id")).values("version")[:1]
            rows = Ticket.history.annotate(live_version=Subquery(live_version))
            if ticket_version is not None:
                rows = rows.filter(version=ticket_version)
            return rows.order_by("-history_date", "-history_id")
        qs = _live_tickets()
        if client_mutation_id:
            qs = qs.filter(mutations__mutation__client_mutation_id=client_mutation_id).distinct()
        return qs

    def resolve_ticket_details(self, info, **kwargs):
        require(info.context.user, TicketConfig.gql_query_tickets_perms)
        return _live_tickets()

    def resolve_tickets_str(self, info, str=None, **kwargs):
        require(info.context.user, TicketConfig.gql_query_tickets_perms)
        qs = _live_tickets()
        for term in (str or "").split():
            qs = qs.filter(Q(code__icontains=term) | Q(title__icontains=term) | Q(description__icontains=term))
        return qs

    def resolve_grievance_config(self, info, **kwargs):
        # anonymous callers get the error "unauthorized": the frontend reads it as "not logged in"
        require(info.context.user, TicketConfig.gql_query_tickets_perms)
        return GrievanceTypeConfigurationGQLType()

    def resolve_comments(self, info, **kwargs):
        user = info.context.user
        require(user)
        if not user.has_perms(TicketConfig.gql_query_comments_perms) and not Ticket.objects.filter(
                attending_staff=user, is_deleted=False).exists():
            require(user, TicketConfig.gql_query_comments_perms)
        # Comment.get_queryset narrows attending staff to the comments of their own tickets
        return Comment.objects.filter(is_deleted=False).select_related("ticket").order_by("-date_created")


class Mutation(graphene.ObjectType):
    create_ticket = CreateTicketMutation.Field()
    update_ticket = UpdateTicketMutation.Field()
    delete_ticket = DeleteTicketMutation.Field()
    create_comment = CreateCommentMutation.Field()
    resolve_grievance_by_comment = ResolveGrievanceByCommentMutation.Field()
    reopen_ticket = ReopenTicketMutation.Field()
