"""Decisions on over-limit entitlements (calcrule_social_protection.md §7.4): one maker-checker task per cycle
and payment plan; its completion accepts (or, FAILED, rejects) every entitlement still waiting, and partial votes
``{"ACCEPT": [ids], "REJECT": [ids]}`` decide some of them at once. Every write is set-based with history rows."""
import logging
import uuid

from django.db import transaction

from core import bulk
from payment_cycle.models import Entitlement, EntitlementStatus

logger = logging.getLogger(__name__)


def waiting(task):
    """The entitlements the over-limit task ``task`` (dict) still decides."""
    json_ext = task.get("json_ext") or {}
    return Entitlement.objects.filter(payment_cycle_id=task.get("entity_id"),
                                      payment_plan_id=json_ext.get("payment_plan_id"), is_deleted=False,
                                      status=EntitlementStatus.PENDING_APPROVAL)


def _ids(values):
    ids = []
    for value in values or []:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def settle_over_limit_task(task, user):
    from tasks_management.services import TaskStatus

    target = EntitlementStatus.ACCEPTED if task.get("status") == TaskStatus.COMPLETED else EntitlementStatus.REJECTED
    count = bulk.update_with_history(waiting(task), {"status": target}, user=user)
    logger.info("Over-limit task %s: %s entitlements %s", task.get("id"), count, target)
    return None


def apply_partial_vote(task, user, vote):
    from tasks_management.services import TaskService, pending_task

    rejected = set(_ids(vote.get("REJECT")))
    accepted = [i for i in _ids(vote.get("ACCEPT")) if i not in rejected]
    pending = waiting(task)
    with transaction.atomic():
        if rejected:
            bulk.update_with_history(pending.filter(id__in=rejected), {"status": EntitlementStatus.REJECTED}, user=user)
        if accepted:
            bulk.update_with_history(pending.filter(id__in=accepted), {"status": EntitlementStatus.ACCEPTED}, user=user)
        still_open = pending_task(task.get("entity_id"), task.get("business_event"),
                                  (task.get("json_ext") or {}).get("task_scope"))
        if not pending.exists() and still_open is not None and str(still_open.id) == str(task["id"]):
            result = TaskService(user).complete_task({"id": str(task["id"])})
            if not result.get("success"):
                return [f"{result.get('message')}: {result.get('detail')}"]
    return None
