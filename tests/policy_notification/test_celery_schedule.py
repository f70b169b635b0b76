"""Scheduling (spec §13.9): the beat entry built from the configured hours and interval, an operator's
``SCHEDULER_JOBS`` override, the task re-reading the configuration at each run; and (CI, ``celery_worker``) the
scheduled task run once end to end by a real worker on Redis."""
import datetime
import json
import time

import pytest
from celery.schedules import crontab
from django.utils import timezone

from core.models import ModuleConfiguration
from core.scheduling import collect_beat_schedule
from policy_notification.apps import PolicyNotificationConfig
from policy_notification.models import IndicationStatus, NotificationIndication
from tests.policy_notification.helpers_e import enrol, household

JOB = "policy_notification_send_notification_messages"
TASK = "policy_notification.tasks.send_notification_messages"


@pytest.fixture
def trigger_hours():
    keys = ("trigger_first_call_hour", "trigger_last_call_hour", "trigger_time_interval_hours")
    saved = {key: getattr(PolicyNotificationConfig, key) for key in keys}

    def configure(first, last, interval):
        for key, value in zip(keys, (first, last, interval)):
            setattr(PolicyNotificationConfig, key, value)

    yield configure
    for key, value in saved.items():
        setattr(PolicyNotificationConfig, key, value)


def test_the_default_beat_entry_runs_every_four_hours_from_8_to_20():
    entry = collect_beat_schedule(settings_jobs=[])[JOB]
    assert entry["task"] == TASK
    assert entry["schedule"] == crontab(minute="0", hour="8-20/4")
    assert sorted(entry["schedule"].hour) == [8, 12, 16, 20]


def test_the_beat_entry_follows_the_configured_hours(trigger_hours):
    trigger_hours(6, 18, 3)
    schedule = collect_beat_schedule(settings_jobs=[])[JOB]["schedule"]
    assert sorted(schedule.hour) == [6, 9, 12, 15, 18] and schedule.minute == {0}


def test_an_operators_scheduler_job_replaces_the_modules_entry():
    jobs = [{"method": TASK, "args": ["cron"], "kwargs": {"id": JOB, "hour": "7", "minute": "30"}}]
    entry = collect_beat_schedule(settings_jobs=jobs)[JOB]
    assert entry["task"] == TASK and sorted(entry["schedule"].hour) == [7] and entry["schedule"].minute == {30}


@pytest.mark.django_db
def test_the_task_reads_the_configuration_again_at_each_run(superuser, tmp_path):
    """In-process (eager) run of the task: switching a trigger on in ModuleConfiguration applies at the next run
    without a restart."""
    from policy_notification.tasks import send_notification_messages

    saved = PolicyNotificationConfig.config
    group = household()
    enrol(group, start=timezone.localdate())
    try:
        assert send_notification_messages.delay().get()["detected"] == 0  # every trigger off by default
        ModuleConfiguration.objects.create(module="policy_notification", layer="be", config=json.dumps({
            "eligibleNotificationTypes": {"starting_of_policy": True},
            "providers": {"TextNotificationProvider": {"DestinationFolder": str(tmp_path)}}}))
        counts = send_notification_messages.delay().get()
        assert counts["sent"] == 1 and counts["by_type"] == {"starting_of_policy": 1}
        assert len(list(tmp_path.iterdir())) == 1
    finally:
        ModuleConfiguration.objects.filter(module="policy_notification").delete()
        for key, value in saved.items():
            setattr(PolicyNotificationConfig, key, value)
        PolicyNotificationConfig.config = saved


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduled_task_runs_once_in_a_real_worker(superuser, tmp_path):
    """The beat entry's task sent to the worker (exactly what beat sends); the worker writes the message through
    the text provider; a second scheduled run the same day writes nothing."""
    from openimis_be.celery import app

    folder = tmp_path / "worker-sent"
    ModuleConfiguration.objects.create(module="policy_notification", layer="be", config=json.dumps({
        "eligibleNotificationTypes": {"starting_of_policy": True},
        "providers": {"TextNotificationProvider": {"DestinationFolder": str(folder)}}}))
    group = household(code="E2E-NOTIFY")
    today = timezone.localdate()
    enrol(group, start=today, end=today + datetime.timedelta(days=30))
    entry = collect_beat_schedule(settings_jobs=[])[JOB]
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        app.send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"])
        row = wait_for_indication(group)
        assert row.status == IndicationStatus.SENT and row.provider == "TextNotificationProvider"
        [message] = list(folder.iterdir())
        assert "E2E-NOTIFY" in message.read_text()
        second = app.send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"])
        deadline = time.time() + 90
        while not second.ready() and time.time() < deadline:
            time.sleep(0.5)
        assert second.successful() and second.get()["sent"] == 0
        assert len(list(folder.iterdir())) == 1
    finally:
        app.conf.task_always_eager = eager


def wait_for_indication(group, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        row = NotificationIndication.objects.filter(group=group, status__in=[IndicationStatus.SENT,
                                                                             IndicationStatus.ERROR]).first()
        if row is not None:
            return row
        time.sleep(0.5)
    raise AssertionError("the worker recorded no notification")
