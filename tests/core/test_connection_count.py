"""A list page counts its rows only when the query asks for ``totalCount`` (a COUNT(*) is a full scan on a large
registry); without it the page reads ``first + 1`` rows to answer ``pageInfo.hasNextPage``, with the same cursors."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Location
from core.test_helpers import GQL

pytestmark = pytest.mark.django_db

PAGE = """{ locations(first: %d%s, orderBy: ["code"]) { %s pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { code } } } }"""


@pytest.fixture
def regions(db):
    for number in range(7):
        Location.objects.create(code=f"RC{number}", name=f"Region {number}", type="R")
    return [f"RC{number}" for number in range(7)]


def _page(client, first, after=None, count=False):
    after_arg = f', after: "{after}"' if after else ""
    text = PAGE % (first, after_arg, "totalCount" if count else "")
    with CaptureQueriesContext(connection) as queries:
        data = client.data(text)["locations"]
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    return data, counts


@pytest.mark.parametrize("first", [3, 5])
def test_no_count_unless_total_count_is_selected(admin_user, regions, first):
    client = GQL(admin_user)
    without, counts = _page(client, first)
    assert counts == []
    with_count, counts = _page(client, first, count=True)
    assert len(counts) == 1 and with_count["totalCount"] == Location.objects.count()
    # the same page either way: cursors, rows and pageInfo
    assert without["edges"] == with_count["edges"]
    assert without["pageInfo"] == with_count["pageInfo"]


def test_paging_forward_without_count_reaches_every_row_once(admin_user, regions):
    client = GQL(admin_user)
    seen, after, pages = [], None, 0
    while True:
        data, counts = _page(client, 3, after=after)
        assert counts == []
        seen += [edge["node"]["code"] for edge in data["edges"]]
        pages += 1
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert seen == sorted(Location.objects.values_list("code", flat=True))
    assert pages == -(-Location.objects.count() // 3)


def test_an_exact_multiple_of_the_page_has_no_next_page(admin_user, regions):
    total = Location.objects.count()
    data, _ = _page(GQL(admin_user), total)
    assert len(data["edges"]) == total and data["pageInfo"]["hasNextPage"] is False


def test_total_count_is_exact_below_the_limit(admin_user, regions):
    data = GQL(admin_user).data("{ locations(first: 2) { totalCount totalCountExact } }")["locations"]
    assert data == {"totalCount": Location.objects.count(), "totalCountExact": True}


def _analyze(model):
    from core.gql import connection as lists

    lists._TABLE_ROWS.clear()  # the table's size is read again
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def test_above_the_limit_postgresql_answers_the_estimate_flagged(admin_user, regions, settings):
    """When the planner expects more rows than ``LIST_COUNT_EXACT_LIMIT``, PostgreSQL answers its estimate (an
    EXPLAIN, no row read) and says so (``totalCountExact: false``); SQLite, which has no estimate, counts."""
    settings.LIST_COUNT_EXACT_LIMIT = 3
    _analyze(Location)
    total = Location.objects.count()
    with CaptureQueriesContext(connection) as queries:
        data = GQL(admin_user).data("{ locations(first: 2) { totalCount totalCountExact } }")["locations"]
    if connection.vendor == "postgresql":
        assert data == {"totalCount": total, "totalCountExact": False}  # the statistics are fresh: exact figure
        assert any("EXPLAIN" in q["sql"].upper() for q in queries.captured_queries)
        assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    else:
        assert data == {"totalCount": total, "totalCountExact": True}


def test_a_filter_expected_below_the_limit_is_counted_exactly(admin_user, regions, settings):
    """In a table above the limit, a filter the planner expects to match fewer rows than the limit is counted,
    by a count that stops at the limit (a low estimate cannot make the list count a whole table)."""
    client = GQL(admin_user)
    settings.LIST_COUNT_EXACT_LIMIT = 3
    Location.objects.create(code="RC1X", name="Region 1 bis", type="R")
    _analyze(Location)
    with CaptureQueriesContext(connection) as queries:
        data = client.data('{ locations(first: 1, code_Istartswith: "RC1") { totalCount totalCountExact } }'
                           )["locations"]
    statements = [q["sql"].upper() for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert any("EXPLAIN" in sql for sql in statements)  # a table above the limit: the estimate first
        assert any("COUNT(" in sql and "LIMIT 4" in sql for sql in statements)  # one row expected: counted
    assert data == {"totalCount": 2, "totalCountExact": True}


def test_a_table_below_the_limit_is_counted_without_asking_the_planner(admin_user, regions, settings):
    settings.LIST_COUNT_EXACT_LIMIT = 1_000
    _analyze(Location)
    with CaptureQueriesContext(connection) as queries:
        data = GQL(admin_user).data("{ locations(first: 2) { totalCount totalCountExact } }")["locations"]
    assert data == {"totalCount": Location.objects.count(), "totalCountExact": True}
    assert not any("EXPLAIN" in q["sql"].upper() for q in queries.captured_queries)


def test_a_page_that_ends_the_list_knows_its_length_without_counting(admin_user, regions):
    with CaptureQueriesContext(connection) as queries:
        data = GQL(admin_user).data("{ locations(first: 50) { totalCount totalCountExact } }")["locations"]
    assert data == {"totalCount": Location.objects.count(), "totalCountExact": True}
    assert not any("COUNT(" in q["sql"].upper() or "EXPLAIN" in q["sql"].upper() for q in queries.captured_queries)


def test_backward_pages_still_count_exactly(admin_user, regions):
    data = GQL(admin_user).data('{ locations(last: 2, orderBy: ["code"]) { totalCount totalCountExact '
                                'edges { node { code } } } }')["locations"]
    codes = sorted(Location.objects.values_list("code", flat=True))
    assert [e["node"]["code"] for e in data["edges"]] == codes[-2:]
    assert data["totalCount"] == len(codes) and data["totalCountExact"] is True
