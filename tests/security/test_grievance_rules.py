"""Grievance rules a client could break (issue 10, items 10 and 17), sent as the frontend sends them: GraphQL
mutations over HTTP with a bearer token, the outcome read from the mutation log."""
import pytest

from core.test_helpers import assert_log_error, assert_log_success
from grievance_social_protection.models import Comment, Ticket

pytestmark = pytest.mark.django_db

GRIEVANCE_RIGHTS = [127000, 127001, 127002, 127003, 127004, 127005, 127006]
RESERVED = "validate_ticket_code_reserved"


@pytest.fixture
def officer(make_user):
    return make_user("sec_grievance_officer", rights=GRIEVANCE_RIGHTS)


@pytest.fixture
def clerk(make_user):
    return make_user("sec_grievance_clerk", rights=[127000, 127001, 127005])


def _create(client, **fields):
    return client.mutate("createTicket", {"category": "Default", **fields})


# --- item 10: a supplied code in the generated space ------------------------------------------------------
def test_supplied_code_in_generated_space_is_refused_and_generation_keeps_working(gql, officer):
    client = gql(officer)
    assert_log_error(_create(client, title="Squatter", code="GRS99999999"), RESERVED)
    assert not Ticket.objects.filter(code="GRS99999999").exists()
    # every later generated code still works (the attack made every following create fail)
    for expected in ("GRS00000001", "GRS00000002"):
        assert_log_success(_create(client, title=f"Next {expected}"))
        assert Ticket.objects.get(title=f"Next {expected}").code == expected


@pytest.mark.parametrize("code", ["GRS00000007", "grs12345678", "GRS1", "GRS000000001"])
def test_every_code_shaped_like_a_generated_one_is_refused(gql, officer, code):
    assert_log_error(_create(gql(officer), title="Shaped", code=code), RESERVED)
    assert not Ticket.objects.exists()


def test_update_cannot_move_a_code_into_the_generated_space(gql, officer):
    client = gql(officer)
    assert_log_success(_create(client, title="Own code", code="FIELD-1"))
    ticket = Ticket.objects.get(title="Own code")
    assert_log_error(client.mutate("updateTicket", {"id": str(ticket.id), "category": "Default",
                                                    "code": "GRS99999999"}), RESERVED)
    ticket.refresh_from_db()
    assert ticket.code == "FIELD-1"


def test_update_resending_its_own_generated_code_still_works(gql, officer):
    """The ticket form sends the code back on every save: its own generated code is not a supplied one."""
    client = gql(officer)
    assert_log_success(_create(client, title="Generated"))
    ticket = Ticket.objects.get(title="Generated")
    assert_log_success(client.mutate("updateTicket", {"id": str(ticket.id), "category": "Default",
                                                      "title": "Renamed", "code": ticket.code}))
    ticket.refresh_from_db()
    assert (ticket.title, ticket.code) == ("Renamed", "GRS00000001")


def test_a_squatter_written_before_the_rule_does_not_break_generation(gql, officer):
    """A code written before the rule (an import, a fixture) at the top of the space: generation goes on."""
    from tests.grievance_social_protection.factories import TicketFactory

    squatter = TicketFactory(code="GRS99999999", acting_user=officer)
    client = gql(officer)
    assert_log_success(client.mutate("deleteTicket", {"ids": [str(squatter.id)]}))  # deleted codes still count
    for title, expected in (("After 1", "GRS100000000"), ("After 2", "GRS100000001")):
        assert_log_success(_create(client, title=title))
        assert Ticket.objects.get(title=title).code == expected


# --- item 17: a user commenter is the caller ------------------------------------------------------------
@pytest.mark.parametrize("caller, victim, commenter_type", [
    ("clerk", "officer", "user"),  # a clerk signing as the officer
    ("officer", "admin_user", "USER"),  # even a full grievance officer cannot sign as the administrator
])
def test_nobody_comments_in_another_users_name(gql, request, caller, victim, commenter_type):
    caller, victim = request.getfixturevalue(caller), request.getfixturevalue(victim)
    assert_log_success(_create(gql(request.getfixturevalue("officer")), title="Disputed"))
    ticket = Ticket.objects.get(title="Disputed")
    log = gql(caller).mutate("createComment", {"ticketId": str(ticket.id), "comment": "Approved by someone else",
                                               "commenterType": commenter_type, "commenterId": str(victim.id)})
    assert_log_error(log, "validate_commenter.not_caller")
    assert not Comment.objects.exists()


def test_commenting_in_ones_own_name_still_works(gql, clerk, officer):
    assert_log_success(_create(gql(officer), title="Own"))
    ticket = Ticket.objects.get(title="Own")
    assert_log_success(gql(clerk).mutate("createComment", {"ticketId": str(ticket.id), "comment": "Called back",
                                                           "commenterType": "user", "commenterId": str(clerk.id)}))
    assert Comment.objects.get().commenter_id == str(clerk.id)


def test_a_zero_padded_legacy_code_does_not_break_generation(gql, officer):
    """Generation follows the greatest NUMBER in the generated space, not the longest or greatest text: a legacy
    ``GRS000000001`` (12 characters, number 1) must not send the generator back to an existing code."""
    from tests.grievance_social_protection.factories import TicketFactory

    client = gql(officer)
    for title in ("First", "Second"):
        assert_log_success(_create(client, title=title))
    TicketFactory(code="GRS000000001", acting_user=officer)  # written before the rule (an import)
    assert_log_success(_create(client, title="Third"))
    assert Ticket.objects.get(title="Third").code == "GRS00000003"
