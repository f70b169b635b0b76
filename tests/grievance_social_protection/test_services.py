import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.signals import bind_service_signal, unbind_service_signal, ServiceSignalBindType
from grievance_social_protection.apps import TicketConfig
from grievance_social_protection.models import Comment, Ticket
from grievance_social_protection.services import CommentService, TicketService, compute_due_date

pytestmark = pytest.mark.django_db

FORMAT = "validations.TicketValidation.validate_resolution.invalid_format"
DAY = "validations.TicketValidation.validate_resolution.invalid_day_value"
HOUR = "validations.TicketValidation.validate_resolution.invalid_hour_value"
INVALID_RESOLUTIONS = [("sdasdasadsda", FORMAT), ("99,5", DAY), ("1,54", HOUR)]

SERVICE_TICKET = {
    "category": "Default",
    "title": "Service ticket",
    "resolution": "8,7",
    "priority": "High",
    "date_of_incident": datetime.date(2024, 11, 20),
    "channel": "Channel A",
    "flags": "Default",
}


# --- upstream behaviours (tests/ticket_service_test.py) ------------------------------------------
def test_create_ticket(officer):
    result = TicketService(officer).create(SERVICE_TICKET)
    assert result["success"], result
    ticket = Ticket.objects.filter(uuid=result["data"]["uuid"], is_deleted=False).get()
    assert ticket.title == "Service ticket" and ticket.resolution == "8,7"
    assert ticket.status == Ticket.TicketStatus.RECEIVED
    assert ticket.history.count() == 1


@pytest.mark.parametrize("resolution, message", INVALID_RESOLUTIONS)
def test_create_invalid_resolution_raises(officer, resolution, message):
    with pytest.raises(ValidationError) as exc:
        TicketService(officer).create({**SERVICE_TICKET, "resolution": resolution})
    assert message in exc.value.messages
    assert not Ticket.objects.exists()


def test_update_ticket(officer, make_ticket):
    ticket = make_ticket()
    result = TicketService(officer).update(
        {"id": ticket.id, "title": "Updated", "status": "OPEN", "resolution": "1,4", "priority": "Medium"})
    assert result["success"], result
    ticket.refresh_from_db()
    assert (ticket.title, ticket.status, ticket.resolution, ticket.priority) == ("Updated", "OPEN", "1,4", "Medium")
    assert ticket.version == 2 and ticket.history.count() == 2


@pytest.mark.parametrize("resolution, message", INVALID_RESOLUTIONS)
def test_update_invalid_resolution_raises(officer, make_ticket, resolution, message):
    ticket = make_ticket()
    with pytest.raises(ValidationError) as exc:
        TicketService(officer).update({"id": ticket.id, "title": "changed", "resolution": resolution})
    assert message in exc.value.messages
    ticket.refresh_from_db()
    assert ticket.title == "Payment not received" and ticket.resolution == "2,5"


def test_empty_resolution_is_accepted(officer):
    assert TicketService(officer).create({**SERVICE_TICKET, "resolution": ""})["success"]


# --- codes ----------------------------------------------------------------------------------------
def test_code_sequence(make_ticket):
    assert [make_ticket().code for _ in range(3)] == ["GRS00000001", "GRS00000002", "GRS00000003"]


def test_code_sequence_ignores_foreign_codes_and_counts_deleted(officer, make_ticket):
    make_ticket(code="GRS999")  # not an 8-digit code: ignored by the generator
    first = make_ticket()
    assert first.code == "GRS00000001"
    TicketService(officer).delete({"id": first.id})
    assert make_ticket().code == "GRS00000002"


def test_supplied_code_kept_and_unique(officer, make_ticket):
    ticket = make_ticket(code="MYCODE")
    assert ticket.code == "MYCODE"
    result = TicketService(officer).create({**SERVICE_TICKET, "code": "MYCODE"})
    assert not result["success"]
    assert "validations.TicketValidation.validate_ticket_unique_code" in result["detail"]
    assert Ticket.objects.count() == 1


def test_update_resending_own_code_is_allowed(officer, make_ticket):
    ticket, other = make_ticket(), make_ticket()
    ok = TicketService(officer).update({"id": ticket.id, "code": ticket.code, "title": "new title"})
    assert ok["success"], ok
    clash = TicketService(officer).update({"id": ticket.id, "code": other.code})
    assert not clash["success"]
    assert "validate_ticket_unique_code" in clash["detail"]


def test_code_not_regenerated_on_update(officer, make_ticket):
    ticket = make_ticket()
    TicketService(officer).update({"id": ticket.id, "code": None, "title": "x"})
    ticket.refresh_from_db()
    assert ticket.code == "GRS00000001"


def test_database_enforces_unique_code(officer, make_ticket):
    ticket = make_ticket()
    clone = Ticket(code=ticket.code, title="clone", category="Default")
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(user=officer)


# --- validation of the other values: clear error, nothing changed -------------------------------
@pytest.mark.parametrize("field, value, key", [
    ("category", "Unknown", "validate_category.invalid_value"),
    ("flags", "Default,Nope", "validate_flags.invalid_value"),
    ("channel", "Pigeon", "validate_channel.invalid_value"),
    ("status", "LOST", "validate_status.invalid_value"),
])
def test_invalid_choices(officer, make_ticket, field, value, key):
    result = TicketService(officer).create({**SERVICE_TICKET, field: value})
    assert not result["success"] and key in result["detail"]
    ticket = make_ticket()
    result = TicketService(officer).update({"id": ticket.id, field: value})
    assert not result["success"] and key in result["detail"]
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1 and ticket.version == 1


def test_multiple_flags_accepted(officer):
    result = TicketService(officer).create({**SERVICE_TICKET, "flags": "Flag A,Flag B"})
    assert result["success"], result


def test_unknown_field_rejected(officer):
    result = TicketService(officer).create({**SERVICE_TICKET, "name_of_complainant": "x"})
    assert not result["success"] and "name_of_complainant" in result["detail"]


def test_unauthenticated_envelope():
    from django.contrib.auth.models import AnonymousUser

    result = TicketService(AnonymousUser()).create(SERVICE_TICKET)
    assert result == {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}
    assert not Ticket.objects.exists()


# --- reporter -----------------------------------------------------------------------------------
def test_user_reporter(officer, admin_user):
    result = TicketService(officer).create({**SERVICE_TICKET, "reporter_type": "User",
                                            "reporter_id": str(admin_user.id).upper()})
    assert result["success"], result
    ticket = Ticket.objects.get(id=result["data"]["id"])
    assert ticket.reporter_type == ContentType.objects.get_for_model(type(admin_user))
    assert ticket.reporter_id == str(admin_user.id)
    assert ticket.reporter == admin_user


@pytest.mark.parametrize("data, key", [
    ({"reporter_type": "user"}, "type_and_id_required"),
    ({"reporter_id": "abc"}, "type_and_id_required"),
    ({"reporter_type": "insuree", "reporter_id": "1"}, "validate_reporter.invalid_type"),
    ({"reporter_type": "user", "reporter_id": "not-a-uuid"}, "reporter_not_found"),
    ({"reporter_type": "user", "reporter_id": "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"}, "reporter_not_found"),
])
def test_invalid_reporter(officer, data, key):
    result = TicketService(officer).create({**SERVICE_TICKET, **data})
    assert not result["success"] and key in result["detail"]
    assert not Ticket.objects.exists()


def test_update_reporter_id_only_keeps_type(officer, admin_user, make_ticket):
    ticket = make_ticket(reporter=officer)
    result = TicketService(officer).update({"id": ticket.id, "reporter_id": str(admin_user.id)})
    assert result["success"], result
    ticket.refresh_from_db()
    assert ticket.reporter == admin_user


def test_reporter_types_of_missing_apps_are_unknown(officer, individual, monkeypatch):
    """A type whose app is not installed is never registered (links.register_default_link_types): unknown."""
    from grievance_social_protection import links

    monkeypatch.delitem(links._LINK_TYPES, "individual")
    result = TicketService(officer).create({**SERVICE_TICKET, "reporter_type": "individual",
                                            "reporter_id": str(individual.id)})
    assert not result["success"] and "validate_reporter.invalid_type" in result["detail"]
    assert not Ticket.objects.exists()


# --- delete ---------------------------------------------------------------------------------------
def test_delete_is_soft_and_fires_signal(officer, make_ticket):
    ticket = make_ticket()
    seen = []

    def on_delete(**kwargs):
        seen.append(kwargs["result"])

    bind_service_signal("ticket_service.delete", on_delete, ServiceSignalBindType.AFTER)
    try:
        result = TicketService(officer).delete({"id": ticket.id})
    finally:
        unbind_service_signal("ticket_service.delete", on_delete)
    assert result["success"] and seen == [result]
    ticket.refresh_from_db()
    assert ticket.is_deleted
    again = TicketService(officer).delete({"id": ticket.id})
    assert not again["success"] and "validate_ticket_exists" in again["detail"]


# --- comments, resolution, reopen ------------------------------------------------------------------
def test_comment_ids_accumulate(officer, make_ticket):
    ticket = make_ticket()
    first, second = (CommentService(officer).create({"ticket_id": ticket.id, "comment": text})["data"]["id"]
                     for text in ("first", "second"))
    ticket.refresh_from_db()
    assert ticket.json_ext["comment_ids"] == [first, second]
    comment = Comment.objects.get(id=first)
    assert comment.commenter_type is None and comment.commenter_id is None and not comment.is_resolution


def test_comment_on_missing_or_deleted_ticket(officer, make_ticket):
    ticket = make_ticket()
    TicketService(officer).delete({"id": ticket.id})
    result = CommentService(officer).create({"ticket_id": ticket.id, "comment": "late"})
    assert not result["success"] and "validations.CommentValidation.validate_ticket_exists" in result["detail"]
    assert not Comment.objects.exists()


def test_comment_commenter_must_exist(officer, make_ticket):
    ticket = make_ticket()
    result = CommentService(officer).create({"ticket_id": ticket.id, "comment": "x", "commenter_type": "USER",
                                             "commenter_id": "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"})
    assert not result["success"] and "validate_commenter_exists" in result["detail"]
    ok = CommentService(officer).create({"ticket_id": ticket.id, "comment": "x", "commenter_type": "USER",
                                         "commenter_id": str(officer.id)})
    assert ok["success"], ok


def test_attending_staff_comments_only_as_associated_person(make_user, admin_user, make_ticket):
    staff = make_user("staff", rights=[127000])
    ticket = make_ticket(attending_staff_id=staff.id)
    service = CommentService(staff)
    assert service.create({"ticket_id": ticket.id, "comment": "mine", "commenter_type": "user",
                           "commenter_id": str(staff.id)})["success"]
    other = service.create({"ticket_id": ticket.id, "comment": "x", "commenter_type": "user",
                            "commenter_id": str(admin_user.id)})
    assert not other["success"] and "commenter_not_associated_with_ticket" in other["detail"]
    stranger = CommentService(make_user("stranger", rights=[127000])).create({"ticket_id": ticket.id,
                                                                              "comment": "x"})
    assert not stranger["success"]
    assert Comment.objects.count() == 1


def test_resolve_and_reopen(officer, make_ticket, make_comment):
    ticket = make_ticket()
    comment = make_comment(ticket)
    result = CommentService(officer).resolve_grievance_by_comment({"id": comment.id})
    assert result["success"] and result["detail"] == "resolve_grievance_by_comment"
    ticket.refresh_from_db()
    comment.refresh_from_db()
    assert ticket.status == "CLOSED" and comment.is_resolution

    result = TicketService(officer).reopen_ticket({"id": ticket.id})
    assert result == {"success": True, "message": "Ok", "detail": "reopen_ticket"}
    ticket.refresh_from_db()
    comment.refresh_from_db()
    assert ticket.status == "OPEN" and not comment.is_resolution
    assert datetime.datetime.fromisoformat(ticket.json_ext["reopened_at"])
    assert list(ticket.history.order_by("history_date").values_list("status", flat=True))[-2:] == ["CLOSED", "OPEN"]


def test_single_resolution_comment(officer, make_ticket, make_comment):
    ticket = make_ticket()
    first, second = make_comment(ticket), make_comment(ticket)
    assert CommentService(officer).resolve_grievance_by_comment({"id": first.id})["success"]
    again = CommentService(officer).resolve_grievance_by_comment({"id": second.id})
    assert not again["success"] and "already_resolved" in again["detail"]
    assert Comment.objects.filter(is_resolution=True).count() == 1
    second.is_resolution = True
    with pytest.raises(ValidationError), transaction.atomic():
        second.save(user=officer)  # the model constraint backs the rule too
    Comment.objects.filter(id=first.id).update(is_resolution=False)
    Comment.objects.filter(id=first.id).update(is_resolution=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Comment.objects.filter(id=second.id).update(is_resolution=True)  # ...and so does the database


def test_resolve_closed_ticket_refused(officer, make_ticket, make_comment):
    ticket = make_ticket(status="CLOSED")
    comment = make_comment(ticket)
    result = CommentService(officer).resolve_grievance_by_comment({"id": comment.id})
    assert not result["success"] and "ticket_closed" in result["detail"]
    comment.refresh_from_db()
    assert not comment.is_resolution


def test_resolve_unknown_comment(officer):
    result = CommentService(officer).resolve_grievance_by_comment({"id": "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"})
    assert not result["success"] and "validate_comment_exists" in result["detail"]


@pytest.mark.parametrize("status", ["RECEIVED", "OPEN", "IN_PROGRESS"])
def test_reopen_refused_unless_closed_or_resolved(officer, make_ticket, status):
    ticket = make_ticket(status=status)
    result = TicketService(officer).reopen_ticket({"id": ticket.id})
    assert not result["success"] and "ticket_not_closed" in result["detail"]
    ticket.refresh_from_db()
    assert ticket.status == status and ticket.version == 1


def test_reopen_resolved_ticket(officer, make_ticket):
    ticket = make_ticket(status="RESOLVED")
    assert TicketService(officer).reopen_ticket({"id": ticket.id})["success"]
    ticket.refresh_from_db()
    assert ticket.status == "OPEN"


@pytest.mark.parametrize("status", ["OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED", "RECEIVED"])
def test_update_status_is_free(officer, make_ticket, status):
    ticket = make_ticket(status="IN_PROGRESS" if status == "RECEIVED" else "RECEIVED")
    assert TicketService(officer).update({"id": ticket.id, "status": status})["success"]


# --- due date (spec §9.3) ---------------------------------------------------------------------------
def test_due_date_not_computed_by_default(officer):
    assert TicketConfig.compute_due_date_from_resolution is False
    result = TicketService(officer).create(SERVICE_TICKET)
    assert Ticket.objects.get(id=result["data"]["id"]).due_date is None


def test_due_date_computed_when_enabled(monkeypatch, officer):
    def make_ticket(**data):
        result = TicketService(officer).create({"title": "Due", "category": "Default", **data})
        return Ticket.objects.get(id=result["data"]["id"])

    monkeypatch.setattr(TicketConfig, "compute_due_date_from_resolution", True)
    ticket = make_ticket(resolution="2,5")
    assert ticket.due_date == compute_due_date(ticket)
    from django.utils import timezone

    assert ticket.due_date == timezone.localtime(ticket.date_created + datetime.timedelta(days=2, hours=5)).date()
    fallback = make_ticket(resolution="", category="Category B")  # category default 6,12
    assert fallback.due_date == timezone.localtime(
        fallback.date_created + datetime.timedelta(days=6, hours=12)).date()
    typed = make_ticket(due_date=datetime.date(2030, 1, 1))
    assert typed.due_date == datetime.date(2030, 1, 1)


def test_constraint_violation_reported_without_database_text(officer, make_ticket, monkeypatch):
    from grievance_social_protection.validations import TicketValidation

    make_ticket(code="DUP")
    monkeypatch.setattr(TicketValidation, "validate_unique_code", classmethod(lambda cls, code, excluded_id=None: None))
    result = TicketService(officer).create({**SERVICE_TICKET, "code": "DUP"})
    assert not result["success"]
    assert result["detail"] == "validations.TicketValidation.validate_ticket_unique_code"
    assert Ticket.objects.count() == 1


def test_code_retry_after_concurrent_collision(officer, make_ticket, monkeypatch):
    """A create that loses the race for a generated code retries once with a fresh code."""
    from grievance_social_protection import services

    make_ticket()
    calls = []
    real = services.next_ticket_code

    def stale_then_real():
        calls.append(1)
        return "GRS00000001" if len(calls) == 1 else real()  # first answer collides, as in a race

    monkeypatch.setattr(services, "next_ticket_code", stale_then_real)
    result = TicketService(officer).create(SERVICE_TICKET)
    assert result["success"], result
    assert result["data"]["code"] == "GRS00000002" and len(calls) == 2
