"""Maker-checker end to end with a test-only model: request → task → votes → signal → change lands."""
import json

import pytest

from core.test_helpers import assert_log_success
from tasks_management.models import Task
from tests.tasks_management.conftest import vote
from tests.tasks_management.test_app.models import TmWidget

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(admin_user):
    w = TmWidget(name="original", amount="10.00")
    w.save(user=admin_user)
    return w


@pytest.fixture
def approvers(make_group, checkers):
    return make_group("ANY", checkers[:2], code="approvers", sources=["WidgetService"])


def test_update_request_lands_only_after_approval(widget_service, widget, maker, checkers, approvers):
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "renamed", "amount": "12.50"})
    assert result["success"], result
    task = Task.objects.get(id=result["data"]["id"])
    assert task.source == "WidgetService" and task.business_event == "WidgetService.update"
    assert task.executor_action_event == "default"
    assert task.status == Task.Status.ACCEPTED and task.task_group == approvers  # routed by source
    assert task.entity == widget and task.user_created == maker
    assert task.data == {"incoming_data": {"id": str(widget.id), "name": "renamed", "amount": "12.50"},
                         "current_data": {"name": "original", "amount": "10.00"}}
    assert (task.business_data_serializer
            == "tests.tasks_management.test_app.services.WidgetService._business_data_serializer")
    widget.refresh_from_db()
    assert widget.name == "original"  # nothing changed yet

    assert vote(checkers[0], task)["success"]
    widget.refresh_from_db()
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert widget.name == "renamed" and str(widget.amount) == "12.50"
    assert widget.user_updated == checkers[0]  # carried out as the completing checker
    assert widget.history.first().history_user == checkers[0]


def test_create_and_delete_requests(widget_service, widget, maker, checkers, approvers):
    created = widget_service(maker).create_create_task({"name": "brand new", "amount": "1.00"})
    assert created["success"], created
    task = Task.objects.get(id=created["data"]["id"])
    assert task.entity_id is None and task.data["current_data"] == {}
    assert not TmWidget.objects.filter(name="brand new").exists()
    vote(checkers[1], task)
    new = TmWidget.objects.get(name="brand new")
    assert new.user_created == checkers[1]

    deleted = widget_service(maker).create_delete_task({"id": str(widget.id)})
    assert deleted["success"], deleted
    widget.refresh_from_db()
    assert not widget.is_deleted
    vote(checkers[0], Task.objects.get(id=deleted["data"]["id"]))
    widget.refresh_from_db()
    assert widget.is_deleted


def test_rejection_leaves_data_unchanged_and_is_kept(widget_service, widget, maker, checkers, approvers):
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "rejected"})
    task = Task.objects.get(id=result["data"]["id"])
    assert vote(checkers[0], task, "FAILED")["success"]
    task.refresh_from_db()
    widget.refresh_from_db()
    assert task.status == Task.Status.FAILED
    assert task.business_status == {str(checkers[0].id): "FAILED"}
    assert widget.name == "original" and widget.version == 1


def test_invalid_request_is_refused_before_any_task(widget_service, widget, maker, approvers):
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "  "})
    assert not result["success"]
    assert result["message"] == "Failed to create_update_task TmWidget" and "name can't be empty" in result["detail"]
    missing = widget_service(maker).create_delete_task({"id": "00000000-0000-0000-0000-000000000000"})
    assert not missing["success"]
    assert not Task.objects.exists()


def test_one_pending_approval_per_entity(widget_service, widget, maker, approvers):
    assert widget_service(maker).create_update_task({"id": str(widget.id), "name": "a"})["success"]
    second = widget_service(maker).create_update_task({"id": str(widget.id), "name": "b"})
    assert not second["success"] and "another task pending" in second["detail"]
    assert Task.objects.count() == 1


def test_maker_cannot_approve_own_request(widget_service, widget, maker, approvers, admin_user):
    from tasks_management.services import TaskGroupService

    TaskGroupService(admin_user).update({"id": str(approvers.id), "user_ids": [str(maker.id)]})
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "self-approved"})
    task = Task.objects.get(id=result["data"]["id"])
    refused = vote(maker, task)
    assert not refused["success"] and "maker" in refused["detail"]
    task.refresh_from_db()
    widget.refresh_from_db()
    assert task.business_status == {} and widget.name == "original"


def test_flag_off_lets_maker_approve(widget_service, widget, maker, approvers, admin_user, config_override):
    from tasks_management.services import TaskGroupService

    config_override(maker_cannot_approve=False)
    TaskGroupService(admin_user).update({"id": str(approvers.id), "user_ids": [str(maker.id)]})
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "self-approved"})
    assert vote(maker, Task.objects.get(id=result["data"]["id"]))["success"]
    widget.refresh_from_db()
    assert widget.name == "self-approved"


def test_graphql_round_trip(widget_service, widget, maker, checkers, approvers, gql):
    """The GraphiQL flow: the checker sees the pending task with its business data and approves it."""
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "via graphql"})
    task_id = result["data"]["id"]
    client = gql(checkers[0])
    data = client.data('{ task(status: ACCEPTED, isDeleted: false) { totalCount edges { node { '
                       'uuid status entityString businessData businessStatus taskGroup { code } } } } }')
    node = data["task"]["edges"][0]["node"]
    assert data["task"]["totalCount"] == 1 and node["uuid"] == task_id
    assert node["entityString"] == "Widget original" and node["taskGroup"]["code"] == "approvers"
    assert json.loads(node["businessData"])["incoming_data"]["name"] == "VIA GRAPHQL"  # service serializer
    log = client.mutate("resolveTask", {"id": task_id,
                                        "businessStatus": json.dumps({str(checkers[0].id): "APPROVED"})},
                        client_mutation_id="approve-1")
    assert_log_success(log)
    widget.refresh_from_db()
    assert widget.name == "via graphql"
    linked = client.data('{ task(clientMutationId: "approve-1") { edges { node { uuid status clientMutationId } } } }')
    assert linked["task"]["edges"][0]["node"] == {"uuid": task_id, "status": "COMPLETED",
                                                  "clientMutationId": "approve-1"}
