"""Two executors voting at the same moment complete a task exactly once (row lock), on PostgreSQL."""
import threading
import time

import pytest
from django.db import connection

from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal
from tasks_management.models import Task
from tests.tasks_management.conftest import vote
from tests.tasks_management.factories import TmWidgetFactory


def _race(users, task):
    barrier = threading.Barrier(len(users))
    results, errors = {}, []

    def run(user):
        try:
            barrier.wait(timeout=10)
            results[user.username] = vote(user, task)
        except Exception as exc:  # pragma: no cover - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return results


@pytest.fixture
def slow_completion():
    """Widen the race window: every completion waits before writing, as a slow handler would."""
    completions = []

    def before(**kwargs):
        time.sleep(0.3)

    def after(**kwargs):
        completions.append(kwargs["result"]["success"])

    bind_service_signal("task_service.complete_task", before, ServiceSignalBindType.BEFORE)
    bind_service_signal("task_service.complete_task", after, ServiceSignalBindType.AFTER)
    yield completions
    unbind_service_signal("task_service.complete_task", before)
    unbind_service_signal("task_service.complete_task", after)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("policy", ["ANY", "ALL"])
def test_concurrent_votes_complete_exactly_once(policy, admin_user, make_group, checkers, maker, widget_service,
                                                slow_completion):
    assert connection.vendor == "postgresql"
    widget = TmWidgetFactory(name="before", acting_user=admin_user)
    make_group(policy, checkers[:2], code=f"race-{policy}", sources=["WidgetService"])
    created = widget_service(maker).create_update_task({"id": str(widget.id), "amount": "5.00"})
    task = Task.objects.get(id=created["data"]["id"])

    results = _race(checkers[:2], task)

    task.refresh_from_db()
    widget.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert [s for s in slow_completion if s] == [True]  # one successful completion, never two
    assert widget.version == 2 and str(widget.amount) == "5.00"  # the approved change ran once
    if policy == "ALL":
        assert all(r["success"] for r in results.values())
        assert set(task.business_status) == {str(c.id) for c in checkers[:2]}
    else:
        # the second vote either landed before completion or was refused on the completed task
        assert sum(1 for r in results.values() if r["success"]) >= 1
