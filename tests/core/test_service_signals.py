import pytest
from django.core.exceptions import ValidationError

from core.services import BaseService
from core.signals import (
    REGISTERED_SERVICE_SIGNALS,
    ServiceSignalBindType,
    bind_service_signal,
    register_service_signal,
    unbind_service_signal,
)
from tests.core.test_app.models import Widget


class WidgetService(BaseService):
    OBJECT_TYPE = Widget

    @register_service_signal("test_widget_service.create")
    def create(self, obj_data):
        return super().create(obj_data)


def test_registering_twice_fails():
    with pytest.raises(AttributeError):
        register_service_signal("test_widget_service.create")


@pytest.mark.django_db
def test_before_and_after_receive_payload_and_result(admin_user):
    calls = []

    def before(**kwargs):
        calls.append(("before", kwargs["data"][0][0]["name"], kwargs.get("context")))

    def after(**kwargs):
        calls.append(("after", kwargs["result"]["success"], kwargs["cls_"].__class__.__name__))

    bind_service_signal("test_widget_service.create", before, ServiceSignalBindType.BEFORE)
    bind_service_signal("test_widget_service.create", after, ServiceSignalBindType.AFTER)
    try:
        result = WidgetService(admin_user).create({"name": "signalled"}, context="ctx")
    finally:
        unbind_service_signal("test_widget_service.create", before)
        unbind_service_signal("test_widget_service.create", after)
    assert result["success"] and result["data"]["name"] == "signalled"
    assert calls == [("before", "signalled", "ctx"), ("after", True, "WidgetService")]


@pytest.mark.django_db
@pytest.mark.parametrize("error, detail", [
    (ValidationError("Not on a Sunday"), "Not on a Sunday"),  # a business veto: its text is for the user
    (RuntimeError("password=hunter2 on db-host-7"), "The mutation threw a RuntimeError, check logs for details"),
])
def test_before_exception_aborts_at_the_boundary(admin_user, error, detail):
    def veto(**kwargs):
        raise error

    bind_service_signal("test_widget_service.create", veto, ServiceSignalBindType.BEFORE)
    try:
        result = WidgetService(admin_user).create({"name": "never"})
    finally:
        unbind_service_signal("test_widget_service.create", veto)
    assert result == {"success": False, "message": "Failed to create Widget", "detail": detail, "data": ""}
    assert not Widget.objects.exists()


def test_binding_before_registration_is_deferred():
    received = []
    bind_service_signal("late_service.run", lambda **kw: received.append(kw["result"]), ServiceSignalBindType.AFTER)

    class LateService:
        @register_service_signal("late_service.run", boundary=False)
        def run(self, value):
            return value * 2

    assert LateService().run(21) == 42
    assert received == [42]
    assert "late_service.run" in REGISTERED_SERVICE_SIGNALS


@pytest.mark.django_db
def test_base_service_result_dicts(admin_user):
    from django.contrib.auth.models import AnonymousUser

    assert WidgetService(AnonymousUser()).create({"name": "x"}) == {
        "success": False, "message": "Authentication required", "detail": "PermissionDenied"}
    created = WidgetService(admin_user).create({"name": "x"})
    assert created["success"] and created["message"] == "Ok" and created["data"]["id"] == created["data"]["uuid"]
    failed = WidgetService(admin_user).update({"id": created["data"]["id"]})  # nothing changes
    assert failed["success"] is False and failed["message"] == "Failed to update Widget"
    assert "no changes" in failed["detail"]
    bad = WidgetService(admin_user).create({"name": "y" * 500})
    assert bad["success"] is False and bad["data"] == ""
    deleted = WidgetService(admin_user).delete({"id": created["data"]["id"]})
    assert deleted == {"success": True, "message": "Ok", "detail": ""}


def test_a_binding_to_a_name_nobody_registers_fails_the_system_check():
    from core.checks import service_signal_bindings

    def handler(**kwargs):
        return None

    assert service_signal_bindings(None) == []  # every binding of the installed modules found its service
    bind_service_signal("individual_servce.create", handler, ServiceSignalBindType.AFTER)  # misspelt
    try:
        errors = service_signal_bindings(None)
    finally:
        unbind_service_signal("individual_servce.create", handler)
    assert [e.id for e in errors] == ["core.E010"]
    assert "individual_servce.create" in errors[0].msg and "handler" in errors[0].msg
    assert service_signal_bindings(None) == []
