"""The module written from docs/DEVELOPING.md alone works end to end through the core base pieces."""
import json

import pytest
from graphql_relay import to_global_id

from core.test_helpers import assert_log_error, assert_log_success, assign_user_districts, create_test_village
from core.test_helpers import request_cost
from tests.guide.test_app.models import Visit
from tests.guide.test_app.services import close_stale_visits

pytestmark = pytest.mark.django_db

LIST = "{ visit(first: %d, orderBy: [\"subject\"]) { totalCount edges { node { id uuid subject outcome jsonExt " \
       "location { code } userUpdated { username } } } } }"


@pytest.fixture
def village(db):
    return create_test_village("GD")


@pytest.fixture
def clerk(make_user, village):
    user = make_user("visit_clerk", rights=[995001, 995002, 995003])
    assign_user_districts(user, [village.parent.parent.code])
    return user


def test_create_list_mask_and_link(gql, clerk, village):
    log = gql(clerk).mutate("createVisit", {"subject": "Follow-up", "locationId": village.id,
                                            "jsonExt": json.dumps({"phone": "+255711111111", "note": "ok"})})
    assert_log_success(log)
    data = gql(clerk).data('{ visit(clientMutationId: "%s") { edges { node { subject jsonExt location { code } } } } }'
                           % log.client_mutation_id)
    node = data["visit"]["edges"][0]["node"]
    assert node["subject"] == "Follow-up" and node["location"]["code"] == village.code
    assert json.loads(node["jsonExt"]) == {"phone": "***************", "note": "ok"}  # masked without 900101
    visit = Visit.objects.get()
    assert (visit.version, visit.user_created, visit.history.count()) == (1, clerk, 1)


def test_business_errors_and_no_change(gql, clerk, admin_user):
    assert_log_error(gql(clerk).mutate("createVisit", {"subject": " "}), "visit.subject.empty")
    visit = Visit(subject="Check")
    visit.save(user=admin_user)
    first = gql(clerk).mutate("recordVisitOutcome", {"id": str(visit.id), "outcome": "DONE"})
    assert_log_success(first)
    again = gql(clerk).mutate("recordVisitOutcome", {"id": str(visit.id), "outcome": "DONE"})
    assert_log_success(again)  # nothing to change is not an error
    assert Visit.objects.get().version == 2 and visit.history.count() == 2
    assert_log_error(gql(clerk).mutate("recordVisitOutcome", {"id": str(visit.id), "outcome": "LATER"}),
                     "visit.outcome.invalid")


def test_rights_row_security_and_node(gql, clerk, no_rights_user, admin_user, village):
    elsewhere = create_test_village("ELSE")
    mine, theirs = Visit(subject="mine", location=village), Visit(subject="theirs", location=elsewhere)
    mine.save(user=admin_user)
    theirs.save(user=admin_user)
    subjects = [e["node"]["subject"] for e in gql(clerk).data(LIST % 10)["visit"]["edges"]]
    assert subjects == ["mine"]
    assert gql(no_rights_user).query(LIST % 10)["errors"][0]["message"] == "unauthorized"
    node = '{ node(id: "%s") { ... on VisitGQLType { subject } } }'
    assert gql(clerk).data(node % to_global_id("VisitGQLType", mine.id))["node"] == {"subject": "mine"}
    assert gql(clerk).data(node % to_global_id("VisitGQLType", theirs.id))["node"] is None  # row security
    assert gql(no_rights_user).data(node % to_global_id("VisitGQLType", mine.id))["node"] is None  # rights
    deleted = gql(clerk).mutate("deleteVisit", {"ids": [str(theirs.id)]})
    assert_log_error(deleted, "unauthorized")  # no delete right
    assert not Visit.objects.get(id=theirs.id).is_deleted


def test_bulk_job_writes_history_and_is_scheduled(admin_user):
    from openimis_be.celery import app

    for i in range(3):
        Visit(subject=f"v{i}").save(user=admin_user)
    from django.utils import timezone

    Visit.objects.update(date_created=timezone.now() - timezone.timedelta(days=40))
    result = close_stale_visits(admin_user)
    assert result["success"] and result["data"]["closed"] == 3
    assert set(Visit.objects.values_list("outcome", flat=True)) == {"MISSED"}
    assert Visit.history.filter(history_type="~", outcome="MISSED").count() == 3
    assert app.conf.beat_schedule["guide_close_stale_visits"]["task"] == "guide.tasks.close_stale_visits"


def test_list_cost_is_constant(gql, clerk, admin_user, village):
    from core import bulk

    bulk.insert_rows(Visit, [{"subject": f"s{i:03}", "location": village.id, "json_ext": {"phone": "1"}}
                             for i in range(101)], user=admin_user)  # a next page after 100: counted
    client = gql(clerk)
    client.data(LIST % 10)  # the token's user and the rights are cached once, as in a running server
    small = request_cost(lambda: client.data(LIST % 10))
    large = request_cost(lambda: client.data(LIST % 100))
    assert small == large
    # rights generation, the user's access (rights, admin flag), location generation, allowed locations: per
    # request, never per row or per JSON field
    assert small == (3, 4)
