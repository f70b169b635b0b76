"""Bindings: every household gets its notification row, kept in step with the group service (spec §13.3).

Payload: ``obj_data["policy_notification"]`` or ``obj_data["json_ext"]["policy_notification"]`` with the keys
``approvalOfNotification`` / ``languageOfNotification``. The top-level key is not a group field, so the BEFORE
handler validates it and takes it out of the group's data (the group service never sees it); the AFTER handler
applies it once the group operation succeeded. A bad payload fails the group operation before anything is written.
"""
import logging

from core.signals import ServiceSignalBindType, bind_service_signal

logger = logging.getLogger(__name__)

PAYLOAD_KEY = "policy_notification"
_STASH = "__policy_notification__"


def _obj_data(data):
    args = data[0] if data else ()
    return args[0] if args and isinstance(args[0], dict) else None


def _stashed(data):
    for item in data[2:] if data else ():
        if isinstance(item, dict) and _STASH in item:
            return item[_STASH]
    return None


def _before(operation):
    def handler(**kwargs):
        from policy_notification.services import validate_payload

        data = kwargs.get("data")
        obj_data = _obj_data(data)
        if obj_data is None:
            return
        payload = obj_data.pop(PAYLOAD_KEY, None)
        if payload is None:
            payload = (obj_data.get("json_ext") or {}).get(PAYLOAD_KEY) if isinstance(
                obj_data.get("json_ext"), dict) else None
        if payload is not None:
            validate_payload(payload, partial=operation == "update")
        data.append({_STASH: payload})

    handler.__qualname__ = f"before_group_{operation}"
    return handler


def _succeeded(result):
    return isinstance(result, dict) and result.get("success") is True


def _group_id(result, obj_data):
    data = result.get("data") if isinstance(result, dict) else None
    if isinstance(data, dict) and data.get("id"):
        return data["id"]
    return (obj_data or {}).get("id")


def on_group_created(**kwargs):
    from policy_notification.services import create_family_notification_policy

    if not _succeeded(kwargs.get("result")):
        return None
    data = kwargs.get("data")
    user = getattr(kwargs.get("cls_"), "user", None)
    return create_family_notification_policy(_group_id(kwargs["result"], _obj_data(data)), _stashed(data),
                                             user=user)


def on_group_updated(**kwargs):
    from policy_notification.services import update_family_notification_policy

    if not _succeeded(kwargs.get("result")):
        return None
    data = kwargs.get("data")
    payload = _stashed(data)
    if not payload:
        return None
    user = getattr(kwargs.get("cls_"), "user", None)
    return update_family_notification_policy(_group_id(kwargs["result"], _obj_data(data)), payload, user=user)


def on_group_deleted(**kwargs):
    from policy_notification.services import delete_family_notification_policy

    if not _succeeded(kwargs.get("result")):
        return None
    obj_data = _obj_data(kwargs.get("data")) or {}
    user = getattr(kwargs.get("cls_"), "user", None)
    return delete_family_notification_policy([obj_data.get("id")], user=user)


def bind_service_signals():
    for operation in ("create", "update"):
        bind_service_signal(f"group_service.{operation}", _before(operation), bind_type=ServiceSignalBindType.BEFORE)
    bind_service_signal("group_service.create", on_group_created, bind_type=ServiceSignalBindType.AFTER)
    bind_service_signal("group_service.update", on_group_updated, bind_type=ServiceSignalBindType.AFTER)
    bind_service_signal("group_service.delete", on_group_deleted, bind_type=ServiceSignalBindType.AFTER)
