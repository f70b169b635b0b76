"""Bindings: maker-checker of payment cycles, and the over-limit entitlement approvals (calcrule §7.4)."""
import json
import logging

from django.contrib.auth import get_user_model

from core.signals import ServiceSignalBindType, bind_service_signal

logger = logging.getLogger(__name__)


def _over_limit_task(task):
    from calcrule_social_protection.services import calculate_business_event

    return task and task.get("business_event") == calculate_business_event()


def on_over_limit_task_complete(**kwargs):
    """AFTER ``task_service.complete_task``: COMPLETED → the plan's waiting entitlements ACCEPTED; FAILED →
    REJECTED (those already decided by partial votes stay as decided)."""
    from payment_cycle.approvals import settle_over_limit_task
    from tasks_management.services import task_of_result

    task, user_id = task_of_result(kwargs)
    if not _over_limit_task(task):
        return None
    return settle_over_limit_task(task, get_user_model().objects.get(id=user_id))


def on_over_limit_task_vote(**kwargs):
    """AFTER ``task_service.resolve_task``: a partial vote ``{"ACCEPT": [ids], "REJECT": [ids]}`` decides those
    entitlements at once; the task completes when none waits any more."""
    from payment_cycle.approvals import apply_partial_vote
    from tasks_management.services import task_of_result

    task, user_id = task_of_result(kwargs)
    if not _over_limit_task(task):
        return None
    user = get_user_model().objects.get(id=user_id)
    business_status = task.get("business_status") or {}
    if isinstance(business_status, str):
        try:
            business_status = json.loads(business_status)
        except ValueError:
            return None
    vote = business_status.get(str(user.id)) if isinstance(business_status, dict) else None
    if isinstance(vote, dict):
        return apply_partial_vote(task, user, vote)
    return None


def bind_service_signals():
    from payment_cycle.services import PaymentCycleService
    from tasks_management.services import on_task_complete_service_handler

    bind_service_signal("task_service.complete_task", on_task_complete_service_handler(PaymentCycleService),
                        ServiceSignalBindType.AFTER)
    bind_service_signal("task_service.complete_task", on_over_limit_task_complete, ServiceSignalBindType.AFTER)
    bind_service_signal("task_service.resolve_task", on_over_limit_task_vote, ServiceSignalBindType.AFTER)
