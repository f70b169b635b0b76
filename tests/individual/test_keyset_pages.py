"""Deep pages of the registry seek by the sort key instead of skipping rows (issue 11), with the frontend's cursors
unchanged for it: ``after: endCursor`` forward, ``last/before: startCursor`` backward, plain relay cursors too."""
import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import offset_to_cursor

from core.test_helpers import GQL
from individual.models import Individual
from tests.individual.factories import IndividualFactory

pytestmark = pytest.mark.django_db

FIELDS = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { lastName } }"


@pytest.fixture
def people(db):
    # 12 distinct last names, some shared by two people: the key needs the primary key to break ties
    for number in range(12):
        IndividualFactory(first_name=f"P{number}", last_name=f"Name{number // 2:02d}")
    return [i.last_name for i in Individual.objects.order_by("last_name", "id")]


def page(client, arguments):
    text = '{ individual(isDeleted: false, %s, orderBy: ["lastName"]) { %s } }' % (arguments, FIELDS)
    with CaptureQueriesContext(connection) as queries:
        data = client.data(text)["individual"]
    rows = [q["sql"] for q in queries.captured_queries if 'FROM "individual_individual"' in q["sql"]]
    return data, rows


def names(data):
    return [edge["node"]["lastName"] for edge in data["edges"]]


def test_paging_forward_by_end_cursor_seeks_and_reaches_every_row_once(admin_user, people):
    client = GQL(admin_user)
    seen, after = [], None
    while True:
        data, statements = page(client, "first: 5" + (f', after: "{after}"' if after else ""))
        seen += names(data)
        if after:  # a keyed cursor: the page starts at the key, no OFFSET
            assert len(statements) == 1 and "OFFSET" not in statements[0].upper()
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == people


def test_paging_backward_by_start_cursor(admin_user, people):
    client = GQL(admin_user)
    first, _ = page(client, "first: 4")
    second, _ = page(client, f'first: 4, after: "{first["pageInfo"]["endCursor"]}"')
    third, _ = page(client, f'first: 4, after: "{second["pageInfo"]["endCursor"]}"')
    back, statements = page(client, f'last: 4, before: "{third["pageInfo"]["startCursor"]}"')
    assert names(back) == names(second) == people[4:8]
    assert back["pageInfo"]["hasPreviousPage"] is True
    assert [e["cursor"] for e in back["edges"]] == [e["cursor"] for e in second["edges"]]
    assert not any("COUNT(" in sql.upper() for sql in statements)
    front, _ = page(client, f'last: 4, before: "{second["pageInfo"]["startCursor"]}"')
    assert names(front) == people[:4] and front["pageInfo"]["hasPreviousPage"] is False


def test_plain_relay_cursors_still_page_by_position(admin_user, people):
    data, statements = page(GQL(admin_user), f'first: 3, after: "{offset_to_cursor(5)}"')
    assert names(data) == people[6:9]


def test_a_forged_or_foreign_key_falls_back_to_the_position(admin_user, people):
    client = GQL(admin_user)
    first, _ = page(client, "first: 3")
    cursor = first["pageInfo"]["endCursor"]
    text = base64.b64decode(cursor).decode()
    position, _, signed = text.partition("|")
    assert signed  # our cursors carry the key
    forged = base64.b64encode(f"{position}|{signed[:-3]}xyz".encode()).decode()
    data, statements = page(client, f'first: 3, after: "{forged}"')
    assert names(data) == people[3:6] and "OFFSET" in statements[0].upper()
    # the same cursor under another order is a position only
    other = client.data('{ individual(first: 3, after: "%s", orderBy: ["firstName"]) { edges { node { firstName } } } }'
                        % cursor)["individual"]
    assert [e["node"]["firstName"] for e in other["edges"]] == sorted(
        Individual.objects.values_list("first_name", flat=True))[3:6]


def test_descending_order_seeks_downwards(admin_user, people):
    client = GQL(admin_user)
    text = '{ individual(first: 5%s, orderBy: ["-lastName"]) { %s } }'
    first = client.data(text % ("", FIELDS))["individual"]
    with CaptureQueriesContext(connection) as queries:
        second = client.data(text % (f', after: "{first["pageInfo"]["endCursor"]}"', FIELDS))["individual"]
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    expected = [i.last_name for i in Individual.objects.order_by("-last_name", "-id")]
    assert names(first) + names(second) == expected[:10]


# --- short name searches (1–2 letters) go by word prefix, so the trigram index serves them -----------------------
@pytest.fixture
def named(db):
    for first in ("Arnold", "Carl", "Mary Arden", "Marta", "Ola"):
        IndividualFactory(first_name=first, last_name="Search")


@pytest.mark.parametrize("text, expected", [
    ("ar", ["Arnold", "Mary Arden"]),          # word beginnings only: not "Carl", not "Marta"
    ("A", ["Arnold", "Mary Arden"]),
    ("arl", ["Carl"]),                         # three letters or more: anywhere in the name
    ("ART", ["Marta"]),
])
def test_short_name_searches_match_word_beginnings(admin_user, named, text, expected):
    data = GQL(admin_user).data('{ individual(firstName_Icontains: "%s", lastName_Icontains: "Search") '
                                '{ totalCount edges { node { firstName } } } }' % text)["individual"]
    assert sorted(e["node"]["firstName"] for e in data["edges"]) == expected
    assert data["totalCount"] == len(expected)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_a_two_letter_search_can_use_the_trigram_index(admin_user, named):
    from django.test import RequestFactory

    from individual.gql_queries import IndividualGQLType

    filterset = IndividualGQLType._meta.filterset_class(
        data={"first_name__icontains": "ar"}, queryset=Individual.objects.all(), request=RequestFactory().get("/"))
    sql, params = filterset.qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ind_individual_fn_trgm" in plan


def test_the_same_page_read_later_has_the_same_cursors(admin_user, people, monkeypatch):
    """A cursor names a row's place, not a moment: two reads a minute apart answer the same cursors (the frontend
    compares them, and a count-or-not variant of the page must not differ by the clock)."""
    import time
    client = GQL(admin_user)
    before, _ = page(client, "first: 3")
    later = time.time() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    after, _ = page(client, "first: 3")
    assert [e["cursor"] for e in after["edges"]] == [e["cursor"] for e in before["edges"]]
    assert after["pageInfo"] == before["pageInfo"]
