"""The service-signal registry: named BEFORE/AFTER hooks around service methods.

Names (``<service>.<method>``) are a public contract between modules: a module binds to another
module's signal by name, so renaming one silently disconnects its listeners.
"""
import functools
import logging
from collections import defaultdict
from enum import IntEnum

from django.dispatch import Signal

logger = logging.getLogger(__name__)


class ServiceSignalBindType(IntEnum):
    BEFORE = 0
    AFTER = 1
    BEFORE_AND_AFTER = 2


class RegisteredServiceSignal:
    def __init__(self, name):
        self.name = name
        self.before_service_signal = Signal()
        self.after_service_signal = Signal()
        self.callbacks = []  # strong references, so closures bound here stay alive

    def connect(self, callback, bind_type):
        self.callbacks.append(callback)
        if bind_type in (ServiceSignalBindType.BEFORE, ServiceSignalBindType.BEFORE_AND_AFTER):
            self.before_service_signal.connect(callback, weak=False, dispatch_uid=(id(callback), "before"))
        if bind_type in (ServiceSignalBindType.AFTER, ServiceSignalBindType.BEFORE_AND_AFTER):
            self.after_service_signal.connect(callback, weak=False, dispatch_uid=(id(callback), "after"))

    def disconnect(self, callback):
        self.before_service_signal.disconnect(dispatch_uid=(id(callback), "before"))
        self.after_service_signal.disconnect(dispatch_uid=(id(callback), "after"))
        self.callbacks = [c for c in self.callbacks if c is not callback]


REGISTERED_SERVICE_SIGNALS: dict[str, RegisteredServiceSignal] = {}
_PENDING_BINDINGS: dict[str, list] = defaultdict(list)


def register_service_signal(name, boundary=True):
    """Decorate a service method: BEFORE handlers (may abort by raising), the method, AFTER handlers (``result``).

    With ``boundary`` (the default) the BEFORE handlers and the method run at the service error boundary
    (:func:`core.services.run_at_boundary`): one transaction, business errors and failures answered as the
    openIMIS result dict, internal errors logged and reported generically. ``boundary=False`` is for methods
    that answer something else than a result dict (selections, querysets) and let errors propagate.
    AFTER handlers run outside the boundary: an exception there reaches the caller (the mutation pipeline).
    """
    if name in REGISTERED_SERVICE_SIGNALS:
        raise AttributeError(f"Service signal {name} is already registered")
    registered = RegisteredServiceSignal(name)
    REGISTERED_SERVICE_SIGNALS[name] = registered
    for callback, bind_type in _PENDING_BINDINGS.pop(name, []):
        registered.connect(callback, bind_type)
    operation = name.rsplit(".", 1)[-1]

    def decorator(method):
        @functools.wraps(method)
        def wrapper(service, *args, **kwargs):
            context = kwargs.pop("context", None)
            data = [args, kwargs]

            def call():
                registered.before_service_signal.send(sender=service, cls_=service, data=data, context=context)
                return method(service, *args, **kwargs)

            if boundary:
                from core.services import run_at_boundary

                result = run_at_boundary(service, operation, call)
            else:
                result = call()
            registered.after_service_signal.send(
                sender=service, cls_=service, data=data, context=context, result=result)
            return result

        wrapper.service_signal_name = name
        return wrapper

    return decorator


def bind_service_signal(name, callback, bind_type=ServiceSignalBindType.BEFORE_AND_AFTER):
    """Connect ``callback(**kwargs)``; a name not registered yet is queued until it is."""
    registered = REGISTERED_SERVICE_SIGNALS.get(name)
    if registered is None:
        _PENDING_BINDINGS[name].append((callback, bind_type))
        return
    registered.connect(callback, bind_type)


def unregistered_bindings():
    """``{name: [callback names]}`` of bindings to names no service registered (a typo, or a missing module)."""
    return {name: [getattr(c, "__qualname__", repr(c)) for c, _ in bindings]
            for name, bindings in _PENDING_BINDINGS.items() if bindings}


def unbind_service_signal(name, callback):
    registered = REGISTERED_SERVICE_SIGNALS.get(name)
    if registered:
        registered.disconnect(callback)
    _PENDING_BINDINGS[name] = [(c, b) for c, b in _PENDING_BINDINGS.get(name, []) if c is not callback]


# --- Mutation-level signals (the openIMIS mutation pipeline) ---------------------------------
signal_mutation = Signal()
signal_mutation_module_validate = defaultdict(Signal)
signal_mutation_module_before_mutating = defaultdict(Signal)
signal_mutation_module_after_mutating = defaultdict(Signal)


def bind_service_signals():
    """core's own bindings: keep the rights cache coherent (Django model signals)."""
    from django.db.models.signals import post_delete, post_save

    from core.models import Role, RoleRight, UserRole, invalidate_rights_cache

    def _invalidate(**kwargs):
        invalidate_rights_cache()

    for model in (Role, RoleRight, UserRole):
        post_save.connect(_invalidate, sender=model, weak=False, dispatch_uid=f"rights-cache-{model.__name__}-save")
        post_delete.connect(_invalidate, sender=model, weak=False, dispatch_uid=f"rights-cache-{model.__name__}-del")

    from core.location import connect_location_cache_signals

    connect_location_cache_signals()
