"""The cost of the frontend's grievance lists does not grow with the page: the same SQL statements and cache reads
for a page of 10 rows and a page of 100 rows (exact numbers, through the HTTP GraphQL client)."""
import json

import pytest
from django.apps import apps

from core.test_helpers import request_cost
from tests.grievance_social_protection.factories import CommentFactory, TicketFactory, TicketMutationFactory

pytestmark = pytest.mark.django_db

# openimis-fe-grievance_social_protection_js, actions.js fetchTicketSummaries (TicketSearcher), page size varied
FE_TICKETS = """
    {
      tickets(first: %d,orderBy: ["-dateCreated"])
      {
        totalCount
        pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}
        edges { node {
          id,title,code,description,status,priority,dueDate,reporter,reporterId,reporterType,reporterTypeName,category,
          flags,channel,resolution,title,dateOfIncident,dateCreated,version,isHistory,reporterFirstName,
          reporterLastName,reporterDob
        } }
      }
    }"""
# actions.js fetchComments (TicketCommentsPanel)
FE_COMMENTS = """
    {
      comments(ticket_Id: "%s",orderBy: ["-dateCreated"], first: %d)
      {
        totalCount
        pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}
        edges { node {
          id,commenter,commenterId,commenterType,commenterTypeName,comment,isResolution,dateCreated,
          commenterFirstName,commenterLastName,commenterDob
        } }
      }
    }"""
COMMENTS_WITH_TICKETS = ("{ comments(first: %d) { totalCount edges { node { comment commenterTypeName "
                         "ticket { code title reporterTypeName reporterFirstName clientMutationId } } } } }")

# Every request: 1 SQL statement to authenticate (the user with the token's revocation) and 2 cache reads (the rights
# generation and the user's rights, memoised for the request). Every list: its count and its page, then one
# statement per link type on the page (reporters / commenters) and per batch loader (client mutation ids).
AUTH_SQL, CACHE_READS = 1, 2
PAGE_SQL = 1  # these pages hold the whole list: its length is known without a count
# issue 10: reporters / commenters are read under the registry's row security (in the link type's own statement);
# a restricted caller (the officer, an interactive user) reads their allowed locations once per request: 2 more
# cache reads (the location generation and the allowed ids), no statement more
LOCATION_READS = 2 if apps.is_installed("individual") else 0


def _link_kinds(admin_user):
    """``{type name: maker}`` of every link type installed: users, individuals, beneficiaries."""
    kinds = {"user": lambda: admin_user}
    if apps.is_installed("individual"):
        from tests.individual.factories import IndividualFactory

        kinds["individual"] = IndividualFactory
    if apps.is_installed("social_protection"):
        from tests.social_protection.factories import BeneficiaryFactory

        kinds["beneficiary"] = BeneficiaryFactory
    return kinds


def _reporters(count, admin_user):
    """Every installed link type in turn, so each one is on every page."""
    makers = list(_link_kinds(admin_user).values())
    return [makers[i % len(makers)]() for i in range(count)]


def _cost(client, query):
    client.data(query)  # warm the process caches (content types) as a running server has them
    return request_cost(lambda: client.data(query))


def test_ticket_list_cost_is_the_same_for_10_and_100_rows(officer, gql, admin_user):
    client = gql(officer)
    for reporter in _reporters(10, admin_user):
        TicketFactory(reporter=reporter, acting_user=officer)
    expected = (AUTH_SQL + PAGE_SQL + len(_link_kinds(admin_user)), CACHE_READS + LOCATION_READS)  # 5 SQL, 4 reads
    assert _cost(client, FE_TICKETS % 10) == expected
    for reporter in _reporters(90, admin_user):
        TicketFactory(reporter=reporter, acting_user=officer)
    assert _cost(client, FE_TICKETS % 100) == expected

    nodes = [edge["node"] for edge in client.data(FE_TICKETS % 100)["tickets"]["edges"]]
    assert len(nodes) == 100
    assert {n["reporterTypeName"] for n in nodes} == set(_link_kinds(admin_user))
    assert all(json.loads(json.loads(n["reporter"]))["id"] == n["reporterId"] for n in nodes)
    assert all(n["reporterFirstName"] for n in nodes if n["reporterTypeName"] != "user")


def test_comment_list_cost_is_the_same_for_10_and_100_rows(officer, gql, admin_user):
    client = gql(officer)
    ticket = TicketFactory(acting_user=officer)
    for commenter in _reporters(10, admin_user):
        CommentFactory(ticket=ticket, commenter=commenter, acting_user=officer)
    expected = (AUTH_SQL + PAGE_SQL + len(_link_kinds(admin_user)), CACHE_READS + LOCATION_READS)  # 5 SQL, 4 reads
    assert _cost(client, FE_COMMENTS % (ticket.id, 10)) == expected
    for commenter in _reporters(90, admin_user):
        CommentFactory(ticket=ticket, commenter=commenter, acting_user=officer)
    assert _cost(client, FE_COMMENTS % (ticket.id, 100)) == expected

    nodes = [edge["node"] for edge in client.data(FE_COMMENTS % (ticket.id, 100))["comments"]["edges"]]
    assert {n["commenterTypeName"] for n in nodes} == set(_link_kinds(admin_user))
    assert all(json.loads(json.loads(n["commenter"]))["id"] == n["commenterId"] for n in nodes)


def test_comments_with_their_tickets_cost_the_same_for_10_and_100_rows(officer, gql, admin_user):
    """Each comment's ticket, its reporter and its client mutation id are loaded for the whole page."""
    client = gql(officer)

    def comments(count):
        for reporter in _reporters(count, admin_user):
            link = TicketMutationFactory(ticket=TicketFactory(reporter=reporter, acting_user=officer))
            CommentFactory(ticket=link.ticket, acting_user=officer)

    # the tickets come joined with the page; their reporters by type, their client mutation ids in one batch
    expected = (AUTH_SQL + PAGE_SQL + len(_link_kinds(admin_user)) + 1, CACHE_READS + LOCATION_READS)  # 6 SQL
    comments(10)
    assert _cost(client, COMMENTS_WITH_TICKETS % 10) == expected
    comments(90)
    assert _cost(client, COMMENTS_WITH_TICKETS % 100) == expected

    tickets = [edge["node"]["ticket"] for edge in client.data(COMMENTS_WITH_TICKETS % 100)["comments"]["edges"]]
    assert len({t["code"] for t in tickets}) == 100 and all(t["clientMutationId"] for t in tickets)
