from core.signals import ServiceSignalBindType, bind_service_signal


def bind_service_signals():
    """The generic completion-policy resolver reacts to every resolve (spec §6.4)."""
    from tasks_management.services import on_task_resolve

    bind_service_signal("task_service.resolve_task", on_task_resolve, ServiceSignalBindType.AFTER)
