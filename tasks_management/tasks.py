"""Celery tasks of the rules engine (task_rules.md §14), scheduled by the module's ``SCHEDULED_JOBS``
(``apps.py``): the dirty refresh every 15 minutes, the temporal decay daily at 00:05 and hourly, the purge
daily. One refresh runs at a time (``engine.refresh_lock``): a queued refresh that finds one running retries
later; the dirty flags keep what it would have done.
"""
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


def _reload_config():
    from django.apps import apps

    apps.get_app_config("tasks_management").load_config()


@shared_task(bind=True, name="tasks_management.tasks.refresh_rule_tasks", max_retries=5)
def refresh_rule_tasks(self, subjects=None, rule_names=None, only_flagged=False):
    """``subjects``: ``[[model label, id], ...]`` (default: the dirty ones; ``only_flagged``: only subjects
    explicitly flagged dirty, not the expired or unknown ones the 15-minute job covers)."""
    from tasks_management.rules.engine import RefreshBusy, refresh

    try:
        stats = refresh(subjects=[tuple(s) for s in subjects] if subjects else None, rule_names=rule_names,
                        include_stale=not only_flagged)
    except RefreshBusy as exc:
        if self.request.called_directly or self.request.is_eager:
            logger.warning("task rules: refresh skipped, another one is running")
            return None
        raise self.retry(exc=exc, countdown=30)
    return stats.as_dict()


@shared_task(name="tasks_management.tasks.refresh_dirty_rule_tasks")
def refresh_dirty_rule_tasks():
    from tasks_management.rules.engine import RefreshBusy, refresh

    _reload_config()
    try:
        return refresh().as_dict()
    except RefreshBusy:
        logger.info("task rules: dirty refresh skipped, another refresh is running")
        return None


@shared_task(name="tasks_management.tasks.update_rule_task_states")
def update_rule_task_states():
    from tasks_management.rules.engine import update_temporal_states

    return update_temporal_states()


@shared_task(name="tasks_management.tasks.purge_rule_tasks")
def purge_rule_tasks():
    from tasks_management.rules.engine import purge

    return purge()
