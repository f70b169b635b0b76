"""Modules declare their periodic jobs; beat registers them; work started by a write waits for the commit."""
import pytest
from django.db import transaction

from core.scheduling import collect_beat_schedule, enqueue_on_commit


def test_jobs_declared_by_modules_are_in_the_beat_schedule():
    from openimis_be.celery import app

    entry = app.conf.beat_schedule["core_cleanup_exports"]
    assert entry["task"] == "core.tasks.cleanup_expired_exports"
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {15}


def test_settings_jobs_in_upstream_shape_override_a_module_job_by_name():
    schedule = collect_beat_schedule([{"method": "core.tasks.cleanup_expired_exports", "args": ["cron"],
                                       "kwargs": {"id": "core_cleanup_exports", "hour": 5}}])
    assert schedule["core_cleanup_exports"]["schedule"].hour == {5}


@pytest.mark.django_db
def test_database_scheduler_registers_the_module_jobs(monkeypatch):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from openimis_be.celery import app

    # beat owns its process and closes stale connections as it goes; here it shares the test's transaction
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)
    scheduler = DatabaseScheduler(app=app)  # what `celery beat` does at start: copy the schedule into its tables
    scheduler._finalize.cancel()
    task = PeriodicTask.objects.get(name="core_cleanup_exports")
    assert task.task == "core.tasks.cleanup_expired_exports"
    assert (task.crontab.hour, task.crontab.minute) == ("3", "15")


class _RecordingTask:
    def __init__(self):
        self.calls = []

    def delay(self, *args, **kwargs):
        self.calls.append((args, kwargs))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_enqueue_on_commit_waits_for_the_commit_and_drops_work_of_a_rollback():
    task = _RecordingTask()
    with transaction.atomic():
        enqueue_on_commit(task, 1, flag=True)
        assert task.calls == []  # the worker must not run before the rows it reads are committed
    assert task.calls == [((1,), {"flag": True})]
    try:
        with transaction.atomic():
            enqueue_on_commit(task, 2)
            raise RuntimeError("the write fails")
    except RuntimeError:
        pass
    assert task.calls == [((1,), {"flag": True})]


def test_a_celery_task_computes_rights_once(admin_user):
    """Inside a task (a scope like a request), the rights of a user are read from the cache once."""
    from celery import shared_task

    from core.test_helpers import CacheReads

    @shared_task(name="tests.core.count_rights_reads")
    def check_rights_many_times(user_id):
        from core.models import User

        user = User.objects.get(id=user_id)
        with CacheReads() as reads:
            for _ in range(50):
                user.has_perms(["159001"])
        return reads.count

    assert check_rights_many_times.delay(str(admin_user.id)).get() == 2  # rights generation + access entry
