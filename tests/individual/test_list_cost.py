"""The individual and group lists cost the same SQL statements and cache reads for 10 rows as for 100.

Read through HTTP GraphQL with what the frontend selects (``fetchIndividuals`` / ``fetchGroups`` of
openimis-fe-individual_js), as an IMIS administrator and as a district clerk holding only the search right, with
masking on. Before issue 9 the rights and masking decisions re-read the cache for every row and JSON field (about
400 cache reads for a 100-row page as an admin, 620 as a clerk).
"""
import json

import pytest

from core.masking import MASK_STRING
from core.test_helpers import assign_user_districts, request_cost
from individual.bulk import create_households

pytestmark = pytest.mark.django_db

PAGE_INFO = "pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}"
INDIVIDUAL_LIST = """{ individual(isDeleted: false, first: %d, orderBy: ["lastName"]) { totalCount %s
  edges { node { id,isDeleted,dateCreated,dateUpdated,firstName,lastName,dob,jsonExt,version,userUpdated {username}
  } } } }"""
GROUP_LIST = """{ group(isDeleted: false, first: %d, orderBy: ["id"]) { totalCount %s
  edges { node { id,code,isDeleted,head {firstName, lastName, uuid},dateCreated,dateUpdated,jsonExt,version,
  userUpdated {username} } } } }"""


@pytest.fixture
def registry(admin_user, villages):
    """110 households of 5 in district A, 10 in district B, 10 individuals without household or location."""
    village_a, village_b = villages
    create_households(admin_user, 550, 5, [village_a], seed=1)
    create_households(admin_user, 50, 5, [village_b], seed=2)
    create_households(admin_user, 10, 0, [None], seed=3)


@pytest.fixture
def clerk(make_user, villages):
    user = make_user("clerk", rights=[159001, 180001])  # search rights only: masked attributes
    assign_user_districts(user, ["AD"])
    return user


def costs(client, query):
    """(cost of a 10-row page, cost of a 100-row page, the 100-row page), after one warm-up read."""
    client.data(query % (1, PAGE_INFO))  # the user's rights entry and the per-process caches
    pages = {}

    def read(size):
        pages[size] = client.data(query % (size, PAGE_INFO))

    small, large = request_cost(lambda: read(10)), request_cost(lambda: read(100))
    for size, page in pages.items():
        assert len(next(iter(page.values()))["edges"]) == size
    return small, large, next(iter(pages[100].values()))


# (SQL statements, cache reads): the user with its token check (one statement), count, page (joined with the users who updated the rows); the rights
# generation and the user's rights entry read once per request, the clerk's allowed locations too
COST = {"Admin": (3, 2), "clerk": (3, 4)}


def test_individual_list_cost_is_constant(registry, gql, admin_user, clerk):
    for user in (admin_user, clerk):
        small, large, page = costs(gql(user), INDIVIDUAL_LIST)
        assert small == large == COST[user.username], (user, small, large)
        attributes = [json.loads(edge["node"]["jsonExt"]) for edge in page["edges"]]
        masked = {a["educated_level"] for a in attributes}
        assert masked == {MASK_STRING} if user is clerk else MASK_STRING not in masked
        assert all(edge["node"]["userUpdated"]["username"] == "Admin" for edge in page["edges"])
    # the clerk sees district A and the individuals without location only
    assert gql(clerk).data("{ individual { totalCount } }")["individual"]["totalCount"] == 560


def test_group_list_cost_is_constant(registry, gql, admin_user, clerk):
    for user in (admin_user, clerk):
        small, large, page = costs(gql(user), GROUP_LIST)
        # one more statement: the page's memberships, joined with their individuals (the heads)
        expected = COST[user.username]
        assert small == large == (expected[0] + 1, expected[1]), (user, small, large)
        assert all(edge["node"]["head"]["uuid"] for edge in page["edges"])


def test_the_head_alone_reads_one_membership_per_group(registry, gql, admin_user):
    """A page that shows the head (the frontend's group list) reads the HEAD memberships only; one that also
    shows the members reads them all once and finds the head among them (same number of statements)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = gql(admin_user)
    client.data(GROUP_LIST % (1, PAGE_INFO))
    with CaptureQueriesContext(connection) as head_only:
        page = client.data(GROUP_LIST % (20, PAGE_INFO))["group"]
    with_members = GROUP_LIST.replace("head {firstName, lastName, uuid}",
                                      "head {firstName, lastName, uuid}, members {role individual {uuid}}")
    with CaptureQueriesContext(connection) as both:
        full = client.data(with_members % (20, PAGE_INFO))["group"]
    membership_reads = [[q["sql"] for q in capture if "individual_groupindividual" in q["sql"]]
                        for capture in (head_only, both)]
    assert [len(reads) for reads in membership_reads] == [1, 1]
    assert "HEAD" in membership_reads[0][0] and "HEAD" not in membership_reads[1][0]
    assert len(head_only) == len(both)
    assert [e["node"]["head"] for e in page["edges"]] == [e["node"]["head"] for e in full["edges"]]
    for edge in full["edges"]:
        heads = [m for m in edge["node"]["members"] if m["role"] == "HEAD"]
        assert [m["individual"]["uuid"] for m in heads] == [edge["node"]["head"]["uuid"]]
