"""Celery task of policy_notification (spec §8, §13.9): one run of every enabled trigger, then the sending.

Scheduled by celery beat from the module's ``SCHEDULED_JOBS`` (``apps.py``: ``crontab(minute=0,
hour="<first>-<last>/<interval>")`` from ``trigger_first_call_hour``, ``trigger_last_call_hour`` and
``trigger_time_interval_hours``); an operator's ``SCHEDULER_JOBS`` entry with the id
``policy_notification_send_notification_messages`` replaces it. Runs may overlap (beat and the management
command): each message is claimed by exactly one of them (``dispatch``).
"""
import datetime
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="policy_notification.tasks.send_notification_messages")
def send_notification_messages(date=None, dry_run=False):
    """``date``: ``YYYY-MM-DD`` to run as if it were that day (default: today in ``TIME_ZONE``). Answers the
    run's counts. A worker lives long: the module configuration (``ModuleConfiguration``: enabled triggers,
    providers …) is read again at each run, so a change applies at the next scheduled run."""
    from django.apps import apps

    from policy_notification.dispatch import run

    apps.get_app_config("policy_notification").load_config()
    today = datetime.date.fromisoformat(date) if date else None
    report = run(today=today, dry_run=dry_run)
    return report.as_dict()
