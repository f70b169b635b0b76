"""GraphQL queries and mutations: rights (every denial path), visibility, filters (list costs: test_list_cost)."""
import json

import pytest

from core.test_helpers import Enum, assert_anonymous_refused, assert_log_error, assert_log_success
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tests.tasks_management.conftest import EXECUTOR_LIST, GROUP_LIST, TASK_LIST, vote
from tests.tasks_management.factories import TaskExecutorFactory, TmWidgetFactory

pytestmark = pytest.mark.django_db

TASKS, GROUPS, EXECUTORS = TASK_LIST.format(first=10), GROUP_LIST.format(first=20), EXECUTOR_LIST.format(first=50)


def errors_of(content):
    return [e["message"] for e in content.get("errors", [])]


# --- query rights ----------------------------------------------------------------------------------
@pytest.mark.parametrize("query", [TASKS, GROUPS, EXECUTORS])
def test_queries_refuse_anonymous_and_users_without_right(query, gql, no_rights_user):
    for user in (None, no_rights_user):
        content = gql(user).query(query)
        assert "unauthorized" in errors_of(content), content


def test_task_group_rights_are_separate_from_task_rights(gql, make_user):
    task_only = make_user("taskonly", rights=[191001])
    assert "unauthorized" in errors_of(gql(task_only).query(GROUPS))
    assert gql(make_user("grouponly", rights=[190001])).data(GROUPS)["taskGroup"]["totalCount"] == 0


def _node_query(type_name, obj_id, fields):
    from graphql_relay import to_global_id

    return f'{{ node(id: "{to_global_id(type_name, str(obj_id))}") {{ ... on {type_name} {{ {fields} }} }} }}'


def test_node_lookup_respects_rights(gql, make_group, make_task, checkers, make_user, no_rights_user, admin_user):
    """relay ``node(id:)`` never returns a task, group or executor to a caller the list query would refuse."""
    group = make_group("ANY", checkers[:1])
    task = make_task(group=group, source="secret-source")
    executor = TaskExecutor.objects.get(task_group=group, is_deleted=False)
    task_only = make_user("taskonly-node", rights=[191001])  # 191001 without membership: sees no task of this group
    cases = [
        (_node_query("TaskGroupGQLType", group.id, "code"), "code", group.code),
        (_node_query("TaskExecutorGQLType", executor.id, "uuid"), "uuid", str(executor.id)),
        (_node_query("TaskGQLType", task.id, "source businessData"), "source", "secret-source"),
    ]
    for query, field, expected in cases:
        for caller in (None, no_rights_user, task_only):
            content = gql(caller).query(query)
            node = (content.get("data") or {}).get("node")
            assert node is None, (query, caller, content)
            assert "secret-source" not in json.dumps(content)
        assert gql(admin_user).data(query)["node"][field] == expected
    # a group executor sees the task of their group by node, as in the list query, but not the group itself
    # (the group search right guards it: node(id:) answers null, as for every protected type)
    assert gql(checkers[0]).data(cases[2][0])["node"]["source"] == "secret-source"
    assert gql(checkers[0]).data(cases[0][0])["node"] is None
    # a deleted task is not returned either (the list query hides it too)
    task.delete(user=admin_user)
    assert gql(admin_user).data(cases[2][0])["node"] is None


def test_business_data_of_a_task_read_alone_and_of_an_unknown_serializer(gql, admin_user, widget, make_task):
    """node(id:) serializes its one task; a name nobody registered (a module not installed) shows an error in
    businessData instead of failing the list."""
    parent = TmWidgetFactory(name="the parent")
    data = {"incoming_data": {"name": "x", "parent_id": str(parent.id)}, "current_data": {}}
    known = make_task(entity=widget, business_data_serializer="tm_test_app.WidgetService", data=data)
    unknown = make_task(source="gone", business_data_serializer="uninstalled.Service", data=data)
    client = gql(admin_user)
    node = client.data(_node_query("TaskGQLType", known.id, "businessData"))["node"]
    assert json.loads(node["businessData"]) == {"incoming_data": {"name": "X", "parent_id": "the parent"},
                                                "current_data": {}}
    listed = client.data('{ task(source: "gone") { edges { node { uuid businessData data } } } }')["task"]["edges"]
    assert [edge["node"]["uuid"] for edge in listed] == [str(unknown.id)]
    assert json.loads(listed[0]["node"]["businessData"]) == {
        "error": "business data serializer uninstalled.Service unavailable"}
    assert json.loads(listed[0]["node"]["data"]) == data


# --- visibility ------------------------------------------------------------------------------------
def test_task_visibility(gql, make_group, make_task, checkers, make_user, admin_user):
    group = make_group("ANY", checkers[:1])
    mine = make_task(group=group, source="mine")
    make_task(group=make_group("ANY", checkers[1:2]), source="other-group")
    make_task(source="unrouted")  # RECEIVED
    deleted = make_task(group=group, source="deleted")
    deleted.delete(user=admin_user)
    q = "{ task { totalCount edges { node { source } } } }"

    executor_view = gql(checkers[0]).data(q.replace("source", "uuid source"))["task"]
    assert [e["node"] for e in executor_view["edges"]] == [{"uuid": str(mine.id), "source": "mine"}]
    # an executor without right 191001 still sees its group's tasks (spec §8.1)
    plain = make_user("plain-executor", rights=[])
    TaskExecutorFactory(user=plain, task_group=group)
    assert gql(plain).data(q)["task"]["totalCount"] == 1
    # 191005, triage and admins see every live task, RECEIVED included
    see_all = make_user("see-all", rights=[191001, 191005])
    triage = make_user("triage", rights=[190001, 190002, 190003, 190004])
    for user in (see_all, triage, admin_user):
        assert gql(user).data(q)["task"]["totalCount"] == 3
    # a holder of 191001 who executes nothing sees nothing
    assert gql(make_user("viewer", rights=[191001])).data(q)["task"]["totalCount"] == 0


def test_task_filters_used_by_the_frontend(gql, admin_user, make_group, make_task, checkers):
    group = make_group("ANY", checkers[:1])
    w = TmWidgetFactory(name="Jane Doe")
    hit = make_task(group=group, source="BenefitPlanService", business_event="Doe.update", entity=w)
    make_task(source="IndividualService")
    client = gql(admin_user)
    full = (f'{{ task(isDeleted: false, source_Icontains: "benefit", entityId: "{w.id}", '
            f'businessEvent_Icontains: "doe", entityString_Icontains: "jane", taskGroupId: "{group.id}", '
            f'status: ACCEPTED, entityIds: ["{w.id}"], entityType: "tm_test_app.tmwidget", first: 10, '
            f'orderBy: ["-dateCreated"]) {{ totalCount edges {{ node {{ uuid entityType }} }} }} }}')
    data = client.data(full)["task"]
    assert data["totalCount"] == 1 and data["edges"][0]["node"] == {"uuid": str(hit.id),
                                                                    "entityType": "tm_test_app.tmwidget"}
    assert client.data('{ task(entityString_Icontains: "nobody") { totalCount } }')["task"]["totalCount"] == 0
    assert client.data('{ task(source: "IndividualService", status: RECEIVED) { totalCount } }')["task"]["totalCount"] == 1
    assert client.data('{ task(taskGroupId: "not-a-uuid") { totalCount } }')["task"]["totalCount"] == 0


def test_task_group_and_executor_queries(gql, admin_user, make_group, checkers):
    group = make_group("ALL", checkers[:2], code="G-ALL", sources=["X"])
    make_group("ANY", checkers[2:], code="G-ANY")
    TaskExecutor.objects.filter(task_group=group, user=checkers[1]).get().delete(user=admin_user)
    client = gql(admin_user)
    by_id = client.data(f'{{ taskGroup(id: "{group.id}") {{ edges {{ node {{ code taskSources '
                        f'taskexecutorSet {{ totalCount edges {{ node {{ user {{ username }} }} }} }} }} }} }} }}')
    node = by_id["taskGroup"]["edges"][0]["node"]
    assert node["code"] == "G-ALL" and node["taskSources"] == ["X"]
    assert [e["node"]["user"]["username"] for e in node["taskexecutorSet"]["edges"]] == ["checker1"]
    filtered = client.data('{ taskGroup(isDeleted: false, code_Icontains: "g-", completionPolicy: ALL) { totalCount } }')
    assert filtered["taskGroup"]["totalCount"] == 1
    assert client.data('{ taskGroup(search: "checker3") { edges { node { code } } } }')["taskGroup"]["edges"] == [
        {"node": {"code": "G-ANY"}}]
    executors = client.data(f'{{ taskExecutor(taskGroupIdString: "{group.id}", isDeleted: false) '
                            f'{{ totalCount edges {{ node {{ user {{ username }} }} }} }} }}')
    assert executors["taskExecutor"]["totalCount"] == 1
    by_user = client.data('{ taskExecutor(user_Username_Icontains: "checker3", taskGroup_Code: "G-ANY") { totalCount } }')
    assert by_user["taskExecutor"]["totalCount"] == 1


def test_tasks_of_a_group_follow_task_visibility(gql, admin_user, make_group, make_task, checkers, make_user):
    group = make_group("ANY", checkers[:1], code="G")
    make_task(group=group, source="assigned")
    query = ('{ taskGroup(code: "G") { edges { node { code taskSet { totalCount edges { node { source '
             'taskGroup { code } } } } } } } }')
    node = gql(admin_user).data(query)["taskGroup"]["edges"][0]["node"]
    assert node["taskSet"]["totalCount"] == 1 and node["taskSet"]["edges"][0]["node"]["taskGroup"]["code"] == "G"
    # a group reader who neither executes the group nor may see all tasks sees the group, not its tasks
    reader = make_user("group-reader", rights=[190001])
    assert gql(reader).data(query)["taskGroup"]["edges"][0]["node"]["taskSet"]["totalCount"] == 0


# --- mutations --------------------------------------------------------------------------------------
def _mutations(group, task):
    return [
        ("createTaskGroup", {"code": "new", "completionPolicy": Enum("ANY")}),
        ("updateTaskGroup", {"id": str(group.id), "code": group.code, "completionPolicy": Enum("ALL")}),
        ("deleteTaskGroup", {"ids": [str(group.id)]}),
        ("updateTask", {"id": str(task.id), "status": Enum("ACCEPTED"), "taskGroupId": str(group.id)}),
        ("resolveTask", {"id": str(task.id), "businessStatus": json.dumps({"x": "APPROVED"})}),
    ]


def test_mutations_refuse_anonymous_and_users_without_right(gql, make_group, make_task, no_rights_user):
    group = make_group("ANY", code="keep")
    task = make_task()
    for name, params in _mutations(group, task):
        assert_anonymous_refused(gql(None), name, params)  # issue 10 item 27: visible, no log
        assert_log_error(gql(no_rights_user).mutate(name, params), "unauthorized")
    group.refresh_from_db(), task.refresh_from_db()
    assert not group.is_deleted and group.version == 1 and task.version == 1
    assert not TaskGroup.objects.filter(code="new").exists()


def test_group_mutations(gql, admin_user, checkers):
    client = gql(admin_user)
    log = client.mutate("createTaskGroup", {
        "code": "TG-N", "completionPolicy": Enum("N"), "completionThreshold": 2,
        "userIds": [str(c.id) for c in checkers], "taskSources": ["BenefitPlanService", "IndividualService"],
        "taskAllowedSources": ["BenefitPlanService"]})
    assert_log_success(log)
    group = TaskGroup.objects.get(code="TG-N")
    assert group.completion_threshold == 2 and group.task_allowed_sources == {
        "task_allowed_sources": ["BenefitPlanService"]}
    assert_log_success(client.mutate("updateTaskGroup", {
        "id": str(group.id), "code": "TG-N", "completionPolicy": Enum("ANY"), "userIds": [str(checkers[0].id)],
        "taskSources": ["BenefitPlanService"]}))
    group.refresh_from_db()
    assert group.completion_policy == "ANY" and group.completion_threshold is None
    assert TaskExecutor.objects.filter(task_group=group, is_deleted=False).count() == 1
    bad = client.mutate("createTaskGroup", {"code": "dup", "completionPolicy": Enum("ANY"),
                                            "taskSources": ["BenefitPlanService"]})
    assert_log_error(bad, "TG-N")
    other = client.mutate("createTaskGroup", {"code": "other", "completionPolicy": Enum("ANY")})
    assert_log_success(other)
    missing = "00000000-0000-0000-0000-000000000000"
    # one failing id rolls the whole delete back
    assert_log_error(client.mutate("deleteTaskGroup", {"ids": [str(group.id), missing]}), "does not exist")
    group.refresh_from_db()
    assert not group.is_deleted
    assert_log_success(client.mutate("deleteTaskGroup", {"ids": [str(group.id)]}))
    group.refresh_from_db()
    assert group.is_deleted


def test_update_task_assigns_and_refuses_terminal_status(gql, admin_user, make_group, make_task, checkers):
    group = make_group("ANY", checkers[:1])
    task = make_task()
    client = gql(admin_user)
    assert_log_error(client.mutate("updateTask", {"id": str(task.id), "status": Enum("COMPLETED")}),
                     "completing the task")
    assert_log_success(client.mutate("updateTask", {"id": str(task.id), "status": Enum("ACCEPTED"),
                                                    "taskGroupId": str(group.id)}, client_mutation_id="assign"))
    task.refresh_from_db()
    assert task.status == Task.Status.ACCEPTED and task.task_group == group
    assert task.mutations.get().mutation.client_mutation_id == "assign"
    # the executor can now see and approve it
    assert gql(checkers[0]).data("{ task { totalCount } }")["task"]["totalCount"] == 1


def test_resolve_task_denials(gql, make_group, make_task, checkers, make_user):
    group = make_group("ALL", checkers[:2])
    task = make_task(group=group)
    outsider = make_user("outsider", rights=[191001])
    cases = [
        (outsider, {str(outsider.id): "APPROVED"}, "not an executor"),
        (checkers[0], {str(checkers[1].id): "APPROVED"}, "your own vote"),       # vote for someone else
        (checkers[0], {str(checkers[0].id): "APPROVED", str(checkers[1].id): "APPROVED"}, "exactly one vote"),
        (checkers[0], {str(checkers[0].id): "MAYBE"}, "must be one of"),
        (checkers[0], ["APPROVED"], "exactly one vote"),
    ]
    for user, status, text in cases:
        log = gql(user).mutate("resolveTask", {"id": str(task.id), "businessStatus": json.dumps(status)})
        assert_log_error(log, text)
    bad_json = gql(checkers[0]).query(f'mutation {{ resolveTask(input: {{id: "{task.id}", businessStatus: "not json"}}) '
                                      f'{{ internalId }} }}')
    assert "Badly formed JSONString" in errors_of(bad_json)[0]  # refused by the schema itself
    executor_without_right = make_user("noright-exec", rights=[])
    from tasks_management.services import TaskGroupService, TaskService

    TaskGroupService(checkers[0]).update({"id": str(group.id), "user_ids": [str(c.id) for c in checkers[:2]]
                                          + [str(executor_without_right.id)]})
    log = gql(executor_without_right).mutate("resolveTask", {
        "id": str(task.id), "businessStatus": json.dumps({str(executor_without_right.id): "APPROVED"})})
    assert_log_error(log, "unauthorized")
    service_level = TaskService(executor_without_right).resolve_task(
        {"id": str(task.id), "business_status": {str(executor_without_right.id): "APPROVED"}})
    assert not service_level["success"]
    # RECEIVED (unassigned) tasks cannot be resolved
    received = make_task(source="unassigned")
    assert not vote(checkers[0], received)["success"]
    task.refresh_from_db()
    assert task.business_status == {} and task.version == 1 and task.status == Task.Status.ACCEPTED
