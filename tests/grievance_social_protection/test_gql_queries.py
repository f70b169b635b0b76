import json

import pytest

from core.test_helpers import assert_log_success
from grievance_social_protection.apps import TicketConfig
from grievance_social_protection.models import Ticket
from grievance_social_protection.services import TicketService

pytestmark = pytest.mark.django_db

TICKET_FIELDS = ("id,title,code,description,status,priority,dueDate,reporter,reporterId,reporterType,"
                 "reporterTypeName,category,flags,channel,resolution,title,dateOfIncident,dateCreated,version,"
                 "isHistory,reporterFirstName,reporterLastName,reporterDob")
LIST = ("{ tickets(first: 10, orderBy: [\"-dateCreated\"]) { totalCount pageInfo { hasNextPage } "
        "edges { node { " + TICKET_FIELDS + " attendingStaff { id username } jsonExt } } } }")
COMMENT_FIELDS = ("id,commenter,commenterId,commenterType,commenterTypeName,comment,isResolution,dateCreated,"
                  "commenterFirstName,commenterLastName,commenterDob")
CONFIG = ("{ grievanceConfig { grievanceTypes grievanceFlags grievanceChannels "
          "grievanceCategoryStaffRoles { category roleIds } "
          "grievanceDefaultResolutionsByCategory { category resolutionTime } } }")


def _comments(ticket_id):
    return ('{ comments(ticket_Id: "%s", orderBy: ["-dateCreated"]) { totalCount edges { node { %s } } } }'
            % (ticket_id, COMMENT_FIELDS))


def test_tickets_list_with_user_reporter(officer, gql, make_ticket, admin_user):
    make_ticket(reporter=admin_user, attending_staff_id=officer.id)
    data = gql(officer).data(LIST)["tickets"]
    assert data["totalCount"] == 1
    node = data["edges"][0]["node"]
    assert node["code"] == "GRS00000001" and node["status"] == "RECEIVED" and node["isHistory"] is False
    assert node["reporterTypeName"] == "user" and node["reporterId"] == str(admin_user.id)
    assert isinstance(node["reporterType"], int)
    reporter = json.loads(json.loads(node["reporter"]))  # encoded twice (spec §7)
    assert reporter["username"] == "Admin" and "password" not in reporter
    assert node["reporterFirstName"] is None and node["attendingStaff"]["username"] == officer.username


def test_ticket_client_mutation_id(officer, gql):
    client = gql(officer)
    for i in range(5):
        assert_log_success(client.mutate("createTicket", {"category": "Default", "title": f"m{i}"},
                                         client_mutation_id=f"cm-{i}"))
    data = client.data('{ tickets(clientMutationId: "cm-3") { edges { node { title clientMutationId } } } }')
    assert [e["node"] for e in data["tickets"]["edges"]] == [{"title": "m3", "clientMutationId": "cm-3"}]
    data = client.data("{ tickets { edges { node { title clientMutationId } } } }")
    assert sorted(e["node"]["clientMutationId"] for e in data["tickets"]["edges"]) == [f"cm-{i}" for i in range(5)]


def test_tickets_filters_and_deleted_hidden(officer, gql, make_ticket):
    a = make_ticket(title="Alpha", category="Category A", priority="High")
    make_ticket(title="Beta", flags="Flag A,Flag B")
    gone = make_ticket(title="Gone")
    TicketService(officer).delete({"id": gone.id})
    client = gql(officer)

    def titles(args):
        return sorted(e["node"]["title"] for e in client.data("{ tickets(%s) { edges { node { title } } } }"
                                                               % args)["tickets"]["edges"])

    assert titles("first: 10") == ["Alpha", "Beta"]
    assert titles('category: "Category A"') == ["Alpha"]
    assert titles('flags_Icontains: "flag b"') == ["Beta"]
    assert titles(f'id: "{a.id}"') == ["Alpha"]
    assert titles(f'code: "{a.code}"') == ["Alpha"]
    assert titles('status: "RECEIVED", priority: "High"') == ["Alpha"]
    assert titles('attendingStaff_Username: "nobody"') == []


def test_history_listing(officer, gql, make_ticket):
    ticket = make_ticket(title="v1")
    TicketService(officer).update({"id": ticket.id, "title": "v2"})
    TicketService(officer).update({"id": ticket.id, "title": "v3"})
    client = gql(officer)
    rows = client.data('{ tickets(id: "%s", showHistory: true, orderBy: ["version"]) '
                       '{ totalCount edges { node { id title version isHistory } } } }' % ticket.id)["tickets"]
    assert [(n["node"]["title"], n["node"]["version"], n["node"]["isHistory"]) for n in rows["edges"]] == [
        ("v1", 1, True), ("v2", 2, True), ("v3", 3, False)]
    live = client.data('{ tickets(id: "%s") { edges { node { id } } } }' % ticket.id)["tickets"]["edges"][0]
    assert rows["edges"][0]["node"]["id"] == live["node"]["id"]  # history rows carry the ticket's id
    version = client.data('{ tickets(id: "%s", ticketVersion: 2) { edges { node { title isHistory jsonExt '
                          'attendingStaff { id username } reporterFirstName } } } }' % ticket.id)
    assert [e["node"]["title"] for e in version["tickets"]["edges"]] == ["v2"]
    assert version["tickets"]["edges"][0]["node"]["isHistory"] is True


def test_ticket_details_and_tickets_str(officer, gql, make_ticket):
    make_ticket(title="Water pump broken")
    make_ticket(title="Payment late", description="March payment")
    gone = make_ticket(title="Deleted one")
    TicketService(officer).delete({"id": gone.id})
    client = gql(officer)
    details = client.data("{ ticketDetails { edges { node { title } } } }")["ticketDetails"]["edges"]
    assert [e["node"]["title"] for e in details] == ["Payment late", "Water pump broken"]  # -date_created
    found = client.data('{ ticketsStr(str: "march") { edges { node { title } } } }')["ticketsStr"]["edges"]
    assert [e["node"]["title"] for e in found] == ["Payment late"]


def test_grievance_config(officer, gql):
    data = gql(officer).data(CONFIG)["grievanceConfig"]
    assert data["grievanceTypes"] == ["Default", "Category A", "Category B"]
    assert data["grievanceChannels"] == ["Default", "Channel A", "Channel B"]
    assert data["grievanceCategoryStaffRoles"] == [{"category": "Default", "roleIds": ["1", "2"]}]
    assert {"category": "Category B", "resolutionTime": "6,12"} in data["grievanceDefaultResolutionsByCategory"]


def test_grievance_config_anonymous_answers_200_unauthorized(gql):
    response = gql(None).post(CONFIG)
    assert response.status_code == 200
    body = response.json()
    assert body["errors"][0]["message"] == "unauthorized"
    assert body["data"]["grievanceConfig"] is None


@pytest.mark.parametrize("query", [
    LIST,
    "{ ticketDetails { edges { node { id } } } }",
    '{ ticketsStr(str: "x") { edges { node { id } } } }',
    CONFIG,
    '{ comments { edges { node { id } } } }',
])
def test_every_query_denied(query, gql, make_user, no_rights_user, make_ticket, make_comment):
    make_comment(make_ticket())
    other_rights = make_user("other", rights=[127001, 127002, 127003, 127005, 127006]
                             if "comments" not in query else [127000, 127001, 127002, 127003, 127005, 127006])
    for user in (None, no_rights_user, other_rights):
        body = gql(user).query(query)
        assert body["errors"][0]["message"] == "unauthorized", (user, body)
        assert not any(body["data"].values())


def _node(type_name, obj_id, fields):
    from graphql_relay import to_global_id

    return '{ node(id: "%s") { ... on %s { %s } } }' % (to_global_id(type_name, str(obj_id)), type_name, fields)


def test_node_query_respects_rights(officer, gql, make_user, no_rights_user, make_ticket, make_comment):
    """relay ``node(id:)`` returns a ticket / comment only to callers the list queries would answer."""
    staff = make_user("node-staff", rights=[127000])
    ticket, other = make_ticket(title="Secret ticket", attending_staff_id=staff.id), make_ticket()
    comment = make_comment(ticket, comment="Secret comment")
    other_comment = make_comment(other, comment="Other comment")
    global_id = gql(officer).data('{ tickets(id: "%s") { edges { node { id } } } }' % ticket.id)[
        "tickets"]["edges"][0]["node"]["id"]
    ticket_query = '{ node(id: "%s") { ... on TicketGQLType { title } } }' % global_id
    assert ticket_query == _node("TicketGQLType", ticket.id, "title")
    comment_query = _node("CommentGQLType", comment.id, "comment")
    comments_only = make_user("comments-only", rights=[127004])  # may list comments, not tickets
    tickets_only = make_user("tickets-only", rights=[127000, 127001, 127002, 127003, 127005, 127006])
    for caller in (None, no_rights_user, comments_only):
        body = gql(caller).query(ticket_query)
        assert body["data"]["node"] is None and "Secret" not in json.dumps(body), (caller, body)
    for caller in (None, no_rights_user, tickets_only):
        body = gql(caller).query(comment_query)
        assert body["data"]["node"] is None and "Secret" not in json.dumps(body), (caller, body)
    assert gql(officer).data(ticket_query)["node"]["title"] == "Secret ticket"
    assert gql(officer).data(comment_query)["node"]["comment"] == "Secret comment"
    assert gql(comments_only).data(comment_query)["node"]["comment"] == "Secret comment"
    # attending staff without 127004: the comments of their own tickets only, as in the comments query
    assert gql(staff).data(comment_query)["node"]["comment"] == "Secret comment"
    assert gql(staff).data(_node("CommentGQLType", other_comment.id, "comment"))["node"] is None
    # a comment's ticket follows the ticket rule (127000)
    nested = _node("CommentGQLType", comment.id, "comment ticket { title }")
    assert gql(comments_only).data(nested)["node"] == {"comment": "Secret comment", "ticket": None}
    assert gql(officer).data(nested)["node"]["ticket"] == {"title": "Secret ticket"}


def test_comments_query(officer, gql, make_ticket, make_comment):
    ticket, other = make_ticket(), make_ticket()
    for i in range(6):
        make_comment(ticket, comment=f"c{i}", commenter=officer)
    make_comment(other, comment="elsewhere")
    data = gql(officer).data(_comments(ticket.id))["comments"]
    assert data["totalCount"] == 6
    assert [e["node"]["comment"] for e in data["edges"]] == [f"c{i}" for i in reversed(range(6))]
    node = data["edges"][0]["node"]
    assert node["commenterTypeName"] == "user" and node["commenterId"] == str(officer.id)
    assert json.loads(json.loads(node["commenter"]))["username"] == officer.username and node["isResolution"] is False


def test_comments_for_attending_staff_only_their_tickets(make_user, gql, make_ticket, make_comment):
    staff = make_user("staff", rights=[127000])
    mine, other = make_ticket(attending_staff_id=staff.id), make_ticket()
    make_comment(mine, comment="mine", commenter=staff)
    make_comment(other, comment="not mine")
    data = gql(staff).data("{ comments { edges { node { comment commenterTypeName } } } }")["comments"]["edges"]
    assert [e["node"] for e in data] == [{"comment": "mine", "commenterTypeName": "user"}]
    assert gql(staff).data(_comments(other.id))["comments"]["totalCount"] == 0


def test_anonymised_reporter_fields(make_user, gql, make_ticket, admin_user, monkeypatch):
    monkeypatch.setattr(TicketConfig, "grievance_anonymized_fields",
                        {"Default": [], "Category A": ["reporter", "reporterId", "reporterTypeName"]})
    make_ticket(category="Category A", reporter=admin_user)
    make_ticket(category="Default", reporter=admin_user)
    query = ('{ tickets(orderBy: ["category"]) { edges { node { category reporter reporterId reporterTypeName '
             'reporterType } } } }')
    reader = make_user("reader", rights=[127000])
    hidden, shown = [e["node"] for e in gql(reader).data(query)["tickets"]["edges"]]
    assert hidden["category"] == "Category A"
    assert hidden["reporter"] is None and hidden["reporterId"] is None and hidden["reporterTypeName"] is None
    assert hidden["reporterType"] is not None  # not listed
    assert shown["reporterId"] == str(admin_user.id)
    editor = make_user("editor", rights=[127000, 127002])
    visible = gql(editor).data(query)["tickets"]["edges"][0]["node"]
    assert visible["reporterId"] == str(admin_user.id) and visible["reporter"]


def test_individual_reporter_fields(officer, gql, make_ticket, individual):
    make_ticket(reporter=individual)
    node = gql(officer).data(LIST)["tickets"]["edges"][0]["node"]
    assert node["reporterTypeName"] == "individual"
    assert (node["reporterFirstName"], node["reporterLastName"], node["reporterDob"]) == (
        "Amina", "Diallo", "1990-04-02")
    assert json.loads(json.loads(node["reporter"]))["firstName"] == "Amina"


def test_beneficiary_reporter_fields(officer, gql, make_ticket, beneficiary):
    make_ticket(reporter=beneficiary)
    node = gql(officer).data(LIST)["tickets"]["edges"][0]["node"]
    assert node["reporterTypeName"] == "beneficiary"
    assert (node["reporterFirstName"], node["reporterLastName"]) == ("Amina", "Diallo")


def test_full_flow_through_graphql(officer, gql, admin_user):
    """File a ticket, comment, resolve by the comment, reopen: all through GraphQL."""
    client = gql(officer)
    assert_log_success(client.mutate("createTicket", {"category": "Category A", "title": "Flow",
                                                      "reporterType": "user", "reporterId": str(admin_user.id)}))
    ticket = Ticket.objects.get(title="Flow")
    assert_log_success(client.mutate("createComment", {"ticketId": str(ticket.id), "comment": "Fixed it",
                                                       "commenterType": "user", "commenterId": str(officer.id)}))
    comment_id = client.data(_comments(ticket.id))["comments"]["edges"][0]["node"]["id"]
    from graphql_relay import from_global_id

    assert_log_success(client.mutate("resolveGrievanceByComment", {"id": from_global_id(comment_id)[1]}))
    assert client.data('{ tickets(code: "%s") { edges { node { status } } } }' % ticket.code)[
        "tickets"]["edges"][0]["node"]["status"] == "CLOSED"
    assert_log_success(client.mutate("reopenTicket", {"id": str(ticket.id)}))
    ticket.refresh_from_db()
    assert ticket.status == "OPEN" and "reopened_at" in ticket.json_ext
