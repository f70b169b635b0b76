import pytest
from django.contrib.contenttypes.models import ContentType

from core.models import MutationLog
from core.test_helpers import Enum, assert_anonymous_refused, assert_log_error, assert_log_success
from grievance_social_protection.models import Comment, Ticket, TicketMutation

pytestmark = pytest.mark.django_db

CREATE = {
    "category": "Default", "title": "TestMutationCreate", "resolution": "2,5", "priority": "High",
    "dateOfIncident": "2024-11-20", "channel": "Channel A", "flags": "Default",
}


# --- upstream behaviours (tests/test_gql_*.py) ---------------------------------------------------
def test_create_ticket(officer, gql):
    log = gql(officer).mutate("createTicket", CREATE)
    assert_log_success(log)
    ticket = Ticket.objects.get(title="TestMutationCreate")
    assert (ticket.category, ticket.resolution, ticket.priority, ticket.flags) == ("Default", "2,5", "High", "Default")
    assert str(ticket.date_of_incident) == "2024-11-20" and ticket.code == "GRS00000001"
    assert TicketMutation.objects.filter(ticket=ticket, mutation=log).exists()


@pytest.mark.parametrize("resolution", ["kjdslkdjslk", "99,3", "4,66"])
def test_create_ticket_invalid_resolution(officer, gql, resolution):
    log = gql(officer).mutate("createTicket", {**CREATE, "resolution": resolution})
    assert_log_error(log, "validate_resolution")
    assert not Ticket.objects.exists()


def test_create_ticket_with_status_and_user_reporter(officer, gql, admin_user):
    log = gql(officer).mutate("createTicket", {**CREATE, "status": Enum("OPEN"), "reporterType": "user",
                                               "reporterId": str(admin_user.id),
                                               "attendingStaffId": str(officer.id)})
    assert_log_success(log)
    ticket = Ticket.objects.get()
    assert ticket.status == "OPEN" and ticket.reporter == admin_user and ticket.attending_staff == officer


def test_create_ticket_unknown_category(officer, gql):
    log = gql(officer).mutate("createTicket", {**CREATE, "category": "Nope"})
    assert_log_error(log, "validate_category.invalid_value")
    assert not Ticket.objects.exists()


def test_update_ticket(officer, gql, make_ticket):
    ticket = make_ticket()
    log = gql(officer).mutate("updateTicket", {**CREATE, "id": str(ticket.id), "title": "TestMutationUpdate",
                                               "priority": "Medium", "status": Enum("OPEN")})
    assert_log_success(log)
    ticket.refresh_from_db()
    assert (ticket.title, ticket.status, ticket.priority) == ("TestMutationUpdate", "OPEN", "Medium")


@pytest.mark.parametrize("resolution", ["kjdslkdjslk", "99,3", "4,66"])
def test_update_ticket_invalid_resolution(officer, gql, make_ticket, resolution):
    ticket = make_ticket()
    log = gql(officer).mutate("updateTicket", {**CREATE, "id": str(ticket.id), "title": "Changed",
                                               "resolution": resolution})
    assert_log_error(log, "validate_resolution")
    ticket.refresh_from_db()
    assert ticket.title == "Payment not received"


def test_update_unknown_ticket(officer, gql):
    log = gql(officer).mutate("updateTicket", {**CREATE, "id": "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"})
    assert_log_error(log, "validate_ticket_exists")


def test_create_comment_user_and_anonymous(officer, gql, make_ticket):
    ticket = make_ticket()
    client = gql(officer)
    assert_log_success(client.mutate("createComment", {"ticketId": str(ticket.id), "comment": "Called",
                                                       "commenterType": "user", "commenterId": str(officer.id)}))
    assert_log_success(client.mutate("createComment", {"ticketId": str(ticket.id),
                                                       "comment": "This is an awesome test comment!"}))
    named = Comment.objects.get(comment="Called")
    assert named.commenter_type == ContentType.objects.get_for_model(type(officer))
    assert named.commenter_id == str(officer.id) and not named.is_resolution
    anonymous = Comment.objects.get(comment="This is an awesome test comment!")
    assert anonymous.commenter_type is None and anonymous.commenter_id is None
    assert anonymous.ticket == ticket


def test_create_comment_individual(officer, gql, make_ticket, individual):
    ticket = make_ticket()
    log = gql(officer).mutate("createComment", {"ticketId": str(ticket.id), "comment": "From the grievant",
                                                "commenterType": "individual", "commenterId": str(individual.id)})
    assert_log_success(log)
    comment = Comment.objects.get()
    assert comment.ticket == ticket and comment.comment == "From the grievant" and not comment.is_resolution
    assert comment.commenter_id == str(individual.id)
    assert comment.commenter_type == ContentType.objects.get_for_model(type(individual))


def test_resolve_by_comment(officer, gql, make_ticket, make_comment):
    ticket = make_ticket()
    comment = make_comment(ticket)
    log = gql(officer).mutate("resolveGrievanceByComment", {"id": str(comment.id)})
    assert_log_success(log)
    comment.refresh_from_db()
    ticket.refresh_from_db()
    assert comment.is_resolution and ticket.status == "CLOSED"
    assert TicketMutation.objects.filter(ticket=ticket, mutation=log).exists()
    again = gql(officer).mutate("resolveGrievanceByComment", {"id": str(comment.id)})
    assert_log_error(again, "already_resolved")


def test_reopen_ticket(officer, gql, make_ticket, make_comment):
    ticket = make_ticket()
    comment = make_comment(ticket)
    assert_log_success(gql(officer).mutate("resolveGrievanceByComment", {"id": str(comment.id)}))
    log = gql(officer).mutate("reopenTicket", {"id": str(ticket.id)})
    assert_log_success(log)
    ticket.refresh_from_db()
    comment.refresh_from_db()
    assert ticket.status == "OPEN" and not comment.is_resolution
    assert_log_error(gql(officer).mutate("reopenTicket", {"id": str(ticket.id)}), "ticket_not_closed")


def test_delete_tickets(officer, gql, make_ticket):
    first, second, kept = make_ticket(), make_ticket(), make_ticket()
    log = gql(officer).mutate("deleteTicket", {"ids": [str(first.id), str(second.id)]})
    assert_log_success(log)
    assert set(Ticket.objects.filter(is_deleted=True).values_list("id", flat=True)) == {first.id, second.id}
    assert not Ticket.objects.get(id=kept.id).is_deleted


def test_delete_is_all_or_nothing(officer, gql, make_ticket):
    ticket = make_ticket()
    log = gql(officer).mutate("deleteTicket", {"ids": [str(ticket.id), "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"]})
    assert_log_error(log, "validate_ticket_exists")
    ticket.refresh_from_db()
    assert not ticket.is_deleted


# --- rights ---------------------------------------------------------------------------------------
def _mutations(ticket, comment):
    return [
        ("createTicket", CREATE, 127001),
        ("updateTicket", {**CREATE, "id": str(ticket.id), "title": "x"}, 127002),
        ("deleteTicket", {"ids": [str(ticket.id)]}, 127003),
        ("createComment", {"ticketId": str(ticket.id), "comment": "x"}, 127005),
        ("resolveGrievanceByComment", {"id": str(comment.id)}, 127006),
        ("reopenTicket", {"id": str(ticket.id)}, 127002),
    ]


def _state():
    return (list(Ticket.objects.order_by("id").values_list("id", "version", "is_deleted", "status")),
            list(Comment.objects.order_by("id").values_list("id", "version", "is_resolution")))


def test_every_mutation_denied_to_anonymous_and_users_without_right(make_user, gql, make_ticket, make_comment):
    ticket = make_ticket(status="CLOSED")
    comment = make_comment(ticket)
    before = _state()
    for name, params, right in _mutations(ticket, comment):
        assert_anonymous_refused(gql(None), name, params)  # issue 10 item 27: visible, no log
        others = [r for r in range(127000, 127007) if r != right]
        assert_log_error(gql(make_user(f"u{right}{name}", rights=others)).mutate(name, params), "unauthorized")
    assert _state() == before
    assert MutationLog.objects.filter(status=MutationLog.SUCCESS).count() == 0


def test_create_comment_upstream_delete_right_is_not_enough(make_user, gql, make_ticket):
    ticket = make_ticket()
    log = gql(make_user("deleter", rights=[127000, 127003])).mutate(
        "createComment", {"ticketId": str(ticket.id), "comment": "x"})
    assert_log_error(log, "unauthorized")


def test_create_comment_by_attending_staff_of_that_ticket_only(make_user, gql, make_ticket):
    staff = make_user("staff", rights=[127000])
    mine, other = make_ticket(attending_staff_id=staff.id), make_ticket()
    assert_log_success(gql(staff).mutate("createComment", {"ticketId": str(mine.id), "comment": "on it",
                                                           "commenterType": "user", "commenterId": str(staff.id)}))
    assert_log_error(gql(staff).mutate("createComment", {"ticketId": str(other.id), "comment": "x"}),
                     "unauthorized")
    assert Comment.objects.count() == 1


def test_admin_holds_every_grievance_right(admin_user):
    from core.models import RoleRight
    from core.test_helpers import admin_role

    granted = set(RoleRight.objects.filter(role=admin_role(), validity_to__isnull=True)
                  .values_list("right_id", flat=True))
    assert set(range(127000, 127007)) <= granted
    assert admin_user.has_perms(["127006"])
