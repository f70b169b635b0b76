"""Grievance mutations: rights check, then the service; failures land in the MutationLog."""
import graphene
from django.core.exceptions import PermissionDenied, ValidationError

from core.gql.mutation import BaseMutation, check_perms, strip_client_fields
from grievance_social_protection.apps import TicketConfig
from grievance_social_protection.models import Comment, Ticket, TicketMutation, TicketStatus
from grievance_social_protection.services import CommentService, TicketService

TicketStatusEnum = graphene.Enum.from_enum(TicketStatus, name="TicketStatusEnum")

MODULE = "grievance_social_protection"


def _link(user, data, ticket_id):
    if ticket_id and data.get("client_mutation_id"):
        TicketMutation.object_mutated(user, client_mutation_id=data["client_mutation_id"], ticket_id=ticket_id)


def _payload(data):
    payload = strip_client_fields(data)
    if payload.get("status") is not None:
        payload["status"] = getattr(payload["status"], "value", payload["status"])
    return payload


class TicketInputFields:
    key = graphene.String(required=False)
    title = graphene.String(required=False)
    description = graphene.String(required=False)
    code = graphene.String(required=False)
    reporter_type = graphene.String(required=False)
    reporter_id = graphene.String(required=False)
    attending_staff_id = graphene.UUID(required=False)
    date_of_incident = graphene.Date(required=False)
    status = graphene.Field(TicketStatusEnum, required=False)
    priority = graphene.String(required=False)
    due_date = graphene.Date(required=False)
    category = graphene.String(required=True)
    flags = graphene.String(required=False)
    channel = graphene.String(required=False)
    resolution = graphene.String(required=False)


class CreateTicketMutation(BaseMutation):
    _mutation_module = MODULE
    _mutation_class = "CreateTicketMutation"

    class Input(TicketInputFields, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TicketConfig.gql_mutation_create_tickets_perms)

    @classmethod
    def _mutate(cls, user, **data):
        result = TicketService(user).create(_payload(data))
        if not result.get("success"):
            return result
        _link(user, data, result["data"]["id"])
        return None


class UpdateTicketMutation(BaseMutation):
    _mutation_module = MODULE
    _mutation_class = "UpdateTicketMutation"

    class Input(TicketInputFields, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TicketConfig.gql_mutation_update_tickets_perms)
        if not Ticket.objects.filter(id=data["id"], is_deleted=False).exists():
            raise ValidationError("validations.TicketValidation.validate_ticket_exists")

    @classmethod
    def _mutate(cls, user, **data):
        result = TicketService(user).update(_payload(data))
        if not result.get("success"):
            return result
        _link(user, data, data["id"])
        return None


class DeleteTicketMutation(BaseMutation):
    _mutation_module = MODULE
    _mutation_class = "DeleteTicketMutation"

    class Input(BaseMutation.Input):
        ids = graphene.List(graphene.UUID)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TicketConfig.gql_mutation_delete_tickets_perms)

    @classmethod
    def _mutate(cls, user, **data):
        ids = [i for i in (data.get("ids") or []) if i]
        if not ids:
            raise ValidationError("validations.TicketValidation.validate_ticket_exists")
        service = TicketService(user)
        errors = []
        for ticket_id in ids:
            result = service.delete({"id": ticket_id})
            if result.get("success"):
                _link(user, data, ticket_id)
            else:
                errors.append({"message": result["message"], "detail": f"{ticket_id}: {result['detail']}"})
        return errors or None  # any failure rolls the whole mutation back


class CreateCommentMutation(BaseMutation):
    _mutation_module = MODULE
    _mutation_class = "CreateCommentMutation"

    class Input(BaseMutation.Input):
        ticket_id = graphene.UUID(required=True)
        comment = graphene.String(required=True)
        commenter_type = graphene.String(required=False)
        commenter_id = graphene.String(required=False)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, [])  # authentication only: the ticket decides (127005 or its attending staff)
        ticket = Ticket.objects.filter(id=data["ticket_id"], is_deleted=False).first()
        if not CommentService.may_comment(user, ticket):
            raise PermissionDenied("unauthorized")

    @classmethod
    def _mutate(cls, user, **data):
        result = CommentService(user).create(strip_client_fields(data))
        if not result.get("success"):
            return result
        _link(user, data, data["ticket_id"])
        return None


class ResolveGrievanceByCommentMutation(BaseMutation):
    _mutation_module = MODULE
    _mutation_class = "ResolveGrievanceByCommentMutation"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TicketConfig.gql_mutation_resolve_grievance_perms)

    @classmethod
    def _mutate(cls, user, **data):
        result = CommentService(user).resolve_grievance_by_comment({"id": data["id"]})
        if not result.get("success"):
            return result
        _link(user, data, Comment.objects.filter(id=data["id"]).values_list("ticket_id", flat=True).first())
        return None


class ReopenTicketMutation(BaseMutation):
    _mutation_module = MODULE
    _mutation_class = "ReopenTicketMutation"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TicketConfig.gql_mutation_update_tickets_perms)

    @classmethod
    def _mutate(cls, user, **data):
        result = TicketService(user).reopen_ticket({"id": data["id"]})
        if not result.get("success"):
            return result
        _link(user, data, data["id"])
        return None
