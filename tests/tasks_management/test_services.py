import pytest
from django.contrib.contenttypes.models import ContentType

from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tasks_management.services import TaskExecutorService, TaskGroupService, TaskService
from tests.tasks_management.conftest import vote
from tests.tasks_management.test_app.models import TmWidget

pytestmark = pytest.mark.django_db

RESULT_TASK_KEYS = {"id", "uuid", "source", "status", "executor_action_event", "business_event", "business_status",
                    "data", "json_ext", "entity_id", "entity_type", "task_group"}


# --- TaskService.create ------------------------------------------------------------------------
def test_create_task_without_group_is_received(admin_user, widget):
    result = TaskService(admin_user).create({
        "source": "test", "entity": widget, "executor_action_event": "default", "business_event": "test.event",
        "status": "", "data": {}})
    assert result["success"], result
    task = Task.objects.get(id=result["data"]["id"])
    assert task.status == Task.Status.RECEIVED
    assert task.entity_type == ContentType.objects.get_for_model(TmWidget)
    assert task.entity_id == str(widget.id) and task.entity == widget
    assert result["data"]["uuid"] == result["data"]["id"] == str(task.id)
    assert task.user_created == admin_user


def test_create_routes_by_source_to_live_group(admin_user, make_group, checkers):
    deleted = make_group("ANY", [checkers[0]], code="old", sources=["ImportX"])
    assert TaskGroupService(admin_user).delete({"id": str(deleted.id)})["success"]
    group = make_group("ALL", [checkers[1]], code="current", sources=["ImportX", "Other"])
    result = TaskService(admin_user).create({"source": "ImportX"})
    task = Task.objects.get(id=result["data"]["id"])
    assert task.task_group == group and task.status == Task.Status.ACCEPTED
    unrouted = Task.objects.get(id=TaskService(admin_user).create({"source": "Nobody"})["data"]["id"])
    assert unrouted.task_group is None and unrouted.status == Task.Status.RECEIVED


def test_one_pending_task_per_entity_and_business_event(admin_user, widget, make_task):
    first = make_task(entity=widget, business_event="test.update")
    ct = ContentType.objects.get_for_model(TmWidget)
    # both spellings of the entity are checked (upstream skipped the check for entity=<obj>)
    for payload in ({"entity": widget}, {"entity_type": ct, "entity_id": str(widget.id)}):
        result = TaskService(admin_user).create({"source": "test", "business_event": "test.update", **payload})
        assert not result["success"]
        assert "another task pending" in result["detail"] and "test.update" in result["detail"]
    # another business event on the same entity may be pending at the same time (issue 9: a payment cycle
    # holds an over-limit task and an update task)
    other = TaskService(admin_user).create({"source": "test", "business_event": "test.over_limit", "entity": widget})
    assert other["success"], other
    # rule-generated tasks (emission key) are exempt
    assert TaskService(admin_user).create({"source": "rule", "entity": widget, "business_event": "test.update",
                                           "emission_key": "k1"})["success"]
    # once the first is terminal a new one is allowed
    assert TaskService(admin_user).complete_task({"id": str(first.id)})["success"]
    assert TaskService(admin_user).create({"source": "test", "business_event": "test.update",
                                           "entity": widget})["success"]
    assert Task.objects.filter(entity_id=str(widget.id), status__in=Task.PENDING_STATUSES).count() == 3


def test_the_database_keeps_one_pending_task_per_entity_and_event(admin_user, widget, make_task):
    """The rule holds without the service's validation (two requests racing past it)."""
    from django.db import IntegrityError, transaction

    from core.bulk import insert_rows

    pending = make_task(entity=widget, business_event="test.update")
    twin = {"source": "race", "entity_type_id": pending.entity_type_id, "entity_id": pending.entity_id,
            "business_event": "test.update", "status": Task.Status.RECEIVED}
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Task, [twin], user=admin_user)  # no model validation: the database refuses it
    assert insert_rows(Task, [{**twin, "business_event": "test.delete"}], user=admin_user) == 1


def test_create_with_missing_entity_fails(admin_user):
    ct = ContentType.objects.get_for_model(TmWidget)
    result = TaskService(admin_user).create({"source": "x", "entity_type": ct,
                                             "entity_id": "00000000-0000-0000-0000-000000000000"})
    assert not result["success"] and result["detail"] == "entity not found"
    assert Task.objects.count() == 0


def test_anonymous_service_calls_are_refused(db):
    from django.contrib.auth.models import AnonymousUser

    for method in ("create", "update", "delete", "resolve_task", "complete_task"):
        result = getattr(TaskService(AnonymousUser()), method)({"id": "x"})
        assert result == {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}


# --- update / delete ---------------------------------------------------------------------------
def test_update_and_delete_task(admin_user, make_task, make_group, checkers):
    task = make_task()
    result = TaskService(admin_user).update({"id": str(task.id), "source": "changed"})
    assert result["success"], result
    task.refresh_from_db()
    assert task.source == "changed" and task.version == 2
    group = make_group("ANY", [checkers[0]])
    result = TaskService(admin_user).update({"id": str(task.id), "status": "ACCEPTED",
                                             "task_group_id": str(group.id)})
    assert result["success"], result
    task.refresh_from_db()
    assert task.status == Task.Status.ACCEPTED and task.task_group == group
    assert TaskService(admin_user).delete({"id": str(task.id)})["success"]
    task.refresh_from_db()
    assert task.is_deleted
    assert task.history.count() == 4


def test_update_cannot_set_terminal_status_or_accept_without_group(admin_user, make_task):
    task = make_task()
    for status in ("COMPLETED", "FAILED"):
        result = TaskService(admin_user).update({"id": str(task.id), "status": status})
        assert not result["success"] and "completing the task" in result["detail"]
    result = TaskService(admin_user).update({"id": str(task.id), "status": "ACCEPTED"})
    assert not result["success"] and "task group" in result["detail"]
    task.refresh_from_db()
    assert task.status == Task.Status.RECEIVED and task.version == 1


def test_update_of_terminal_task_fails(admin_user, make_task):
    task = make_task()
    TaskService(admin_user).complete_task({"id": str(task.id)})
    result = TaskService(admin_user).update({"id": str(task.id), "source": "late"})
    assert not result["success"] and "updating completed task" in result["detail"] and "COMPLETED" in result["detail"]


# --- complete_task -------------------------------------------------------------------------------
def test_complete_task_statuses_signal_and_result_shape(admin_user, make_task):
    calls = []

    def listener(**kwargs):
        calls.append(kwargs["result"])

    bind_service_signal("task_service.complete_task", listener, ServiceSignalBindType.AFTER)
    try:
        ok = make_task(source="a")
        result = TaskService(admin_user).complete_task({"id": str(ok.id)})
        failed = make_task(source="b")
        result_failed = TaskService(admin_user).complete_task({"id": str(failed.id), "failed": True})
        again = TaskService(admin_user).complete_task({"id": str(ok.id)})
    finally:
        unbind_service_signal("task_service.complete_task", listener)
    assert result["success"] and result_failed["success"]
    ok.refresh_from_db(), failed.refresh_from_db()
    assert ok.status == Task.Status.COMPLETED and failed.status == Task.Status.FAILED
    assert set(result["data"]) == {"task", "user"}
    assert RESULT_TASK_KEYS <= set(result["data"]["task"])
    assert result["data"]["user"] == {"id": str(admin_user.id)}
    assert result["data"]["task"]["status"] == "COMPLETED"
    # our rule: completing a terminal task is a refused no-op (the business effect never runs twice)
    assert not again["success"] and "COMPLETED" in again["detail"]
    assert [c["success"] for c in calls] == [True, True, False]


# --- resolve_task: merge and extras --------------------------------------------------------------
def test_resolve_deep_merges_partial_votes_and_stores_additional_data(make_group, make_task, checkers):
    group = make_group("ANY", checkers[:1])
    task = make_task(group=group)
    c = checkers[0]
    first = vote(c, task, {"ACCEPT": ["r1"], "REJECT": []}, additional_data={"note": "first"})
    assert first["success"], first
    second = vote(c, task, {"ACCEPT": ["r2"], "REJECT": ["r3"]})
    assert second["success"], second
    task.refresh_from_db()
    assert task.business_status == {str(c.id): {"ACCEPT": ["r1", "r2"], "REJECT": ["r3"]}}
    assert task.json_ext["additional_resolve_data"] == {str(c.id): {"note": "first"}}
    # partial votes never complete through the generic resolver
    assert task.status == Task.Status.ACCEPTED
    assert set(second["data"]) == {"task", "user"} and RESULT_TASK_KEYS <= set(second["data"]["task"])


def test_same_vote_resent_still_succeeds(make_group, make_task, checkers):
    group = make_group("ALL", checkers[:2])
    task = make_task(group=group)
    assert vote(checkers[0], task)["success"]
    again = vote(checkers[0], task)
    assert again["success"], again
    task.refresh_from_db()
    assert task.version == 2 and task.status == Task.Status.ACCEPTED


# --- groups and executors -------------------------------------------------------------------------
def test_group_create_and_lookup(make_group, checkers):
    group = make_group("ANY", [checkers[0]], code="G1", sources=["A", "A", "B"])
    assert TaskGroup.objects.filter(uuid=group.id, is_deleted=False).exists()
    assert group.json_ext == {"task_sources": ["A", "B"]}
    assert group.task_allowed_sources == {"task_allowed_sources": []}
    assert list(group.taskexecutor_set.values_list("user_id", flat=True)) == [checkers[0].id]
    assert TaskExecutor.history.filter(task_group_id=group.id).count() == 1


def test_group_code_rules(admin_user, make_group, checkers):
    make_group("ANY", [checkers[0]], code="taken")
    group = make_group("ANY", [checkers[0]], code="mine")
    service = TaskGroupService(admin_user)
    # keeping its own code is fine (upstream rejected this)
    kept = service.update({"id": str(group.id), "code": "mine", "completion_policy": "ALL"})
    assert kept["success"], kept
    for bad in ("taken", " lead", "trail ", ""):
        result = service.update({"id": str(group.id), "code": bad})
        assert not result["success"], bad
    assert not service.create({"code": "taken", "completion_policy": "ANY"})["success"]
    group.refresh_from_db()
    assert group.code == "mine" and group.completion_policy == "ALL"


def test_duplicate_task_source_is_rejected(admin_user, make_group):
    make_group("ANY", code="first", sources=["BenefitPlanService"])
    result = TaskGroupService(admin_user).create({"code": "second", "completion_policy": "ANY",
                                                  "task_sources": ["BenefitPlanService", "Other"]})
    assert not result["success"]
    assert "BenefitPlanService" in result["detail"] and "first" in result["detail"]
    assert not TaskGroup.objects.filter(code="second").exists()


def test_group_update_replaces_executors_with_history(admin_user, make_group, checkers):
    group = make_group("ANY", checkers[:2], sources=["A"])
    group.json_ext = {**group.json_ext, "keep": 1}
    group.save(user=admin_user)
    result = TaskGroupService(admin_user).update({
        "id": str(group.id), "user_ids": [str(checkers[1].id), str(checkers[2].id)], "task_sources": ["B"]})
    assert result["success"], result
    group.refresh_from_db()
    assert group.json_ext == {"keep": 1, "task_sources": ["B"]}
    live = set(TaskExecutor.objects.filter(task_group=group, is_deleted=False).values_list("user_id", flat=True))
    assert live == {checkers[1].id, checkers[2].id}
    removed = TaskExecutor.objects.get(task_group=group, user=checkers[0])
    assert removed.is_deleted and removed.history.count() == 2
    # only the executors changed: still a success
    only_exec = TaskGroupService(admin_user).update({"id": str(group.id), "user_ids": [str(checkers[0].id)]})
    assert only_exec["success"], only_exec
    # nothing changed at all: refused as any update of the platform, and nothing written
    versions = group.history.count(), TaskExecutor.history.count()
    same = TaskGroupService(admin_user).update({"id": str(group.id), "user_ids": [str(checkers[0].id)],
                                                "task_sources": ["B"], "code": group.code})
    assert not same["success"] and "no changes" in same["detail"]
    assert (group.history.count(), TaskExecutor.history.count()) == versions


def test_group_delete_soft_deletes_executors(admin_user, make_group, checkers):
    group = make_group("ANY", checkers[:2])
    assert TaskGroupService(admin_user).delete({"id": str(group.id)})["success"]
    group.refresh_from_db()
    assert group.is_deleted
    assert TaskExecutor.objects.filter(task_group=group).count() == 2
    assert not TaskExecutor.objects.filter(task_group=group, is_deleted=False).exists()


def test_group_validation_errors(admin_user, checkers):
    service = TaskGroupService(admin_user)
    bad = [
        {"code": "x", "completion_policy": "SOME"},
        {"code": "x", "completion_policy": "ANY", "user_ids": ["00000000-0000-0000-0000-000000000001"]},
        {"code": "x", "completion_policy": "ANY", "user_ids": ["not-a-uuid"]},
        {"code": "x", "completion_policy": "ANY", "completion_threshold": 1, "user_ids": [str(checkers[0].id)]},
        {"code": "x", "completion_policy": "N", "completion_threshold": 3,
         "user_ids": [str(checkers[0].id), str(checkers[1].id)]},
        {"code": "x", "completion_policy": "N", "completion_threshold": 0, "user_ids": [str(checkers[0].id)]},
    ]
    for payload in bad:
        result = service.create(payload)
        assert not result["success"], payload
    assert "user does not exist" in service.create(bad[1])["detail"]
    assert not TaskGroup.objects.exists() and not TaskExecutor.objects.exists()


def test_task_executor_service(admin_user, make_group, checkers):
    group = make_group("ANY")
    result = TaskExecutorService(admin_user).create({"user_id": checkers[0].id, "task_group_id": group.id})
    assert result["success"], result
    bad = TaskExecutorService(admin_user).create({"user_id": "00000000-0000-0000-0000-000000000009",
                                                  "task_group_id": group.id})
    assert not bad["success"] and "user does not exist" in bad["detail"]
    assert TaskExecutorService(admin_user).delete({"id": result["data"]["id"]})["success"]
    assert TaskExecutor.objects.get(id=result["data"]["id"]).is_deleted


# --- business-data serializers registry ------------------------------------------------------------
def test_business_data_serializers_are_registered_batch_serializers():
    from django.core.exceptions import ImproperlyConfigured

    from core.serializers import BatchSerializer
    from tasks_management.services import business_data_serializer, register_business_data_serializer
    from tests.tasks_management.test_app.services import WidgetBusinessData

    assert business_data_serializer("tm_test_app.WidgetService") is WidgetBusinessData
    register_business_data_serializer("tm_test_app.WidgetService", WidgetBusinessData)  # the same again: fine
    with pytest.raises(ImproperlyConfigured):
        register_business_data_serializer("tm_test_app.WidgetService", type("Other", (BatchSerializer,), {}))
    with pytest.raises(ImproperlyConfigured):
        register_business_data_serializer("tm_test_app.Function", lambda data: data)
    assert business_data_serializer("tm_test_app.Function") is None
