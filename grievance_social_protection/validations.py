"""Ticket and comment validation. Messages are the upstream translation keys."""
import re

from django.core.exceptions import ValidationError

from core.validation import BaseModelValidation
from grievance_social_protection.apps import RESOLUTION_RE, TicketConfig
from grievance_social_protection.links import validate_link
from grievance_social_protection.models import Comment, Ticket, TicketStatus

T = "validations.TicketValidation"
C = "validations.CommentValidation"
# codes the generator writes ("GRS" + digits, any case): never supplied by a client, or one supplied code at the
# top of the space would make every later generated code collide
GENERATED_CODE_RE = re.compile(r"^\s*GRS[0-9]+\s*$", re.IGNORECASE)


def validate_resolution(value):
    """``"<days>,<hours>"``, days in [0, 99), hours in [0, 24); empty is accepted. Raises ValidationError."""
    if value in (None, ""):
        return
    match = RESOLUTION_RE.match(str(value))
    if not match:
        raise ValidationError(f"{T}.validate_resolution.invalid_format")
    if int(match.group(1)) >= 99:
        raise ValidationError(f"{T}.validate_resolution.invalid_day_value")
    if int(match.group(2)) >= 24:
        raise ValidationError(f"{T}.validate_resolution.invalid_hour_value")


def _split_flags(flags):
    return [f.strip() for f in str(flags).split(",") if f.strip()]


class TicketValidation(BaseModelValidation):
    OBJECT_TYPE = Ticket

    @classmethod
    def validate_unique_code(cls, code, excluded_id=None):
        if not code:
            return
        qs = Ticket.objects.filter(code=code)
        if excluded_id:
            qs = qs.exclude(id=excluded_id)
        if qs.exists():
            raise ValidationError(f"{T}.validate_ticket_unique_code")

    @classmethod
    def validate_code_not_generated(cls, code, current=None):
        """A supplied code may not look like a generated one (a ticket re-sending its own code is fine)."""
        if code and code != current and GENERATED_CODE_RE.match(str(code)):
            raise ValidationError(f"{T}.validate_ticket_code_reserved")

    @classmethod
    def validate_choices(cls, data):
        if data.get("category") not in (None, "") and data["category"] not in (TicketConfig.grievance_types or []):
            raise ValidationError(f"{T}.validate_category.invalid_value")
        if data.get("flags") not in (None, ""):
            allowed = TicketConfig.grievance_flags or []
            if any(flag not in allowed for flag in _split_flags(data["flags"])):
                raise ValidationError(f"{T}.validate_flags.invalid_value")
        if data.get("channel") not in (None, "") and data["channel"] not in (TicketConfig.grievance_channels or []):
            raise ValidationError(f"{T}.validate_channel.invalid_value")
        if "status" in data and data["status"] not in TicketStatus.values:
            raise ValidationError(f"{T}.validate_status.invalid_value")

    @classmethod
    def validate_reporter(cls, reporter_type, reporter_id):
        """Both or neither; explicit type mapping; the reporter must exist. Returns (ContentType, id)."""
        return validate_link(reporter_type, reporter_id, both_required=f"{T}.validate_reporter.type_and_id_required",
                             invalid_type=f"{T}.validate_reporter.invalid_type",
                             not_found=f"{T}.validate_reporter.reporter_not_found")

    @classmethod
    def validate_attending_staff(cls, staff_id):
        from core.models import User

        if staff_id in (None, ""):
            return
        if not User.objects.filter(id=staff_id, is_active=True).exists():
            raise ValidationError(f"{T}.validate_attending_staff.not_found")

    @classmethod
    def validate_create(cls, user, **data):
        cls._validate_fields(data)  # nothing to exclude from the unique-code check without an id
        cls.validate_code_not_generated(data.get("code"))

    @classmethod
    def validate_update(cls, user, **data):
        current = Ticket.objects.filter(id=data.get("id")).values_list("code", flat=True).first()
        cls._validate_fields(data)
        cls.validate_code_not_generated(data.get("code"), current)

    @classmethod
    def _validate_fields(cls, data):
        cls.validate_choices(data)
        cls.validate_attending_staff(data.get("attending_staff_id"))
        cls.validate_unique_code(data.get("code"), excluded_id=data.get("id"))


class CommentValidation(BaseModelValidation):
    OBJECT_TYPE = Comment

    @classmethod
    def validate_commenter(cls, commenter_type, commenter_id):
        """Both or neither (neither: an anonymous comment); the commenter must exist. Returns (ContentType, id)."""
        return validate_link(commenter_type, commenter_id,
                             both_required=f"{C}.validate_commenter.type_and_id_required",
                             invalid_type=f"{C}.validate_commenter.invalid_type",
                             not_found=f"{C}.validate_commenter_exists")

    @classmethod
    def validate_user_commenter_is_caller(cls, user, commenter_ct, commenter_id):
        """A comment signed by a user is signed by the caller: nobody posts in another user's name."""
        if commenter_ct is not None and (commenter_ct.app_label, commenter_ct.model) == ("core", "user") \
                and str(commenter_id) != str(user.id):
            raise ValidationError(f"{C}.validate_commenter.not_caller")

    @classmethod
    def validate_commenter_associated(cls, ticket, commenter_ct, commenter_id):
        """The commenter must be the ticket's attending staff user or its reporter."""
        if commenter_ct is None:
            return
        is_staff = (commenter_ct.app_label == "core" and commenter_ct.model == "user"
                    and ticket.attending_staff_id is not None and str(ticket.attending_staff_id) == commenter_id)
        is_reporter = ticket.reporter_type_id == commenter_ct.id and ticket.reporter_id == commenter_id
        if not (is_staff or is_reporter):
            raise ValidationError(f"{C}.commenter_not_associated_with_ticket")
