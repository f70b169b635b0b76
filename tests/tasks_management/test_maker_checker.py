"""Maker-checker end to end with a test-only model: request → task → votes → signal → change lands."""
import json

import pytest

from core.test_helpers import Enum, assert_log_success
from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal
from tasks_management.models import Task
from tasks_management.services import TaskService, business_data_serializer
from tests.tasks_management.conftest import vote
from tests.tasks_management.factories import TmWidgetFactory
from tests.tasks_management.test_app.models import TmWidget
from tests.tasks_management.test_app.services import WidgetBusinessData

pytestmark = pytest.mark.django_db


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
    # the registered name of its batch serializer, not a dotted path to a method (issue 9)
    assert task.business_data_serializer == widget_service.BUSINESS_DATA_SERIALIZER == "tm_test_app.WidgetService"
    assert business_data_serializer(task.business_data_serializer) is WidgetBusinessData
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


def test_one_pending_approval_per_entity_and_operation(widget_service, widget, maker, checkers, approvers):
    assert widget_service(maker).create_update_task({"id": str(widget.id), "name": "a"})["success"]
    second = widget_service(maker).create_update_task({"id": str(widget.id), "name": "b"})
    assert not second["success"] and "another task pending" in second["detail"]
    assert second["message"] == "Failed to create_update_task TmWidget"
    # another operation on the same widget may wait for its own approval
    deletion = widget_service(maker).create_delete_task({"id": str(widget.id)})
    assert deletion["success"], deletion
    assert sorted(Task.objects.values_list("business_event", flat=True)) == ["WidgetService.delete",
                                                                             "WidgetService.update"]
    assert not widget_service(maker).create_delete_task({"id": str(widget.id)})["success"]
    assert vote(checkers[0], Task.objects.get(id=deletion["data"]["id"]))["success"]
    widget.refresh_from_db()
    assert widget.is_deleted and Task.objects.count() == 2


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
    parent = TmWidgetFactory(name="the parent")
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "via graphql",
                                                       "parent_id": parent.id})
    task_id = result["data"]["id"]
    client = gql(checkers[0])
    data = client.data('{ task(status: ACCEPTED, isDeleted: false) { totalCount edges { node { '
                       'uuid status entityString data businessData businessStatus taskGroup { code } } } } }')
    node = data["task"]["edges"][0]["node"]
    assert data["task"]["totalCount"] == 1 and node["uuid"] == task_id
    assert node["entityString"] == "Widget original" and node["taskGroup"]["code"] == "approvers"
    # the service's registered serializer: names upper-cased, the parent widget's id shown by its name
    assert json.loads(node["businessData"]) == {
        "incoming_data": {"id": str(widget.id), "name": "VIA GRAPHQL", "parent_id": "the parent"},
        "current_data": {"name": "ORIGINAL", "parent_id": None}}
    assert json.loads(node["data"])["incoming_data"]["parent_id"] == str(parent.id)  # the data itself unchanged
    log = client.mutate("resolveTask", {"id": task_id,
                                        "businessStatus": json.dumps({str(checkers[0].id): "APPROVED"})},
                        client_mutation_id="approve-1")
    assert_log_success(log)
    widget.refresh_from_db()
    assert widget.name == "via graphql" and widget.parent == parent
    linked = client.data('{ task(clientMutationId: "approve-1") { edges { node { uuid status clientMutationId } } } }')
    assert linked["task"]["edges"][0]["node"] == {"uuid": task_id, "status": "COMPLETED",
                                                  "clientMutationId": "approve-1"}


# --- business effect outcome recorded on the task (json_ext.business_effect) --------------------------------
def test_successful_effect_is_recorded(widget_service, widget, maker, checkers, approvers):
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "renamed"})
    task = Task.objects.get(id=result["data"]["id"])
    assert vote(checkers[0], task)["success"]
    task.refresh_from_db()
    effect = task.json_ext["business_effect"]
    assert effect["success"] is True and effect["message"] == "Ok" and effect["detail"] == ""
    assert effect["date"]  # ISO date-time
    latest = task.history.first()
    assert latest.json_ext["business_effect"] == effect and latest.history_user == checkers[0]
    assert latest.status == Task.Status.COMPLETED


@pytest.fixture
def widget_update_listener():
    """``bind(callback, when)`` on the test service's ``tm_widget_service.update`` signal, unbound afterwards."""
    bound = []

    def bind(callback, when=ServiceSignalBindType.BEFORE):
        bind_service_signal("tm_widget_service.update", callback, when)
        bound.append(callback)

    yield bind
    for callback in bound:
        unbind_service_signal("tm_widget_service.update", callback)


def test_failed_effect_is_recorded_without_rerunning(widget_service, widget, maker, checkers, approvers, admin_user,
                                                     widget_update_listener):
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "too late"})
    task = Task.objects.get(id=result["data"]["id"])
    widget.delete(user=admin_user)  # the target disappears before the approval: the effect must fail
    widget_version = TmWidget.objects.get(id=widget.id).version
    calls = []
    widget_update_listener(lambda **kwargs: calls.append(kwargs["data"][0][0]))
    assert vote(checkers[0], task)["success"]  # the vote itself succeeds
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    effect = task.json_ext["business_effect"]
    assert effect["success"] is False
    assert effect["message"] == "Failed to update TmWidget" and "widget does not exist" in effect["detail"]
    assert effect["date"]
    assert task.history.first().json_ext["business_effect"] == effect  # saved with history
    assert task.history.first().history_user == checkers[0]
    assert len(calls) == 1  # recording the outcome did not run the effect again
    history_rows = task.history.count()
    again = TaskService(checkers[0]).complete_task({"id": str(task.id)})
    assert not again["success"]  # a terminal task is never completed (nor its effect run) twice
    assert len(calls) == 1 and task.history.count() == history_rows
    assert TmWidget.objects.get(id=widget.id).version == widget_version  # nothing changed on the widget


def _half_done_then_broken_sql(**kwargs):
    """A change written, then an internal error whose text must not reach anybody (on PostgreSQL it also
    poisons the transaction, unless the failure is rolled back to a savepoint)."""
    from django.db import connection

    obj_data = kwargs["data"][0][0]
    TmWidget.objects.filter(id=obj_data["id"]).update(name="half-done")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_column FROM no_such_table_xyz")


def _approve_through_graphql(client, checker, task_id):
    assert_log_success(client.mutate("resolveTask", {"id": task_id,
                                                     "businessStatus": json.dumps({str(checker.id): "APPROVED"})}))
    node = client.data(f'{{ task(id: "{task_id}") {{ edges {{ node {{ status jsonExt }} }} }} }}')["task"]["edges"][0]
    assert node["node"]["status"] == "COMPLETED"
    assert "no_such_table" not in node["node"]["jsonExt"] and "secret_column" not in node["node"]["jsonExt"]
    return json.loads(node["node"]["jsonExt"])["business_effect"]


def test_internal_error_of_the_effect_is_recorded_without_its_text(widget_service, widget, maker, checkers,
                                                                   approvers, gql, widget_update_listener):
    """The service's update fails inside (its boundary logs the error and answers the generic sentence): the
    partial change is rolled back, the vote and completion stay, jsonExt shows the failure."""
    widget_update_listener(_half_done_then_broken_sql)
    task_id = widget_service(maker).create_update_task({"id": str(widget.id), "name": "boom"})["data"]["id"]
    effect = _approve_through_graphql(gql(checkers[0]), checkers[0], task_id)
    widget.refresh_from_db()
    assert widget.name == "original"
    assert effect["success"] is False and effect["message"] == "Failed to update TmWidget"
    assert effect["detail"] in ("The mutation threw a ProgrammingError, check logs for details",
                                "The mutation threw a OperationalError, check logs for details")


def test_exception_after_the_effect_is_recorded_and_rolled_back(widget_service, widget, maker, checkers, approvers,
                                                                gql, widget_update_listener):
    """A listener of the service's update raising after the change (outside the service's boundary): the
    completion handler rolls the change back to its savepoint and records only the exception's class."""
    widget_update_listener(_half_done_then_broken_sql, ServiceSignalBindType.AFTER)
    task_id = widget_service(maker).create_update_task({"id": str(widget.id), "name": "boom"})["data"]["id"]
    effect = _approve_through_graphql(gql(checkers[0]), checkers[0], task_id)
    widget.refresh_from_db()
    assert widget.name == "original" and widget.version == 1  # the update and the half-done write are gone
    assert effect["success"] is False
    assert effect["message"] == "WidgetService completion handler failed"
    assert effect["detail"] in ("ProgrammingError", "OperationalError")


def test_rejected_task_records_no_effect(widget_service, widget, maker, checkers, approvers):
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "rejected"})
    task = Task.objects.get(id=result["data"]["id"])
    assert vote(checkers[0], task, "FAILED")["success"]
    task.refresh_from_db()
    assert "business_effect" not in (task.json_ext or {})


def test_walkthrough_unrouted_request_triage_and_all_policy(widget_service, widget, maker, checkers, make_group,
                                                             make_user, gql):
    """Spec §9.1 with no group routing the source: RECEIVED → a triage user assigns an ALL group → every
    executor approves through GraphQL → the change lands, recorded as done by the last approver."""
    group = make_group("ALL", checkers[:2], code="all-approvers")  # lists no source: nothing is routed
    result = widget_service(maker).create_update_task({"id": str(widget.id), "name": "walked"})
    task = Task.objects.get(id=result["data"]["id"])
    assert task.status == Task.Status.RECEIVED and task.task_group is None
    assert not widget_service(maker).create_update_task({"id": str(widget.id), "name": "second"})["success"]
    triage = make_user("triage", rights=[190001, 190002, 190003, 190004, 191001, 191003])
    assert gql(triage).data("{ task(status: RECEIVED) { totalCount } }")["task"]["totalCount"] == 1
    assert gql(checkers[0]).data("{ task { totalCount } }")["task"]["totalCount"] == 0  # RECEIVED: not yet theirs
    assert_log_success(gql(triage).mutate("updateTask", {"id": str(task.id), "status": Enum("ACCEPTED"),
                                                         "taskGroupId": str(group.id)}))
    for checker in checkers[:2]:
        assert_log_success(gql(checker).mutate("resolveTask", {
            "id": str(task.id), "businessStatus": json.dumps({str(checker.id): "APPROVED"})}))
        task.refresh_from_db()
        widget.refresh_from_db()
        if checker is checkers[0]:
            assert task.status == Task.Status.ACCEPTED and widget.name == "original"  # ALL: still waiting
    assert task.status == Task.Status.COMPLETED and widget.name == "walked"
    assert widget.history.first().history_user == checkers[1]
    assert task.json_ext["business_effect"]["success"] is True
