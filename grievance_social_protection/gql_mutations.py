"""Grievance mutations: each is one service call (rights check, payload, service, mutation-log link)."""
import graphene
from django.core.exceptions import PermissionDenied, ValidationError

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation
from grievance_social_protection.models import Ticket, TicketMutation, TicketStatus
from grievance_social_protection.services import CommentService, TicketService

TicketStatusEnum = graphene.Enum.from_enum(TicketStatus, name="TicketStatusEnum")

MODULE = "grievance_social_protection"
TICKET_EXISTS = "validations.TicketValidation.validate_ticket_exists"


TicketInputFields = type("TicketInputFields", (), {
    **{name: graphene.String() for name in ("key", "title", "description", "code", "reporter_type", "reporter_id",
                                            "priority", "flags", "channel", "resolution")},
    "category": graphene.String(required=True),
    "attending_staff_id": graphene.UUID(),
    "date_of_incident": graphene.Date(),
    "due_date": graphene.Date(),
    "status": graphene.Field(TicketStatusEnum),
})


class _GrievanceMutation(ServiceMutation):
    _mutation_module = MODULE
    link_model, link_field = TicketMutation, "ticket"  # every grievance mutation is logged on its ticket

    class Meta:
        abstract = True


class _TicketMutation(_GrievanceMutation):
    service = TicketService  # the service reads the value of the status enum itself

    class Meta:
        abstract = True


class CreateTicketMutation(_TicketMutation):
    permission = "grievance_social_protection.gql_mutation_create_tickets_perms"
    method = "create"

    class Input(TicketInputFields, BaseMutation.Input):
        pass


class UpdateTicketMutation(_TicketMutation):
    permission = "grievance_social_protection.gql_mutation_update_tickets_perms"
    method = "update"

    class Input(TicketInputFields, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def check_access(cls, user, data):
        if not Ticket.objects.filter(id=data["id"], is_deleted=False).exists():
            raise ValidationError(TICKET_EXISTS)


class ReopenTicketMutation(_TicketMutation):
    permission = "grievance_social_protection.gql_mutation_update_tickets_perms"
    method = "reopen_ticket"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)


class DeleteTicketMutation(_TicketMutation):
    # every ticket of ``ids`` through TicketService.delete (the signal fires), all or nothing
    permission = "grievance_social_protection.gql_mutation_delete_tickets_perms"
    method, each = "delete", "ids"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def check_access(cls, user, data):
        if not any(data.get("ids") or []):
            raise ValidationError(TICKET_EXISTS)

    @classmethod
    def call_service(cls, user, payload):
        result = super().call_service(user, payload)
        if result.get("success") is False:  # say which ticket failed
            result = {**result, "detail": f"{payload['id']}: {result['detail']}"}
        return result


class CreateCommentMutation(_GrievanceMutation):
    permission = None  # logged in: the ticket decides (127005, or its attending staff)
    service, method = CommentService, "create"

    class Input(BaseMutation.Input):
        ticket_id = graphene.UUID(required=True)
        comment = graphene.String(required=True)
        commenter_type = graphene.String(required=False)
        commenter_id = graphene.String(required=False)

    @classmethod
    def check_access(cls, user, data):
        ticket = Ticket.objects.filter(id=data["ticket_id"], is_deleted=False).first()
        if not CommentService.may_comment(user, ticket):
            raise PermissionDenied("unauthorized")

    @classmethod
    def linked_id(cls, data, result):
        return data["ticket_id"]


class ResolveGrievanceByCommentMutation(_GrievanceMutation):
    permission = "grievance_social_protection.gql_mutation_resolve_grievance_perms"
    service, method = CommentService, "resolve_grievance_by_comment"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def linked_id(cls, data, result):
        return result["data"]["ticket_id"]  # the log is linked to the comment's ticket
