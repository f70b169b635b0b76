"""The module's beat jobs (core.scheduling) and its celery tasks (task_rules.md §14)."""
import pytest

from core.scheduling import collect_beat_schedule
from tasks_management import tasks
from tasks_management.rules import engine
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db


def test_beat_jobs_are_declared_by_the_module():
    schedule = collect_beat_schedule(settings_jobs=[])
    assert schedule["task_rules_refresh_dirty"]["task"] == "tasks_management.tasks.refresh_dirty_rule_tasks"
    assert str(schedule["task_rules_refresh_dirty"]["schedule"]._orig_minute) == "*/15"
    daily = schedule["task_rules_update_states_daily"]["schedule"]
    assert (str(daily._orig_hour), str(daily._orig_minute)) == ("0", "5")
    assert schedule["task_rules_purge"]["task"] == "tasks_management.tasks.purge_rule_tasks"


def test_celery_tasks(admin_user):
    from tests.grievance_social_protection.factories import TicketFactory

    ticket = TicketFactory(reporter=admin_user, attending_staff=admin_user, acting_user=admin_user)
    assert tasks.refresh_dirty_rule_tasks.delay().get()["created"] == 1
    assert tasks.update_rule_task_states.delay().get() == 0
    assert tasks.purge_rule_tasks.delay().get() == 0
    engine.mark_dirty([("grievance_social_protection.ticket", ticket.id)])
    result = tasks.refresh_rule_tasks.delay(subjects=[["grievance_social_protection.ticket", str(ticket.id)]]).get()
    assert result["subjects"] == 1 and len(rule_tasks()) == 1
    with engine.refresh_lock():  # another refresh running: the queued one gives way (retried by a worker)
        assert tasks.refresh_rule_tasks.delay(only_flagged=True).get() is None
