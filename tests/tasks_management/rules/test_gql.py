"""GraphQL of rule tasks (task_rules.md §15): dueTasks visibility, ordering, filters, row security by location,
the extra Task fields, ruleTasksBreakdown, refreshRuleTasks (right 191006), and rule tasks refused by
updateTask / resolveTask. List cost is constant (10 vs 100 rows)."""
import datetime

import pytest
from django.utils import timezone

from core.test_helpers import create_test_village, request_cost
from tasks_management.models import RuleState, Task
from tasks_management.services import TaskService
from tests.individual.factories import IndividualFactory
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db

TASK_SEE = 191001
DUE = ('{{ dueTasks({args}) {{ totalCount edges {{ node {{ id emissionKey ruleName ruleState stateReason dueDate '
       'startDate endDate overdue title icon priority priorityLabel contactLabel actions forId assigneeId status '
       'entityId }} }} }} }}')


def _due(client, args="first: 100"):
    return [e["node"] for e in client.data(DUE.format(args=args))["dueTasks"]["edges"]]


def _person(admin_user, name, worker=None, days_ago=3, location=None, **fields):
    individual = IndividualFactory(first_name=name, last_name="X", dob="1990-01-01", location=location,
                                   json_ext={"worker": worker, **fields}, acting_user=admin_user)
    created = timezone.now() - datetime.timedelta(days=days_ago)
    type(individual).objects.filter(id=individual.id).update(date_created=created)
    return individual


@pytest.fixture
def worker(make_user):
    return make_user("worker", rights=[TASK_SEE])


@pytest.fixture
def other_worker(make_user):
    return make_user("other-worker", rights=[TASK_SEE])


def test_due_tasks_visibility_and_fields(visit_rule, run, gql, admin_user, worker, other_worker, make_group):
    mine = _person(admin_user, "Mine", worker="worker", priority={"level": "high", "label": "urgent"}, days_ago=1)
    _person(admin_user, "Theirs", worker="other-worker")
    _person(admin_user, "Future", worker="worker", days_ago=-10)  # Draft: window opens later
    group = make_group("ANY", [worker], code="visitors", sources=["task_rules.test_visit"])
    _person(admin_user, "Grouped")  # nobody assigned: routed to the group the worker executes
    run()
    nodes = _due(gql(worker))
    # the worker executes the group every test_visit task is routed to: all Ready ones; the other worker only
    # those assigned to them
    assert {n["contactLabel"] for n in nodes} == {"Mine X", "Grouped X", "Theirs X"}
    assert {n["contactLabel"] for n in _due(gql(other_worker))} == {"Theirs X"}
    first = nodes[0]
    assert first["contactLabel"] == "Mine X"  # high priority first
    assert first["priority"] == "high" and first["priorityLabel"] == "urgent"
    assert first["ruleState"] == "Ready" and first["status"] == "ACCEPTED" and first["ruleName"] == "test_visit"
    assert first["title"] == "task.test.visit" and first["forId"] == str(mine.id) and first["entityId"] == str(mine.id)
    assert first["emissionKey"] == f"individual.individual:{mine.id}~visit~test_visit"
    assert first["overdue"] is False and first["assigneeId"] == str(worker.id)
    assert '"type": "contact"' in first["actions"]
    assert {t.task_group_id for t in rule_tasks()} == {group.id}
    with_draft = _due(gql(worker), "first: 100, includeDraft: true")
    assert {n["contactLabel"] for n in with_draft} == {"Mine X", "Grouped X", "Theirs X", "Future X"}
    assert _due(gql(worker), 'first: 100, ruleNames: ["other"]') == []
    assert _due(gql(worker), 'first: 100, dueDate_Gte: "2100-01-01"') == []
    today = timezone.localdate().isoformat()
    assert {n["contactLabel"] for n in _due(gql(worker), f'first: 100, dueDate_Lte: "{today}"')} == {
        "Grouped X", "Theirs X"}  # due yesterday; Mine is due tomorrow
    assert [n["contactLabel"] for n in _due(gql(worker), f'first: 100, contactIds: ["{mine.id}"]')] == ["Mine X"]
    # another user's list: administrators only
    assert {n["contactLabel"] for n in _due(gql(admin_user), f'first: 100, userId: "{other_worker.id}"')} == {
        "Theirs X"}
    denied = gql(worker).query(DUE.format(args=f'first: 10, userId: "{other_worker.id}"'))
    assert denied["errors"][0]["message"] == "unauthorized"


def test_due_tasks_needs_the_right_and_a_login(visit_rule, gql, make_user):
    assert gql(make_user("nobody", rights=[])).query(DUE.format(args="first: 5"))["errors"]
    assert gql(None).query(DUE.format(args="first: 5"))["errors"]


def test_due_tasks_row_security_by_location(visit_rule, run, gql, admin_user, make_user):
    village_a, village_b = create_test_village("A"), create_test_village("B")
    restricted = make_user("district-a-worker", rights=[TASK_SEE], districts=["AD"])
    _person(admin_user, "InA", worker="district-a-worker", location=village_a)
    _person(admin_user, "InB", worker="district-a-worker", location=village_b)
    _person(admin_user, "Nowhere", worker="district-a-worker")
    run()
    assert {n["contactLabel"] for n in _due(gql(restricted))} == {"InA X", "Nowhere X"}
    counts = {r["state"]: r["count"] for r in gql(restricted).data(
        "{ ruleTasksBreakdown { state count } }")["ruleTasksBreakdown"]}
    assert counts == {"Draft": 0, "Ready": 2, "Cancelled": 0, "Completed": 0, "Failed": 0}


def test_overdue_decay_on_read(visit_rule, run, gql, admin_user, worker):
    _person(admin_user, "Late", worker="worker", days_ago=4)  # due 2 days ago, still inside the window
    run()
    (node,) = _due(gql(worker), "first: 10, overdueOnly: true")
    assert node["overdue"] is True
    task = Task.objects.get(id=rule_tasks()[0].id)
    # the window ended: the read decays it to Failed (no rule runs) and it disappears from the list
    Task.objects.filter(id=task.id).update(end_date=timezone.localdate() - datetime.timedelta(days=1))
    assert _due(gql(worker)) == []
    task.refresh_from_db()
    assert task.rule_state == RuleState.FAILED and task.status == Task.Status.FAILED


def test_breakdown_by_contact(visit_rule, run, gql, admin_user):
    person = _person(admin_user, "One", visited=True)
    _person(admin_user, "Two")
    run()
    rows = gql(admin_user).data(f'{{ ruleTasksBreakdown(contactIds: ["{person.id}"]) {{ state count }} }}')
    assert {r["state"]: r["count"] for r in rows["ruleTasksBreakdown"]}["Completed"] == 1
    assert gql(None).query("{ ruleTasksBreakdown { state count } }")["errors"]


def test_refresh_rule_tasks_mutation(visit_rule, gql, admin_user, make_user, django_capture_on_commit_callbacks):
    person = _person(admin_user, "Queued")
    with django_capture_on_commit_callbacks(execute=True):
        log = gql(admin_user).mutate("refreshRuleTasks", {"contactIds": [str(person.id)]})
    assert log.status == 2, log.error
    assert [t.entity_id for t in rule_tasks()] == [str(person.id)]
    clerk = make_user("clerk", rights=[TASK_SEE])
    log = gql(clerk).mutate("refreshRuleTasks", {"ruleNames": ["test_visit"]})
    assert log.status == 1 and "unauthorized" in log.error
    log = gql(admin_user).mutate("refreshRuleTasks", {"ruleNames": ["nope"]})
    assert log.status == 1 and "nope" in log.error


def test_rule_tasks_are_not_completed_by_update_or_resolve(visit_rule, run, admin_user, make_group):
    _person(admin_user, "Someone")
    run()
    (task,) = rule_tasks()
    service = TaskService(admin_user)
    refused = service.update({"id": str(task.id), "status": "COMPLETED"})
    assert not refused["success"] and "rule-generated" in refused["detail"]
    assert not service.resolve_task({"id": str(task.id), "business_status": {str(admin_user.id): "APPROVED"}})[
        "success"]
    assert not service.complete_task({"id": str(task.id)})["success"]
    group = make_group("ANY", [admin_user], code="re-assign")
    assert service.update({"id": str(task.id), "task_group_id": str(group.id)})["success"]
    task.refresh_from_db()
    assert task.task_group_id == group.id and task.rule_state == RuleState.READY


def test_rule_tasks_never_block_maker_checker(visit_rule, run, admin_user):
    from tasks_management.services import pending_task_exists

    person = _person(admin_user, "Busy")
    run()
    assert rule_tasks() and not pending_task_exists([person.id])
    result = TaskService(admin_user).create({"source": "x", "business_event": "individual.update", "entity": person,
                                             "executor_action_event": "default"})
    assert result["success"], result


def test_due_tasks_list_cost_is_constant(visit_rule, run, gql, admin_user, worker):
    for i in range(110):
        _person(admin_user, f"P{i:03}", worker="worker", priority=i % 7)
    run()
    client = gql(worker)
    query = ('{{ dueTasks(first: {first}) {{ totalCount edges {{ node {{ id ruleState dueDate title priority '
             'contactLabel actions overdue entityString taskGroup {{ code }} }} }} }} }}')
    client.data(query.format(first=1))
    costs = []
    for first in (10, 100):
        data = {}
        costs.append(request_cost(lambda: data.update(client.data(query.format(first=first)))))
        assert len(data["dueTasks"]["edges"]) == first
    assert costs[0] == costs[1], costs
    scores = [int(e["node"]["priority"].split(".")[0]) for e in data["dueTasks"]["edges"]]
    assert scores == sorted(scores, reverse=True)  # numeric priority: higher first
