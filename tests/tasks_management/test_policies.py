"""Completion policies through the generic resolver bound to task_service.resolve_task."""
import pytest

from tasks_management.models import Task
from tasks_management.services import TaskGroupService, TaskService
from tests.tasks_management.conftest import vote

pytestmark = pytest.mark.django_db


def status(task):
    task.refresh_from_db()
    return task.status


def test_any_completes_on_first_approval(make_group, make_task, checkers):
    task = make_task(group=make_group("ANY", checkers))
    assert vote(checkers[1], task)["success"]
    assert status(task) == Task.Status.COMPLETED
    assert task.user_updated == checkers[1]  # completed by the last voter


def test_all_waits_for_every_live_executor(admin_user, make_group, make_task, checkers):
    group = make_group("ALL", checkers)
    task = make_task(group=group)
    vote(checkers[0], task)
    vote(checkers[1], task)
    assert status(task) == Task.Status.ACCEPTED
    vote(checkers[2], task)
    assert status(task) == Task.Status.COMPLETED


def test_all_counts_only_live_executors(admin_user, make_group, make_task, checkers):
    group = make_group("ALL", checkers[:2])
    task = make_task(group=group)
    vote(checkers[0], task)
    # checker0 leaves the group; checker1's vote is now the only one needed, checker0's no longer counts
    TaskGroupService(admin_user).update({"id": str(group.id), "user_ids": [str(checkers[1].id), str(checkers[2].id)]})
    vote(checkers[1], task)
    assert status(task) == Task.Status.ACCEPTED
    vote(checkers[2], task)
    assert status(task) == Task.Status.COMPLETED


def test_n_of_m_really_counts_the_threshold(make_group, make_task, checkers, make_user):
    extra = make_user("checker4", rights=[191001])
    group = make_group("N", [*checkers, extra], threshold=3)
    task = make_task(group=group)
    vote(checkers[0], task)
    vote(checkers[1], task)
    assert status(task) == Task.Status.ACCEPTED  # N is not ANY any more
    vote(checkers[2], task)
    assert status(task) == Task.Status.COMPLETED


def test_n_without_threshold_is_a_majority(make_group, make_task, checkers):
    task = make_task(group=make_group("N", checkers))  # 3 executors → 2 approvals
    vote(checkers[0], task)
    assert status(task) == Task.Status.ACCEPTED
    vote(checkers[2], task)
    assert status(task) == Task.Status.COMPLETED


@pytest.mark.parametrize("policy", ["ALL", "ANY", "N"])
def test_a_failed_vote_fails_the_task_and_is_kept(policy, make_group, make_task, checkers):
    task = make_task(group=make_group(policy, checkers))
    vote(checkers[0], task)
    if policy != "ANY":
        vote(checkers[1], task, "FAILED")
    else:
        task2 = make_task(group=task.task_group, source="t2")
        vote(checkers[1], task2, "FAILED")
        task = task2
    assert status(task) == Task.Status.FAILED
    assert task.business_status[str(checkers[1].id)] == "FAILED"


def test_resolve_on_terminal_task_fails(make_group, make_task, checkers):
    task = make_task(group=make_group("ANY", checkers))
    vote(checkers[0], task)
    late = vote(checkers[1], task, "FAILED")
    assert not late["success"] and "updating completed task" in late["detail"]
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED and str(checkers[1].id) not in task.business_status


def test_other_executor_events_are_left_to_their_module(make_group, make_task, checkers):
    task = make_task(group=make_group("ANY", checkers), executor_action_event="import_valid_items")
    assert vote(checkers[0], task)["success"]
    assert status(task) == Task.Status.ACCEPTED


def test_complete_runs_once_per_resolve(make_group, make_task, checkers):
    calls = []
    from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal

    def listener(**kwargs):
        calls.append(kwargs["result"]["success"])

    bind_service_signal("task_service.complete_task", listener, ServiceSignalBindType.AFTER)
    try:
        task = make_task(group=make_group("ANY", checkers))
        vote(checkers[0], task)
        vote(checkers[1], task)  # refused: already COMPLETED, no second completion
        TaskService(checkers[2]).resolve_task({"id": str(task.id), "business_status": {str(checkers[2].id): "FAILED"}})
    finally:
        unbind_service_signal("task_service.complete_task", listener)
    assert calls == [True]


@pytest.mark.parametrize("threshold", [1, None])
def test_n_with_one_required_approval_behaves_like_any(threshold, make_group, make_task, checkers):
    """Upstream: N behaves like ANY. Ours: N of M; with a threshold of 1 (or a single executor) it is ANY."""
    executors = checkers if threshold else checkers[:1]
    task = make_task(group=make_group("N", executors, threshold=threshold))
    assert vote(executors[-1], task)["success"]
    assert status(task) == Task.Status.COMPLETED
