"""As a new user would try it (issue 15 "Done when"): after the demo, a ticket created over GraphQL shows a
Ready follow-up in the attending staff's dueTasks, resolving completes it, reopening creates a new one; the
management command (dry run, counts, errors)."""
import io

import pytest
from django.core.management import CommandError, call_command

from core.test_helpers import Enum, assert_log_success
from tasks_management.models import RuleState, Task
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db

DUE = "{ dueTasks(first: 50) { totalCount edges { node { id ruleState contactLabel title overdue entityId } } } }"


def _due(client):
    return [e["node"] for e in client.data(DUE)["dueTasks"]["edges"]]


def test_demo_then_a_ticket_over_graphql(gql, django_capture_on_commit_callbacks):
    from core.models import User

    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=io.StringIO())
    admin, checker = User.objects.get(username="Admin"), User.objects.get(username="Checker")
    demo_due = _due(gql(admin))
    assert demo_due and all(n["ruleState"] == "Ready" for n in demo_due)  # the demo tickets' follow-ups
    assert {n["id"] for n in _due(gql(checker))} == {n["id"] for n in demo_due}  # via the demo group
    client = gql(admin)
    with django_capture_on_commit_callbacks(execute=True):
        log = client.mutate("createTicket", {"category": "Default", "title": "Cash transfer missing",
                                             "attendingStaffId": str(admin.id), "priority": "High",
                                             "reporterType": "user", "reporterId": str(admin.id)})
    assert_log_success(log)
    ticket_id = log.tickets.get().ticket_id
    mine = [n for n in _due(client) if n["entityId"] == str(ticket_id)]
    assert [n["ruleState"] for n in mine] == ["Ready"] and mine[0]["title"] == "task.grievance.follow_up"
    with django_capture_on_commit_callbacks(execute=True):
        assert_log_success(client.mutate("updateTicket", {"id": str(ticket_id), "category": "Default",
                                                          "title": "Cash transfer missing",
                                                          "status": Enum("RESOLVED")}))
    assert not [n for n in _due(client) if n["entityId"] == str(ticket_id)]
    assert Task.objects.get(id=_node_id(mine[0])).rule_state == RuleState.COMPLETED
    with django_capture_on_commit_callbacks(execute=True):
        assert_log_success(client.mutate("reopenTicket", {"id": str(ticket_id)}))
    again = [n for n in _due(client) if n["entityId"] == str(ticket_id)]
    assert len(again) == 1 and again[0]["id"] != mine[0]["id"]


def _node_id(node):
    import base64

    return base64.b64decode(node["id"]).decode().split(":", 1)[1]


def test_generate_rule_tasks_command(admin_user):
    from tests.grievance_social_protection.factories import TicketFactory

    TicketFactory(reporter=admin_user, attending_staff=admin_user, acting_user=admin_user)
    out = io.StringIO()
    call_command("generate_rule_tasks", "--all", "--dry-run", "--no-progress", stdout=out)
    assert "[dry run, rolled back]" in out.getvalue() and "created=1" in out.getvalue()
    assert rule_tasks() == []
    out = io.StringIO()
    call_command("generate_rule_tasks", "--all", "--rule", "grievance_follow_up", "--purge", "--decay", stdout=out)
    assert "created=1" in out.getvalue() and len(rule_tasks()) == 1
    out = io.StringIO()
    call_command("generate_rule_tasks", "--no-progress", stdout=out)  # nothing dirty any more
    assert "created=0" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown rule"):
        call_command("generate_rule_tasks", "--rule", "nope")
    with pytest.raises(CommandError, match="expected"):
        call_command("generate_rule_tasks", "--contact", "nonsense")
