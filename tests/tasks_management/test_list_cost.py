"""The task, task group and executor lists cost the same SQL statements and cache reads for 10 rows as for 100.

The tasks are made by real maker-checker requests of the test service (whose registered business-data
serializer looks the parent widgets' names up in the database), some reassigned by the task service; the
lists are read through HTTP GraphQL with what the frontend selects: ``businessData``, ``entityString``,
``taskGroup { code taskexecutorSet {...} }``. Before issue 9 the task list ran one lookup per task.
"""
import json

import pytest

from core.test_helpers import request_cost
from tasks_management.models import Task
from tasks_management.services import TaskService
from tests.tasks_management.conftest import EXECUTOR_LIST, GROUP_LIST, TASK_LIST
from tests.tasks_management.factories import TaskExecutorFactory, TaskGroupFactory, TmWidgetFactory

pytestmark = pytest.mark.django_db

ROWS = 110  # more than the largest page


def _cost(client, query, first, expected_rows):
    data = {}

    def read():
        data.update(client.data(query.format(first=first)))

    cost = request_cost(read)
    assert len(next(iter(data.values()))["edges"]) == expected_rows
    return cost, data


def _costs(client, query):
    """(cost of a 10-row page, cost of a 100-row page, the 100-row data), after one warm-up read."""
    client.data(query.format(first=1))  # per-process caches (content types) and the rights cache entry
    small, _ = _cost(client, query, 10, 10)
    large, data = _cost(client, query, 100, 100)
    return small, large, data


@pytest.fixture
def widget_tasks(widget_service, admin_user, maker, checkers, make_group):
    """ROWS tasks from maker-checker requests (updates, creations, deletions next to pending updates) in three
    groups, every checker executing each group."""
    approvers = make_group("ANY", checkers, code="approvers", sources=["WidgetService"])
    others = [make_group("ALL", checkers, code=f"others-{i}") for i in range(2)]
    parents = [TmWidgetFactory(name=f"parent {i}") for i in range(5)]
    service, tasks = widget_service(maker), TaskService(admin_user)
    for i in range(ROWS):
        parent_id = str(parents[i % 5].id)
        if i % 5 == 0:
            result = service.create_create_task({"name": f"new {i}", "parent_id": parent_id})
        elif i % 5 == 1:
            widget = TmWidgetFactory(name=f"w{i}")
            assert service.create_update_task({"id": str(widget.id), "parent_id": parent_id})["success"]
            result = service.create_delete_task({"id": str(widget.id)})  # a second pending event on it
        else:
            widget = TmWidgetFactory(name=f"w{i}", parent=parents[0])
            result = service.create_update_task({"id": str(widget.id), "name": f"renamed {i}", "parent_id": parent_id})
        assert result["success"], result
        if i % 3 == 1:
            assert tasks.update({"id": result["data"]["id"], "task_group_id": str(others[i % 2].id)})["success"]
    assert Task.objects.filter(task_group=approvers).count() > 40
    return parents


def test_task_list_cost_is_constant(widget_tasks, gql, admin_user, checkers):
    for user in (admin_user, checkers[0]):  # sees every task / sees the tasks of the groups executed
        small, large, data = _costs(gql(user), TASK_LIST)
        # token + user, count, page (groups joined), entities (one query per entity type), live executors, the
        # serializer's parent names; the rights generation and the user's rights entry read once
        assert small == large == (6, 2), (user, small, large)
        nodes = [edge["node"] for edge in data["task"]["edges"]]
        assert all(len(node["taskGroup"]["taskexecutorSet"]["edges"]) == 3 for node in nodes)
        readable = [json.loads(node["businessData"]) for node in nodes]
        assert {data["incoming_data"].get("parent_id") for data in readable} == {f"parent {i}" for i in range(5)} | {
            None}  # deletions carry the id only
        renamed = [(node, data) for node, data in zip(nodes, readable) if node["businessEvent"].endswith(".update")
                   and "name" in data["incoming_data"]]
        assert renamed and all(data["incoming_data"]["name"].startswith("RENAMED")
                               and data["current_data"] == {"name": node["entityString"][7:].upper(),
                                                            "parent_id": "parent 0"}
                               for node, data in renamed)
        assert all(node["entityString"] is None for node in nodes if node["businessEvent"].endswith(".create"))
        assert all(node["entityString"].startswith("Widget w") for node in nodes
                   if not node["businessEvent"].endswith(".create"))


def test_task_group_and_executor_list_costs_are_constant(gql, admin_user):
    for i in range(ROWS):
        group = TaskGroupFactory(code=f"group-{i:03}")
        TaskExecutorFactory(task_group=group)
        TaskExecutorFactory(task_group=group)
    client = gql(admin_user)
    small, large, data = _costs(client, GROUP_LIST)
    assert small == large == (4, 2)  # token and user, count, page, live executors with their users
    assert all(len(edge["node"]["taskexecutorSet"]["edges"]) == 2 for edge in data["taskGroup"]["edges"])
    small, large, data = _costs(client, EXECUTOR_LIST)
    assert small == large == (3, 2)  # token and user, count, page (users and groups joined)
    assert all(edge["node"]["taskGroup"]["code"].startswith("group-") for edge in data["taskExecutor"]["edges"])
