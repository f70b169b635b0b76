"""Ticket, comment and attachment services: every write, validation and service signal of the grievance module.

Operations raise business errors; the service signal wrapper is their error boundary (one transaction, the
openIMIS result dict). The one exception is the spec's: an invalid ``resolution`` raises ValidationError to the
caller of ``TicketService.create``/``update`` instead of answering a failure result (spec §6.1).
"""
import base64
import binascii
import contextlib
import contextvars
import functools
import hashlib
import logging
import os
import re
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Max
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from core.rights import has_rights
from core.services import BaseService, check_max_length, model_representation, output_result_success
from core.signals import register_service_signal
from grievance_social_protection.apps import RESOLUTION_RE, TicketConfig
from grievance_social_protection.links import link_type_name
from grievance_social_protection.models import Comment, Ticket, TicketAttachment, TicketStatus
from grievance_social_protection.validations import (
    C,
    T,
    CommentValidation,
    TicketValidation,
    validate_resolution,
)

logger = logging.getLogger(__name__)

CODE_PREFIX = "GRS"
CODE_DIGITS = 8
# generated codes: "GRS" + 8 digits, more only if a code at the top of the space was ever written (legacy data)
CODE_RE = re.compile(rf"^{CODE_PREFIX}[0-9]{{{CODE_DIGITS},13}}$")
# transaction-scoped PostgreSQL advisory lock serialising ticket code generation ("GRS" + right 127000)
CODE_LOCK_KEY = 0x475253_127000

TICKET_FIELDS = {
    "key", "title", "description", "code", "reporter_type", "reporter_id", "attending_staff_id", "date_of_incident",
    "status", "priority", "due_date", "category", "flags", "channel", "resolution", "json_ext",
}


@contextlib.contextmanager
def constraint_as(key):
    """A unique constraint hit by a concurrent write is the business error ``key`` (the database's own text
    is logged, never shown to a client)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        logger.info("constraint violation reported as %s: %s", key, exc)
        raise ValidationError(key) from exc


def _status_value(value):
    return getattr(value, "value", value)


# --- codes ---------------------------------------------------------------------------------------
def lock_code_generation():
    """Serialise code generation until the surrounding transaction ends (no-op on SQLite: single writer
    plus the retry on IntegrityError in ``save_new_ticket``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CODE_LOCK_KEY])


def next_ticket_code():
    """``GRS`` + 8 digits, one above the greatest NUMBER of the generated space (deleted tickets included),
    compared as a number in SQL: a legacy ``GRS99999999`` is followed by ``GRS100000000`` and a zero-padded
    legacy ``GRS000000001`` counts as 1, so generation never falls back onto an existing code. Clients cannot
    supply codes in this space (``TicketValidation.validate_code_not_generated``)."""
    last = (Ticket.objects.filter(code__startswith=CODE_PREFIX, code__regex=CODE_RE.pattern)
            .aggregate(number=Max(Cast(Substr("code", len(CODE_PREFIX) + 1), BigIntegerField())))["number"])
    return f"{CODE_PREFIX}{(last or 0) + 1:0{CODE_DIGITS}d}"


# --- resolution times ----------------------------------------------------------------------------
def parse_resolution(value):
    """``"<days>,<hours>"`` → timedelta, or None when empty / malformed."""
    match = RESOLUTION_RE.match(str(value or ""))
    if not match:
        return None
    return timedelta(days=int(match.group(1)), hours=int(match.group(2)))


def resolution_time_for(ticket):
    """The ticket's resolution, else its category default, else ``resolution_times`` (spec §9.3)."""
    defaults = TicketConfig.default_resolution or {}
    for candidate in (ticket.resolution, defaults.get(ticket.category), TicketConfig.resolution_times):
        delta = parse_resolution(candidate)
        if delta is not None:
            return delta
    return None


def compute_due_date(ticket):
    delta = resolution_time_for(ticket)
    if delta is None:
        return None
    return timezone.localtime((ticket.date_created or timezone.now()) + delta).date()


def save_new_ticket(ticket, user):
    """Insert ``ticket``, generating its code when it has none (spec §5: under a lock, and retried once when a
    concurrent create took the same code). Used by the service (Django admin is read-only for tickets)."""
    generate_code = not ticket.code
    for attempt in range(2):
        try:
            with transaction.atomic():
                if generate_code:
                    lock_code_generation()
                    ticket.code = next_ticket_code()
                ticket.save(user=user)
            return ticket
        except IntegrityError:
            if not generate_code or attempt:
                raise
            ticket.id = None  # a concurrent create took the same code: retry once with a fresh one
            ticket._state.adding = True
    return ticket


def resolution_raises(operation):
    """Spec §6.1: an invalid ``resolution`` raises ValidationError to the caller of ``create``/``update``, as
    upstream does, instead of answering a failure result: it is checked before the operation's boundary."""

    @functools.wraps(operation)
    def checked(self, obj_data, **kwargs):
        validate_resolution(obj_data.get("resolution"))
        return operation(self, obj_data, **kwargs)

    return checked


def live_row(queryset, obj_id, missing):
    """The non-deleted row ``obj_id`` of ``queryset``, else ValidationError with the spec's key ``missing``."""
    row = None
    if obj_id not in (None, ""):
        try:
            row = queryset.filter(id=obj_id).first()
        except ValidationError:  # not a UUID
            row = None
    if row is None or row.is_deleted:
        raise ValidationError(missing)
    return row


# --- tickets -------------------------------------------------------------------------------------
class TicketService(BaseService):
    """create / update / delete / reopen_ticket, each answering the core result dict."""

    OBJECT_TYPE = Ticket

    def __init__(self, user, validation_class=TicketValidation):
        super().__init__(user, validation_class)

    def get_live(self, obj_id, lock=False):
        queryset = Ticket.objects.select_for_update() if lock else Ticket.objects
        return live_row(queryset, obj_id, f"{T}.validate_ticket_exists")

    def _clean_payload(self, obj_data):
        data = {k: v for k, v in dict(obj_data).items() if k in TICKET_FIELDS or k == "id"}
        unknown = set(obj_data) - set(data)
        if unknown:
            raise ValidationError(f"{T}.unknown_fields: {', '.join(sorted(unknown))}")
        if "status" in data:
            data["status"] = _status_value(data["status"]) or TicketStatus.RECEIVED
        if data.get("code") == "":
            data["code"] = None
        return data

    def _convert_reporter(self, data, ticket=None):
        """reporter_type name → ContentType, reporter_id normalised; merges with the stored reporter."""
        if "reporter_type" not in data and "reporter_id" not in data:
            return data
        reporter_type = data.get("reporter_type", None)
        if isinstance(reporter_type, ContentType):
            reporter_type = link_type_name(reporter_type.id)
        if ticket is not None:
            if "reporter_type" not in data:
                reporter_type = link_type_name(ticket.reporter_type_id)
            if "reporter_id" not in data:
                data["reporter_id"] = ticket.reporter_id
        content_type, reporter_id = self.validation_class.validate_reporter(reporter_type, data.get("reporter_id"))
        data["reporter_type"], data["reporter_id"] = content_type, reporter_id
        return data

    @resolution_raises
    @register_service_signal("ticket_service.create")
    def create(self, obj_data):
        data = self._clean_payload(obj_data)
        data.pop("id", None)
        data = self._convert_reporter(data)
        self.validation_class.validate_create(self.user, **data)
        ticket = Ticket(**data)
        if TicketConfig.compute_due_date_from_resolution and not ticket.due_date:
            ticket.date_created = timezone.now()
            ticket.due_date = compute_due_date(ticket)
        with constraint_as(f"{T}.validate_ticket_unique_code"):
            save_new_ticket(ticket, self.user)
        return output_result_success(model_representation(ticket))

    @resolution_raises
    @register_service_signal("ticket_service.update")
    def update(self, obj_data):
        data = self._clean_payload(obj_data)
        ticket = self.get_live(data.get("id"), lock=True)
        data = self._convert_reporter(data, ticket)
        self.validation_class.validate_update(self.user, **data)
        if "code" in data and not data["code"]:
            data.pop("code")  # codes are never cleared or regenerated on update
        for key, value in data.items():
            if key != "id":
                setattr(ticket, key, value)
        with constraint_as(f"{T}.validate_ticket_unique_code"):
            return self.save_instance(ticket)

    @register_service_signal("ticket_service.delete")
    def delete(self, obj_data):
        return self.delete_instance(self.get_live(obj_data.get("id"), lock=True))

    @register_service_signal("ticket_service.reopen_ticket")
    def reopen_ticket(self, obj_data):
        ticket = self.get_live(obj_data.get("id"), lock=True)
        if ticket.status not in (TicketStatus.CLOSED, TicketStatus.RESOLVED):
            raise ValidationError(f"{T}.reopen_ticket.ticket_not_closed")
        for comment in ticket.comments.select_for_update().filter(is_resolution=True, is_deleted=False):
            comment.is_resolution = False
            comment.save(user=self.user)
        ticket.status = TicketStatus.OPEN
        ticket.json_ext = {**(ticket.json_ext or {}), "reopened_at": timezone.now().isoformat()}
        ticket.save(user=self.user)
        return {"success": True, "message": "Ok", "detail": "reopen_ticket"}


# --- comments ------------------------------------------------------------------------------------
class CommentService:
    """create / resolve_grievance_by_comment (the spec has no comment update or delete)."""

    OBJECT_TYPE = Comment

    def __init__(self, user, validation_class=CommentValidation):
        self.user = user
        self.validation_class = validation_class

    @staticmethod
    def may_comment(user, ticket):
        """127005, or the attending staff of that ticket (spec §8.2, our rule)."""
        if has_rights(user, TicketConfig.gql_mutation_create_comment_perms):
            return True
        return ticket is not None and ticket.attending_staff_id is not None and ticket.attending_staff_id == user.id

    @register_service_signal("comment_service.create")
    def create(self, obj_data):
        ticket_id = obj_data.get("ticket_id") or getattr(obj_data.get("ticket"), "id", None)
        ticket = live_row(Ticket.objects.select_for_update(), ticket_id, f"{C}.validate_ticket_exists")
        if not self.may_comment(self.user, ticket):
            raise PermissionDenied("unauthorized")
        if not str(obj_data.get("comment") or "").strip():
            raise ValidationError(f"{C}.validate_comment.empty")
        commenter_type = obj_data.get("commenter_type")
        commenter_type = commenter_type.lower() if isinstance(commenter_type, str) else commenter_type
        commenter_ct, commenter_id = self.validation_class.validate_commenter(
            commenter_type, obj_data.get("commenter_id"))
        if not has_rights(self.user, TicketConfig.gql_mutation_create_comment_perms):
            self.validation_class.validate_commenter_associated(ticket, commenter_ct, commenter_id)
        self.validation_class.validate_user_commenter_is_caller(self.user, commenter_ct, commenter_id)
        comment = Comment(ticket=ticket, comment=obj_data["comment"], commenter_type=commenter_ct,
                          commenter_id=commenter_id, is_resolution=False)
        comment.save(user=self.user)
        ticket.json_ext = {**(ticket.json_ext or {}),
                           "comment_ids": [*(ticket.json_ext or {}).get("comment_ids", []), str(comment.id)]}
        ticket.save(user=self.user)
        return output_result_success(model_representation(comment))

    @register_service_signal("comment_service.resolve_grievance_by_comment")
    def resolve_grievance_by_comment(self, obj_data):
        comment = live_row(Comment.objects, obj_data.get("id"), f"{C}.validate_comment_exists")
        # lock order ticket → comments, as reopen_ticket takes them
        ticket = live_row(Ticket.objects.select_for_update(), comment.ticket_id, f"{C}.validate_ticket_exists")
        comment = Comment.objects.select_for_update().get(id=comment.id)
        if ticket.comments.filter(is_resolution=True, is_deleted=False).exists():
            raise ValidationError(f"{C}.resolve_grievance_by_comment.already_resolved")
        if ticket.status == TicketStatus.CLOSED:
            raise ValidationError(f"{C}.resolve_grievance_by_comment.ticket_closed")
        comment.is_resolution = True
        with constraint_as(f"{C}.resolve_grievance_by_comment.already_resolved"):
            comment.save(user=self.user)
        ticket.status = TicketStatus.CLOSED
        ticket.save(user=self.user)
        return {"success": True, "message": "Ok", "detail": "resolve_grievance_by_comment",
                "data": {"ticket_id": str(ticket.id), "comment_id": str(comment.id)}}


# --- attachments (spec §12) ------------------------------------------------------------------------
# leading bytes of each content type whose signature we check; webp is "RIFF" <size> "WEBP"
SIGNATURES = {
    "image/jpeg": lambda content: content.startswith(b"\xff\xd8\xff"),
    "image/png": lambda content: content.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda content: content[:4] == b"RIFF" and content[8:12] == b"WEBP",
    "application/pdf": lambda content: content.startswith(b"%PDF-"),
    "text/plain": lambda content: b"\x00" not in content and _is_utf8(content),
}
# a client may send the base64 text as a data URL; ':' and ';' are outside the base64 alphabet, so the
# prefix cannot be mistaken for content
DATA_URL_RE = re.compile(r"^data:[^,]*;base64,", re.IGNORECASE)
_new_files = contextvars.ContextVar("grievance_new_attachment_files", default=())


def _is_utf8(content):
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def attachment_storage():
    """The storage of the attachments' bytes, read from the configuration at call time (a configuration change
    needs no restart)."""
    root = TicketConfig.tickets_attachments_root_path or "ticket_attachments"
    return FileSystemStorage(location=os.path.join(settings.MEDIA_ROOT, root))  # an absolute root wins


class NewAttachmentFiles:
    """Names of the files written inside a ``new_attachment_files()`` block."""

    def __init__(self):
        self.names = []

    def discard(self):
        storage = attachment_storage()
        for name in self.names:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("could not remove the attachment file %s of a rolled-back write", name)
        self.names = []


@contextlib.contextmanager
def new_attachment_files():
    """Collects the attachment files written inside the block; they are removed when the block raises. A caller
    whose transaction is rolled back for another reason (a failure result) calls ``discard()``: Django has no
    rollback hook, and a file whose row was rolled back must not stay on disk."""
    files = NewAttachmentFiles()
    token = _new_files.set((*_new_files.get(), files))
    try:
        yield files
    except BaseException:
        files.discard()
        raise
    finally:
        _new_files.reset(token)


def _write_attachment_file(content):
    """Stores ``content`` under a new random name (two-character folders keep directories small)."""
    name = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"
    trackers = _new_files.get()
    for files in trackers:  # before the write: a write that fails half-way is removed too
        files.names.append(name)
    saved = attachment_storage().save(name, ContentFile(content))
    if saved != name:  # the storage chose another name (never expected with a random one)
        for files in trackers:
            files.names.append(saved)
    return saved


def clean_filename(filename):
    """The last path component (either separator) without control characters; a path is never taken from the
    client."""
    name = re.split(r"[\\/]", str(filename or ""))[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()
    if name in ("", ".", ".."):
        raise ValidationError("The attachment needs a file name")
    check_max_length(TicketAttachment, "filename", name, "The file name")
    return name


def clean_mime_type(mime_type):
    """The declared type, lower case, without parameters (``text/plain; charset=utf-8`` → ``text/plain``)."""
    declared = str(mime_type or "").split(";")[0].strip().lower()
    allowed = [str(t).lower() for t in TicketConfig.ticket_attachment_mime_types or []]
    if declared not in allowed:
        raise ValidationError(f"File type {declared or '(none)'} is not allowed; allowed types: {', '.join(allowed)}")
    return declared


def decode_document(document):
    """The file bytes of the base64 ``document``: refused when empty, not base64 or too large (the size is
    checked on the text first, so an oversized file is never decoded)."""
    text = DATA_URL_RE.sub("", "".join(str(document or "").split()), count=1)
    if not text:
        raise ValidationError("The file is empty")
    limit = int(TicketConfig.ticket_attachment_max_bytes)
    if len(text) // 4 * 3 - 2 > limit:
        raise ValidationError(f"The file is larger than the {limit} bytes allowed")
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The file content (document) is not valid base64") from None
    if not content:
        raise ValidationError("The file is empty")
    if len(content) > limit:
        raise ValidationError(f"The file is larger than the {limit} bytes allowed")
    return content


def check_content_matches(mime_type, content):
    """The content must be what the declared type says; a configured type without a known signature is
    accepted as declared (README)."""
    check = SIGNATURES.get(mime_type)
    if check is not None and not check(content):
        raise ValidationError(f"The file content does not match its declared type {mime_type}")


class TicketAttachmentService:
    """create / delete (soft) of ticket attachments. Only tickets and attachments the user may see (their row
    security) are found; rights are checked by the callers (GraphQL mutations), as for tickets."""

    OBJECT_TYPE = TicketAttachment

    def __init__(self, user):
        self.user = user

    def create(self, obj_data):
        # the file is written inside the service boundary, after every check; it is removed again when the
        # boundary rolls the row back
        with new_attachment_files() as files:
            result = self._create(obj_data)
            if not result.get("success", True):
                files.discard()
        return result

    @register_service_signal("ticket_attachment_service.create")
    def _create(self, obj_data):
        ticket = live_row(Ticket.get_queryset(Ticket.objects.all(), self.user), obj_data.get("ticket_id"),
                          "Ticket not found")
        filename = clean_filename(obj_data.get("filename"))
        mime_type = clean_mime_type(obj_data.get("mime_type"))
        content = decode_document(obj_data.get("document"))
        check_content_matches(mime_type, content)
        attachment = TicketAttachment(
            ticket=ticket, filename=filename, mime_type=mime_type, date=obj_data.get("date") or timezone.localdate(),
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), stored_name="")
        attachment.stored_name = _write_attachment_file(content)
        attachment.save(user=self.user)
        return output_result_success({"id": str(attachment.id), "uuid": str(attachment.id),
                                      "ticket_id": str(ticket.id), "filename": filename, "mime_type": mime_type,
                                      "size": attachment.size, "sha256": attachment.sha256})

    @register_service_signal("ticket_attachment_service.delete")
    def delete(self, obj_data):
        """Soft delete: the row (and its history) and the stored file stay."""
        attachment = live_row(
            TicketAttachment.get_queryset(TicketAttachment.objects.select_for_update(), self.user)
            .filter(ticket__is_deleted=False), obj_data.get("id"), "Attachment not found")
        attachment.delete(user=self.user)
        return {"success": True, "message": "Ok", "detail": "", "data": {"id": str(attachment.id),
                                                                         "ticket_id": str(attachment.ticket_id)}}


def visible_attachments(user):
    """Live attachments of live tickets that ``user`` may see (row security only: callers check the right)."""
    return TicketAttachment.get_queryset(
        TicketAttachment.objects.filter(is_deleted=False, ticket__is_deleted=False), user)


def attachment_file(attachment):
    """The stored bytes of ``attachment`` as an open file; FileNotFoundError when they are gone."""
    return attachment_storage().open(attachment.stored_name, "rb")
