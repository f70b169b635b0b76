"""Grievance follow-up (grievance §9.2): new ticket → Ready task for the attending staff; resolving completes
it; reopening creates a new one; deleting cancels it. Through the services, the triggers and the eager
celery refresh (as a deployment without a broker runs it)."""
import pytest

from grievance_social_protection.services import CommentService, TicketService
from tasks_management.models import RuleState, Task
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db


def _create(admin_user, **data):
    result = TicketService(admin_user).create({"title": "Payment not received", "category": "Default",
                                               "attending_staff_id": admin_user.id, **data})
    assert result["success"], result
    return result["data"]["id"]


def test_ticket_lifecycle_through_services(admin_user, individual, on_commit):
    with on_commit():
        ticket_id = _create(admin_user, reporter_type="individual", reporter_id=str(individual.id), priority="High")
    tasks = rule_tasks(rule_name="grievance_follow_up")
    assert len(tasks) == 1
    task = tasks[0]
    assert task.rule_state == RuleState.READY and task.status == Task.Status.ACCEPTED
    assert task.assignee_id == admin_user.id
    assert task.entity_id == str(individual.id)
    assert task.emission_key == f"grievance_social_protection.ticket:{ticket_id}~follow-up~grievance_follow_up"
    assert task.data["priority"] == "high" and task.data["contact_label"] == "Amina Diallo"
    assert task.executor_action_event == "task_rules" and task.source == "task_rules.grievance_follow_up"

    with on_commit():
        assert TicketService(admin_user).update({"id": ticket_id, "status": "RESOLVED"})["success"]
    task.refresh_from_db()
    assert task.rule_state == RuleState.COMPLETED and task.status == Task.Status.COMPLETED
    assert [h["state"] for h in task.json_ext["task_rules"]["state_history"]] == ["Ready", "Completed"]

    with on_commit():
        assert TicketService(admin_user).reopen_ticket({"id": ticket_id})["success"]
    tasks = rule_tasks(rule_name="grievance_follow_up")
    assert [t.rule_state for t in tasks] == [RuleState.COMPLETED, RuleState.READY]
    assert tasks[0].emission_key == tasks[1].emission_key

    with on_commit():
        assert TicketService(admin_user).delete({"id": ticket_id})["success"]
    tasks = rule_tasks(rule_name="grievance_follow_up")
    assert [t.rule_state for t in tasks] == [RuleState.COMPLETED, RuleState.CANCELLED]


def test_headless_ticket_and_resolution_comment(admin_user, on_commit):
    with on_commit():
        ticket_id = _create(admin_user, reporter_type="user", reporter_id=str(admin_user.id))
    (task,) = rule_tasks()
    assert task.entity_id == ticket_id and task.rule_state == RuleState.READY
    with on_commit():
        comment = CommentService(admin_user).create({"ticket_id": ticket_id, "comment": "Paid now",
                                                     "commenter_type": "user", "commenter_id": str(admin_user.id)})
        assert comment["success"], comment
    task.refresh_from_db()
    assert task.rule_state == RuleState.READY  # a plain comment does not resolve it
    with on_commit():
        result = CommentService(admin_user).resolve_grievance_by_comment({"id": comment["data"]["id"]})
        assert result["success"], result
    task.refresh_from_db()
    assert task.rule_state == RuleState.COMPLETED


def test_disabled_rule_emits_nothing(admin_user, individual, on_commit, set_config):
    from grievance_social_protection.apps import TicketConfig

    set_config(TicketConfig, grievance_follow_up_task_enabled=False)
    with on_commit():
        _create(admin_user, reporter_type="individual", reporter_id=str(individual.id))
    assert rule_tasks() == []
