"""The openIMIS grievance frontend's own operations (issue 16, items 1 and 2), sent as it sends them.

Each document is copied verbatim from the compatibility corpus (client_ops.jsonl, the operations the frontend
module openimis-fe-grievance_social_protection_js sends; the corpus ids are named beside each) with only the ids
of the sample objects replaced by rows of the test database. ``createTicket`` and the ``resolveTicket`` flavour of
``updateTicket`` are not in the corpus: they are written in the frontend's ``formatMutation`` layout from the
issue's description (the create form sends ``status: "RECEIVED"`` as a string, resolve sends no ``category``).
"""
import json
import uuid

import pytest

from core.models import MutationLog
from core.test_helpers import assert_log_success
from grievance_social_protection.models import Ticket
from grievance_social_protection.services import TicketService

pytestmark = pytest.mark.django_db

SAMPLE_TICKET = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SAMPLE_STAFF = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a"
SAMPLE_REPORTER = "8c0c2f2e-7d3b-4c4a-9a6e-3d1b5f0e2a11"
SAMPLE_MUTATION = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

# grievance_social_protection/src/actions.js/fetchTicketSummaries (TicketSearcher: default filters)
TICKET_SUMMARIES = '\n    {\n      tickets(first: 10,orderBy: ["-dateCreated"])\n      {\n        totalCount\n        \n    pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}\n    edges\n    {\n      node\n      {\n        id,title,code,description,status,priority,dueDate,reporter,reporterId,reporterType,reporterTypeName,category,flags,channel,resolution,title,dateOfIncident,dateCreated,version,isHistory,reporterFirstName,reporterLastName,reporterDob\n      }\n    }\n      }\n    }'
# grievance_social_protection/src/actions.js/fetchTicket#2 (TicketForm: historical version)
TICKET_VERSION = '\n    {\n      tickets(id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",ticketVersion: 2)\n      {\n        totalCount\n        \n    pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}\n    edges\n    {\n      node\n      {\n        id,title,code,description,status,priority,dueDate,reporter,reporterId,reporterType,reporterTypeName,category,flags,channel,resolution,title,dateOfIncident,dateCreated,attendingStaff {id, username},version,isHistory,,jsonExt,reporterFirstName,reporterLastName,reporterDob\n      }\n    }\n      }\n    }'
# grievance_social_protection/src/actions.js/fetchComments (TicketForm / TicketCommentsPanel)
COMMENTS = '\n    {\n      comments(ticket_Id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",orderBy: ["-dateCreated"])\n      {\n        totalCount\n        \n    pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}\n    edges\n    {\n      node\n      {\n        id,commenter,commenterId,commenterType,commenterTypeName,comment,isResolution,dateCreated,commenterFirstName,commenterLastName,commenterDob\n      }\n    }\n      }\n    }'
# grievance_social_protection/src/actions.js/updateTicket (EditTicketPage: save) — status as an enum literal
UPDATE_TICKET = '\n    mutation {\n      updateTicket(\n        input: {\n          clientMutationId: "3fa85f64-5717-4562-b3fc-2c963f66afa6"\n          clientMutationLabel: "Mutation label"\n          \n          id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"\n    category: "Default"\n    title: "Payment not received"\n    description: "Beneficiary did not receive the March payment"\n    attendingStaffId: "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f7a"\n    reporterId: "8c0c2f2e-7d3b-4c4a-9a6e-3d1b5f0e2a11"\n    reporterType: "individual"\n    \n    resolution: "2,5"\n    status: OPEN\n    priority: "High"\n    \n    \n    dateOfIncident: "2024-03-15"\n    channel: "Channel A"\n    flags: "Default"\n        }\n      ) {\n        clientMutationId\n        internalId\n      }\n    }'
# grievance_social_protection/src/pickers/DropDownCategoryPicker.js/DropDownCategoryPicker
CATEGORY_PICKER = 'query CategoryPicker {\n      category {\n        edges{\n          node{\n            id\n            uuid\n            categoryTitle\n            slug\n            tickets {\n              edges {\n                node {\n                  ticketCode\n                  ticketTitle\n                }\n              }\n            }\n          }\n        }\n      }\n    }'
# not in the corpus (see the module docstring): AddTicketPage's create, status as a string
CREATE_TICKET = '\n    mutation {\n      createTicket(\n        input: {\n          clientMutationId: "3fa85f64-5717-4562-b3fc-2c963f66afa6"\n          clientMutationLabel: "Mutation label"\n          \n    category: "Default"\n    title: "Payment not received"\n    reporterId: "8c0c2f2e-7d3b-4c4a-9a6e-3d1b5f0e2a11"\n    reporterType: "individual"\n    resolution: "5,0"\n    status: "RECEIVED"\n    priority: "High"\n    channel: "Channel A"\n    flags: "Default"\n        }\n      ) {\n        clientMutationId\n        internalId\n      }\n    }'
# not in the corpus: resolveTicket sends updateTicket without category
RESOLVE_TICKET = '\n    mutation {\n      updateTicket(\n        input: {\n          clientMutationId: "3fa85f64-5717-4562-b3fc-2c963f66afa6"\n          clientMutationLabel: "Mutation label"\n          \n          id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"\n    status: "RESOLVED"\n        }\n      ) {\n        clientMutationId\n        internalId\n      }\n    }'


def filled(document, **ids):
    """The document with the sample ids replaced (``ticket``, ``staff``, ``reporter``), and a fresh
    clientMutationId (a reused one would replay the first outcome)."""
    samples = {"ticket": SAMPLE_TICKET, "staff": SAMPLE_STAFF, "reporter": SAMPLE_REPORTER}
    for name, value in ids.items():
        document = document.replace(samples[name], str(value))
    return document.replace(SAMPLE_MUTATION, str(uuid.uuid4()))


def twice_decoded(value):
    """What the frontend does with ``reporter`` / ``commenter``: ``JSON.parse(JSON.parse(value))``; the first
    parse must give a string (an object there is the crash of issue 16)."""
    once = json.loads(value)
    assert isinstance(once, str), f"encoded once only: {value!r}"
    return json.loads(once)


def mutation_log(client, document):
    response = client.query(document)
    assert "errors" not in response, response["errors"]
    payload = next(iter(response["data"].values()))
    return MutationLog.objects.get(client_mutation_id=payload["clientMutationId"])


# --- item 1: reporter / commenter encoded twice -------------------------------------------------------------
def test_ticket_summaries_read_the_reporter_twice_encoded(officer, gql, make_ticket, individual):
    make_ticket(reporter=individual)
    make_ticket(title="No reporter")
    nodes = {e["node"]["title"]: e["node"] for e in gql(officer).data(TICKET_SUMMARIES)["tickets"]["edges"]}
    reporter = twice_decoded(nodes["Payment not received"]["reporter"])
    assert (reporter["id"], reporter["firstName"], reporter["lastName"]) == (str(individual.id), "Amina", "Diallo")
    assert nodes["Payment not received"]["reporterTypeName"] == "individual"
    assert nodes["No reporter"]["reporter"] is None  # null stays null (the page shows no picker value)


def test_ticket_page_version_reads_the_reporter_twice_encoded(officer, gql, make_ticket, individual):
    ticket = make_ticket(reporter=individual, attending_staff_id=officer.id)
    TicketService(officer).update({"id": ticket.id, "title": "Renamed"})
    edges = gql(officer).data(filled(TICKET_VERSION, ticket=ticket.id))["tickets"]["edges"]
    assert [e["node"]["version"] for e in edges] == [2]
    node = edges[0]["node"]
    assert node["title"] == "Renamed" and node["attendingStaff"]["username"] == officer.username
    assert twice_decoded(node["reporter"])["firstName"] == "Amina"


def test_comments_read_the_commenter_twice_encoded(officer, gql, make_ticket, make_comment):
    ticket = make_ticket()
    make_comment(ticket, commenter=officer, comment="Called the beneficiary")
    make_comment(ticket, comment="Anonymous")
    nodes = {e["node"]["comment"]: e["node"] for e in gql(officer).data(
        filled(COMMENTS, ticket=ticket.id))["comments"]["edges"]}
    commenter = twice_decoded(nodes["Called the beneficiary"]["commenter"])
    assert commenter["username"] == officer.username and "password" not in commenter
    assert nodes["Anonymous"]["commenter"] is None


def test_anonymised_reporter_stays_null(officer, gql, make_user, make_ticket, individual, monkeypatch):
    from grievance_social_protection.apps import TicketConfig

    monkeypatch.setattr(TicketConfig, "grievance_anonymized_fields", {"Default": ["reporter"]})
    make_ticket(reporter=individual)
    reader = make_user("ticket_reader", rights=[127000])  # no 127002: anonymised fields hidden
    node = gql(reader).data(TICKET_SUMMARIES)["tickets"]["edges"][0]["node"]
    assert node["reporter"] is None and node["reporterFirstName"] == "Amina"
    assert twice_decoded(gql(officer).data(TICKET_SUMMARIES)["tickets"]["edges"][0]["node"]["reporter"])


# --- item 2: the three shapes of the ticket mutations ---------------------------------------------------------
def test_update_ticket_with_status_as_enum_literal(officer, gql, make_ticket, individual):
    ticket = make_ticket(category="Category A")
    log = mutation_log(gql(officer), filled(UPDATE_TICKET, ticket=ticket.id, staff=officer.id,
                                            reporter=individual.id))
    assert_log_success(log)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.category, ticket.priority, ticket.resolution) == ("OPEN", "Default", "High", "2,5")
    assert ticket.reporter == individual and ticket.attending_staff == officer


@pytest.mark.parametrize("status", ["RECEIVED", "IN_PROGRESS"])
def test_create_ticket_with_status_as_string(officer, gql, individual, status):
    document = filled(CREATE_TICKET, reporter=individual.id).replace('"RECEIVED"', f'"{status}"')
    assert_log_success(mutation_log(gql(officer), document))
    ticket = Ticket.objects.get(title="Payment not received")
    assert (ticket.status, ticket.category, ticket.reporter) == (status, "Default", individual)


def test_a_status_outside_the_five_is_a_graphql_error(officer, gql, individual):
    for bad in ('"NOPE"', "NOPE", '"open"'):
        document = filled(CREATE_TICKET, reporter=individual.id).replace('"RECEIVED"', bad)
        response = gql(officer).query(document)
        assert "TicketStatusEnum" in response["errors"][0]["message"], response
    assert not Ticket.objects.exists()


def test_resolve_ticket_without_category_keeps_the_category(officer, gql, make_ticket):
    ticket = make_ticket(category="Category B", status="OPEN")
    assert_log_success(mutation_log(gql(officer), filled(RESOLVE_TICKET, ticket=ticket.id)))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.category) == ("RESOLVED", "Category B")


def test_create_ticket_still_needs_a_category(officer, gql, individual):
    document = filled(CREATE_TICKET, reporter=individual.id).replace('    category: "Default"\n', "")
    assert "category" in gql(officer).query(document)["errors"][0]["message"]


# --- item 2: the category picker ------------------------------------------------------------------------------
def test_category_picker_lists_the_configured_categories(officer, gql, make_ticket, monkeypatch):
    from grievance_social_protection.apps import TicketConfig

    monkeypatch.setattr(TicketConfig, "grievance_types", ["Default", "Cash transfer delay"])
    make_ticket(title="Late", category="Cash transfer delay")
    gone = make_ticket(title="Gone", category="Cash transfer delay")
    TicketService(officer).delete({"id": gone.id})
    nodes = [e["node"] for e in gql(officer).data(CATEGORY_PICKER)["category"]["edges"]]
    assert [(n["categoryTitle"], n["slug"]) for n in nodes] == [("Default", "default"),
                                                               ("Cash transfer delay", "cash-transfer-delay")]
    assert all(n["id"] == n["uuid"] and uuid.UUID(n["uuid"]) for n in nodes)
    tickets = {n["categoryTitle"]: [t["node"] for t in n["tickets"]["edges"]] for n in nodes}
    code = Ticket.objects.get(title="Late").code
    assert tickets == {"Default": [], "Cash transfer delay": [{"ticketCode": code, "ticketTitle": "Late"}]}
    # stable ids: the same title gives the same uuid on the next call
    assert [e["node"]["uuid"] for e in gql(officer).data(CATEGORY_PICKER)["category"]["edges"]] == [
        n["uuid"] for n in nodes]


def test_category_picker_rights(gql, make_user, make_ticket, no_rights_user):
    make_ticket(title="Late", category="Default")
    commenter = make_user("comment_reader", rights=[127004])  # a grievance right, not the ticket query right
    nodes = [e["node"] for e in gql(commenter).data(CATEGORY_PICKER)["category"]["edges"]]
    assert [n["categoryTitle"] for n in nodes] == ["Default", "Category A", "Category B"]
    assert all(n["tickets"]["edges"] == [] for n in nodes)  # tickets stay under 127000
    for user in (None, no_rights_user):
        response = gql(user).query(CATEGORY_PICKER)
        assert response["data"]["category"] is None
        assert response["errors"][0]["message"] == "unauthorized"
