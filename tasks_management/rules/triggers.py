"""Freshness triggers (task_rules.md §7.4, §14): saves and (soft) deletes of contacts and report sources mark
their subject dirty once the transaction commits, and queue one debounced refresh.

Marking happens after the commit (one upsert for every subject the transaction touched), so a write that
rolls back marks nothing and a request pays no extra statement; a subject whose mark is lost (a crash
right after the commit) is refreshed at the latest when its record expires (7 days / reporting interval).
Bulk paths (``core.bulk``) send no model signals: their callers mark subjects with
``tasks_management.services.mark_rule_subjects_dirty``.
"""
import logging
import threading

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from tasks_management.rules.registry import contact_adapters, report_sources
from tasks_management.rules.sources import model_label

logger = logging.getLogger(__name__)

_pending = threading.local()
DEBOUNCE_KEY = "task_rules:refresh_queued"


def _subjects_of(sender, instance):
    found = []
    for adapter in contact_adapters().values():
        if adapter.model_class is sender:
            found.append((model_label(sender), str(instance.pk)))
    for source in report_sources():
        if source.model_class is sender:
            try:
                found.extend((label.lower() if isinstance(label, str) else model_label(label), str(pk))
                             for label, pk in source.subjects_of(instance))
            except Exception:  # marking must never break the business write
                logger.exception("task rules: subjects of %r could not be read", instance)
    return found


def on_change(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    subjects = _subjects_of(sender, instance)
    if subjects:
        schedule_dirty(subjects)


def schedule_dirty(subjects):
    pending = getattr(_pending, "subjects", None)
    if pending is None:
        pending = _pending.subjects = set()
    pending.update((label.lower(), str(pk)) for label, pk in subjects if pk is not None)
    transaction.on_commit(flush)


def flush():
    """After the commit: mark the pending subjects dirty and queue one refresh (debounced)."""
    from tasks_management.apps import TasksManagementConfig
    from tasks_management.rules.engine import mark_dirty

    pending = getattr(_pending, "subjects", None)
    if not pending:
        return
    subjects = list(pending)
    pending.clear()
    if not TasksManagementConfig.task_rules_enabled:
        return
    try:
        mark_dirty(subjects)
    except Exception:
        logger.exception("task rules: subjects could not be marked dirty")
        return
    queue_refresh()


def queue_refresh():
    """One refresh of the dirty subjects ``task_rules_debounce_seconds`` from now (changes in the meantime
    ride along: the job refreshes every subject flagged dirty when it runs)."""
    from tasks_management.apps import TasksManagementConfig
    from tasks_management.tasks import refresh_rule_tasks

    from django.conf import settings

    delay = int(TasksManagementConfig.task_rules_debounce_seconds or 0)
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        delay = 0  # in-process: run now (nothing to debounce against)
    if delay and not cache.add(DEBOUNCE_KEY, 1, timeout=delay):
        return
    try:
        refresh_rule_tasks.apply_async(kwargs={"only_flagged": True}, countdown=delay)
    except Exception:  # the broker is down: the 15-minute job picks the dirty subjects up
        logger.exception("task rules: the refresh could not be queued")


def connect():
    """Connect the triggers to every contact model and report-source model (called from ``ready()``)."""
    models = set()
    for adapter in contact_adapters().values():
        models.add(adapter.model_class)
    for source in report_sources():
        models.add(source.model_class)
    for model in models:
        post_save.connect(on_change, sender=model, dispatch_uid=f"task_rules_save_{model_label(model)}")
        post_delete.connect(on_change, sender=model, dispatch_uid=f"task_rules_delete_{model_label(model)}")
    return models
