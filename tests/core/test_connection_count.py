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


def test_above_the_limit_postgresql_answers_the_estimate_flagged(admin_user, regions, settings):
    """Past ``LIST_COUNT_EXACT_LIMIT`` a count stops at the limit; PostgreSQL then answers its planner estimate
    and says so (``totalCountExact: false``); SQLite, which has no estimate, keeps counting exactly."""
    settings.LIST_COUNT_EXACT_LIMIT = 3
    total = Location.objects.count()
    with CaptureQueriesContext(connection) as queries:
        data = GQL(admin_user).data("{ locations(first: 2) { totalCount totalCountExact } }")["locations"]
    if connection.vendor == "postgresql":
        assert data["totalCountExact"] is False
        assert data["totalCount"] >= 4  # never below what the capped count saw
        assert any("EXPLAIN" in q["sql"].upper() for q in queries.captured_queries)
        assert any("LIMIT 4" in q["sql"].upper() for q in queries.captured_queries)  # the count stopped there
    else:
        assert data == {"totalCount": total, "totalCountExact": True}


def test_backward_pages_still_count_exactly(admin_user, regions):
    data = GQL(admin_user).data('{ locations(last: 2, orderBy: ["code"]) { totalCount totalCountExact '
                                'edges { node { code } } } }')["locations"]
    codes = sorted(Location.objects.values_list("code", flat=True))
    assert [e["node"]["code"] for e in data["edges"]] == codes[-2:]
    assert data["totalCount"] == len(codes) and data["totalCountExact"] is True
