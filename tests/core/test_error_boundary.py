"""Only business errors reach clients: an internal failure inside a real module's service, raised while the
row is being saved, is logged with its stack trace and answered with the spec's generic sentence, and
nothing of the half-done write is kept. (Before the error boundary, the services put ``str(exc)`` — host
names, passwords — into ``mutationLogs.error``.)"""
import json
import logging

import pytest
from django.db import OperationalError

from core.models import MutationLog, Role
from core.test_helpers import Enum, assert_log_error
from grievance_social_protection.models import Ticket
from individual.models import Individual
from social_protection.models import BenefitPlan

pytestmark = pytest.mark.django_db

SECRET = "could not connect to server db-prod.internal:5432 user=openimis password=hunter2"
GENERIC = "The mutation threw a OperationalError, check logs for details"

CASES = {
    "individual": (Individual, "createIndividual", {"firstName": "Ana", "lastName": "Lee", "dob": "1990-01-01"},
                   "Failed to create Individual"),
    "social_protection": (BenefitPlan, "createBenefitPlan",
                          {"code": "BP-X", "name": "Plan X", "type": Enum("INDIVIDUAL"), "maxBeneficiaries": 10,
                           "dateValidFrom": "2025-01-01", "dateValidTo": "2026-01-01"},
                          "Failed to create BenefitPlan"),
    "grievance": (Ticket, "createTicket", {"title": "Late payment", "category": "Default", "priority": "High",
                                           "channel": "Channel A", "flags": "Default", "resolution": "2,5",
                                           "dateOfIncident": "2024-11-20"}, "Failed to create Ticket"),
    "core roles": (Role, "createRole", {"name": "Auditors"}, "Failed to create Role"),
}


def fail_after_writing(monkeypatch, model):
    """``model.save`` writes its row, then the database connection breaks with a revealing message."""
    original = model.save

    def save(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise OperationalError(SECRET)

    monkeypatch.setattr(model, "save", save)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_internal_error_in_a_module_service_is_logged_not_shown(case, monkeypatch, gql, admin_user, caplog):
    model, mutation, params, message = CASES[case]
    before = model.objects.count()
    fail_after_writing(monkeypatch, model)
    with caplog.at_level(logging.ERROR):
        log = gql(admin_user).mutate(mutation, params)
    assert_log_error(log)
    assert json.loads(log.error) == [{"message": message, "detail": GENERIC}]
    assert model.objects.count() == before  # the row written before the failure was rolled back
    # the operator finds the real cause, with its stack trace, in the server log
    assert any(SECRET in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    # and a client reading the outcome as the frontend does sees nothing of it
    answer = gql(admin_user).query(
        f'{{ mutationLogs(clientMutationId: "{log.client_mutation_id}") {{ edges {{ node {{ status error }} }} }} }}')
    assert "hunter2" not in json.dumps(answer) and "db-prod" not in json.dumps(answer)
    assert answer["data"]["mutationLogs"]["edges"][0]["node"]["status"] == MutationLog.ERROR


def test_business_errors_keep_their_text(gql, admin_user):
    gql(admin_user).mutate("createRole", {"name": "Auditors"})
    log = gql(admin_user).mutate("createRole", {"name": "auditors"})
    assert json.loads(log.error) == [{"message": "Failed to create Role", "detail": "Role name auditors already exists"}]


def test_internal_error_in_a_query_resolver_is_generic(gql, admin_user, monkeypatch):
    """A list resolver that breaks on the database answers a generic GraphQL error."""
    from django.db.models.query import QuerySet

    def broken(self, *args, **kwargs):
        raise OperationalError(SECRET)

    monkeypatch.setattr(QuerySet, "iterator", broken)
    monkeypatch.setattr(QuerySet, "_fetch_all", broken)
    answer = gql(admin_user).query("{ languages { code } }")
    assert "hunter2" not in json.dumps(answer)
    assert answer["errors"][0]["message"] == "Internal error, check the server logs"
