"""Service-signal bindings of the individual module (called once all apps are ready)."""
import logging

from django.apps import apps
from django.contrib.auth import get_user_model

from core.signals import ServiceSignalBindType, bind_service_signal

logger = logging.getLogger(__name__)


def bind_service_signals():
    if not apps.is_installed("tasks_management"):
        return
    try:
        from tasks_management.services import on_task_complete_service_handler
    except ImportError:
        logger.warning("tasks_management has no on_task_complete_service_handler: maker-checker replays disabled")
        return
    from individual.services import (
        CreateGroupAndMoveIndividualService,
        GroupIndividualService,
        GroupService,
        IndividualService,
    )

    for service in (IndividualService, GroupService, GroupIndividualService, CreateGroupAndMoveIndividualService):
        bind_service_signal("task_service.complete_task", on_task_complete_service_handler(service),
                            bind_type=ServiceSignalBindType.AFTER)
    bind_service_signal("task_service.complete_task", on_upload_task_complete, bind_type=ServiceSignalBindType.AFTER)
    bind_service_signal("task_service.resolve_task", on_upload_task_resolve, bind_type=ServiceSignalBindType.AFTER)


def _task_and_user(kwargs):
    from tasks_management.services import task_of_result

    task, user_id = task_of_result(kwargs)
    if task is None:
        return None, None
    return task, get_user_model().objects.get(id=user_id)


def on_upload_task_complete(**kwargs):
    """AFTER ``task_service.complete_task``: an upload's approval (COMPLETED) applies its rows or households;
    a FAILED one sets them aside."""
    from individual.imports import on_task_completed

    task, user = _task_and_user(kwargs)
    if task is None:
        return None
    on_task_completed(task, user)
    return None


def on_upload_task_resolve(**kwargs):
    """AFTER ``task_service.resolve_task``: a partial vote (ACCEPT/REJECT ids) on an upload's task."""
    import json

    from individual.imports import on_task_vote

    task, user = _task_and_user(kwargs)
    if task is None:
        return None
    args = (kwargs.get("data") or [[], {}])[0]
    business_status = (args[0] if args else {}).get("business_status")
    if isinstance(business_status, str):
        try:
            business_status = json.loads(business_status)
        except ValueError:
            return None
    vote = (business_status or {}).get(str(user.id)) if isinstance(business_status, dict) else None
    on_task_vote(task, user, vote)
    return None
