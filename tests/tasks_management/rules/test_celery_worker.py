"""End to end (CI, ``celery_worker``): a ticket created through its service gets its follow-up task from a real
celery worker on Redis (the debounced refresh queued after commit), and resolving it completes the task."""
import time

import pytest

from grievance_social_protection.services import TicketService
from tasks_management.models import RuleState, Task

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_for_rule_task(state, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        task = Task.objects.filter(rule_name="grievance_follow_up", rule_state=state).first()
        if task is not None:
            return task
        time.sleep(0.5)
    raise AssertionError(f"the worker made no {state} follow-up task")


def test_the_worker_creates_and_completes_the_follow_up(admin_user):
    from openimis_be.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        created = TicketService(admin_user).create({"title": "Cash transfer missing", "category": "Default",
                                                    "attending_staff_id": admin_user.id})
        assert created["success"], created
        task = wait_for_rule_task(RuleState.READY)
        assert task.assignee_id == admin_user.id and task.status == Task.Status.ACCEPTED
        assert TicketService(admin_user).update({"id": created["data"]["id"], "status": "RESOLVED"})["success"]
        done = wait_for_rule_task(RuleState.COMPLETED)
        assert done.id == task.id and done.status == Task.Status.COMPLETED
    finally:
        app.conf.task_always_eager = eager
