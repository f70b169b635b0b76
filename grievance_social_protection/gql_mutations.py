"""Grievance mutations: each is one service call (rights check, payload, service, mutation-log link)."""
import json

import graphene
from django.core.exceptions import PermissionDenied, ValidationError
from graphql import GraphQLError
from graphql.language import EnumValueNode, StringValueNode

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation
from core.models import MutationLog
from core.signals import signal_mutation_module_after_mutating
from grievance_social_protection.models import Ticket, TicketAttachment, TicketMutation, TicketStatus
from grievance_social_protection.services import (
    CommentService,
    TicketAttachmentService,
    TicketService,
    new_attachment_files,
)


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


class _DeleteEach:
    """Soft delete of every record of ``ids``, all or nothing: an empty list names nothing (``not_found``),
    and a failure says which record failed."""

    not_found = TICKET_EXISTS

    @classmethod
    def check_access(cls, user, data):
        if not any(data.get("ids") or []):
            raise ValidationError(cls.not_found)

    @classmethod
    def call_service(cls, user, payload):
        result = super().call_service(user, payload)
        if result.get("success") is False:
            result = {**result, "detail": f"{payload['id']}: {result['detail']}"}
        return result


class DeleteTicketMutation(_DeleteEach, _TicketMutation):
    # every ticket of ``ids`` through TicketService.delete (the signal fires), all or nothing
    permission = "grievance_social_protection.gql_mutation_delete_tickets_perms"
    method, each = "delete", "ids"

    class Input(IdsInput, BaseMutation.Input):
        pass


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


class CreateTicketAttachmentMutation(_GrievanceMutation):
    """``document`` is the file content in base64 (the frontend's shape): the whole request must fit the GraphQL
    body cap (``GRAPHQL_MAX_BODY_SIZE``). The log is linked to the ticket; it does not keep the file."""

    permission = "grievance_social_protection.gql_mutation_create_ticket_attachment_perms"
    service, method = TicketAttachmentService, "create"

    class Input(BaseMutation.Input):
        ticket_uuid = graphene.UUID(required=True)
        filename = graphene.String(required=True)
        mime_type = graphene.String(required=True)
        date = graphene.Date()
        document = graphene.String(required=True, description="the file content, base64")

    @classmethod
    def payload(cls, user, data):
        payload = super().payload(user, data)
        payload["ticket_id"] = str(payload.pop("ticket_uuid"))
        return payload

    @classmethod
    def linked_id(cls, data, result):
        return result["data"]["ticket_id"]

    @classmethod
    def _mutate(cls, user, **data):
        # the mutation's own transaction may still roll back after the service wrote the file
        with new_attachment_files() as files:
            errors = super()._mutate(user, **data)
            if errors:
                files.discard()
        return errors


def _log_without_document(mutation_log_id=None, **kwargs):
    """Once the mutation has run (a celery worker reads the input from the log until then), the log says how long
    the document was instead of holding it: a mutation log is no second copy of every attachment (the row keeps
    the file's size and sha256)."""
    log = MutationLog.objects.filter(id=mutation_log_id).only("json_content").first()
    try:
        logged = json.loads(log.json_content) if log is not None else None
    except ValueError:
        return
    if not isinstance(logged, dict) or not isinstance(logged.get("document"), str):
        return
    logged["document"] = f"<{len(logged['document'])} base64 characters, not kept in the log>"
    MutationLog.objects.filter(id=mutation_log_id).update(json_content=json.dumps(logged))


signal_mutation_module_after_mutating[MODULE].connect(_log_without_document, sender=CreateTicketAttachmentMutation,
                                                      dispatch_uid="grievance_attachment_log")


class DeleteTicketAttachmentMutation(_DeleteEach, _GrievanceMutation):
    """Soft delete of every attachment of ``ids``, all or nothing; each is logged on its ticket."""

    not_found = "Attachment not found"
    permission = "grievance_social_protection.gql_mutation_delete_ticket_attachment_perms"
    service, method, each = TicketAttachmentService, "delete", "ids"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def link(cls, user, data, obj_id):
        ticket_id = TicketAttachment.objects.filter(id=obj_id).values_list("ticket_id", flat=True).first()
        super().link(user, data, ticket_id)
