"""Service-signal bindings of the individual module (called once all apps are ready)."""
import logging

from django.apps import apps

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
