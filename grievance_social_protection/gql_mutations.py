"""Grievance mutations: each is one service call (rights check, payload, service, mutation-log link)."""
import graphene
from django.core.exceptions import PermissionDenied, ValidationError
from graphql import GraphQLError
from graphql.language import EnumValueNode, StringValueNode

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation
from grievance_social_protection.models import Ticket, TicketMutation, TicketStatus
from grievance_social_protection.services import CommentService, TicketService


class TicketStatusInput(graphene.Scalar):
    """A ticket status as the frontend sends it: the enum literal (``status: OPEN``, the update form and the
    ticket summaries) or a string (``status: "RECEIVED"``, the create form). A GraphQL enum refuses the string
    form, so this is a scalar; it keeps the enum's name, so documents declaring ``$status: TicketStatusEnum`` still
    validate. Anything but one of the five statuses is a GraphQL error, as the enum gave."""

    class Meta:
        name = "TicketStatusEnum"
        description = "RECEIVED, OPEN, IN_PROGRESS, RESOLVED or CLOSED, as an enum literal or a string"

    @staticmethod
    def _checked(value):
        if value in TicketStatus.values:
            return value
        raise GraphQLError(f"TicketStatusEnum: expected one of {', '.join(TicketStatus.values)}, got {value!r}")

    @staticmethod
    def serialize(value):
        return getattr(value, "value", value)

    @classmethod
    def parse_value(cls, value):
        return cls._checked(value)

    @classmethod
    def parse_literal(cls, node, _variables=None):
        if isinstance(node, (EnumValueNode, StringValueNode)):
            return cls._checked(node.value)
        raise GraphQLError(f"TicketStatusEnum: expected one of {', '.join(TicketStatus.values)}")


MODULE = "grievance_social_protection"
TICKET_EXISTS = "validations.TicketValidation.validate_ticket_exists"


def ticket_input_fields(name, category_required):
    """The ticket input fields; ``category`` is required on create only: the frontend's ``resolveTicket`` sends
    ``updateTicket`` without it (the ticket keeps its category)."""
    return type(name, (), {
        **{field: graphene.String() for field in ("key", "title", "description", "code", "reporter_type",
                                                  "reporter_id", "priority", "flags", "channel", "resolution")},
        "category": graphene.String(required=category_required),
        "attending_staff_id": graphene.UUID(),
        "date_of_incident": graphene.Date(),
        "due_date": graphene.Date(),
        "status": TicketStatusInput(),
    })


TicketInputFields = ticket_input_fields("TicketInputFields", category_required=True)
TicketUpdateFields = ticket_input_fields("TicketUpdateFields", category_required=False)


class _GrievanceMutation(ServiceMutation):
    _mutation_module = MODULE
    link_model, link_field = TicketMutation, "ticket"  # every grievance mutation is logged on its ticket

    class Meta:
        abstract = True


class _TicketMutation(_GrievanceMutation):
    service = TicketService

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

    class Input(TicketUpdateFields, BaseMutation.Input):
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
