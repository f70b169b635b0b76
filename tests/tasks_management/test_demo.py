import io
import json

import pytest

from core.management.commands.demo import DemoContext
from core.test_helpers import assert_log_success
from tasks_management import demo
from tasks_management.models import Task, TaskExecutor, TaskGroup

pytestmark = pytest.mark.django_db


def Ctx(admin):  # noqa: N802 (the demo command's context, as the command makes it)
    return DemoContext(admin, [], io.StringIO(), None)


def test_demo_is_idempotent_and_requests_join_the_group(admin_user, gql):
    # a request another module's demo made before the group existed (here: an individual's update)
    from tasks_management.services import TaskService

    early = TaskService(admin_user).create({"source": "IndividualService", "business_event": "IndividualService.update",
                                            "executor_action_event": "default",
                                            "data": {"incoming_data": {"first_name": "B"}, "current_data": {}}})
    assert early["success"]
    ctx = Ctx(admin_user)
    demo.contribute(ctx)
    demo.contribute(ctx)
    ctx.finish()
    assert [c[0] for c in ctx.credentials] == ["Checker"]
    group = TaskGroup.objects.get(code="demo-approvers")
    assert TaskGroup.objects.count() == 1 and TaskExecutor.objects.filter(task_group=group).count() == 2
    task = Task.objects.get(id=early["data"]["id"])
    assert task.status == Task.Status.ACCEPTED and task.task_group == group
    assert not Task.objects.filter(source="demo").exists()
    # the flow of the README: the other executor (the Checker; the maker never approves) votes
    from core.models import User

    checker = User.objects.get(username="Checker")
    client = gql(checker)
    panel = client.data('{ task(isDeleted: false, source: "IndividualService", first: 10) { totalCount } }')
    assert panel["task"]["totalCount"] == 1
    assert_log_success(client.mutate("resolveTask", {
        "id": str(task.id), "businessStatus": json.dumps({str(checker.id): "APPROVED"})}))
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED


# -- the whole demo, seen through the frontend's own operations (compat/client_ops.jsonl) -------------------------
from pathlib import Path  # noqa: E402

from django.core.management import call_command  # noqa: E402

OPS = {op["id"]: op["document"] for op in (
    json.loads(line) for line in (Path(__file__).resolve().parents[2] / "compat" / "client_ops.jsonl")
    .read_text().splitlines() if line.strip())}
PANEL_SOURCE = 'source: "IndividualService"'
DEMO_TICKET_TITLES = {"Payment not received in March", "Wrong household size in the registry",
                      "Pay point too far from the village", "Name misspelled on the payment card"}


def _panel(source):
    """The frontend's task panel query (TaskSearcher default filters) for one task source."""
    document = OPS["tasks_management/src/actions.js/fetchTasks"]
    assert PANEL_SOURCE in document
    return document.replace(PANEL_SOURCE, f'source: "{source}"')


@pytest.fixture
def full_demo(admin_user):
    call_command("demo", stdout=io.StringIO())
    from core.models import User

    return User.objects.get(username="Admin"), User.objects.get(username="Checker")


def test_every_frontend_page_has_something_to_show(full_demo, gql):
    admin, _checker = full_demo
    client = gql(admin)
    for source in ("IndividualService", "BenefitPlanService"):  # the panels the task pages list
        answer = client.data(_panel(source))["task"]
        assert answer["totalCount"] >= 1, source
        node = answer["edges"][0]["node"]
        assert node["status"] == "ACCEPTED" and node["taskGroup"]["code"] == "demo-approvers"
        assert node["businessEvent"] == f"{source}.update" and node["entityId"]
        data = json.loads(node["data"]) if isinstance(node["data"], str) else node["data"]
        assert data["incoming_data"] and data["current_data"], data  # the panel's before/after preview
    # the benefit plan page's task panel (tasks of that plan)
    plan = client.data('{ benefitPlan(code: "DEMO-CT") { edges { node { id uuid } } } }')["benefitPlan"]["edges"][0]
    per_plan = OPS["tasks_management/src/actions.js/fetchTasks#3"].replace(
        "2f1e0d9c-8b7a-4654-9321-0fedcba98765", plan["node"]["uuid"])
    assert client.data(per_plan)["task"]["totalCount"] == 1
    assert not Task.objects.filter(source="demo").exists()  # no task that no panel lists
    # tickets, each with comments; a processed payment cycle
    tickets = client.data(OPS["grievance_social_protection/src/actions.js/fetchTicketSummaries"])["tickets"]
    assert tickets["totalCount"] >= 4
    for edge in tickets["edges"]:
        ticket_id = edge["node"]["id"]
        comments = client.data(OPS["grievance_social_protection/src/actions.js/fetchComments"].replace(
            "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ticket_id))["comments"]
        if edge["node"]["title"] in DEMO_TICKET_TITLES:
            assert comments["totalCount"] >= 1, edge["node"]["title"]
    cycles = client.data(OPS["payment_cycle/src/actions.js/fetchPaymentCycles"])["paymentCycle"]
    assert cycles["totalCount"] >= 1
    from payment_cycle.models import Entitlement

    assert Entitlement.objects.filter(payment_cycle__code=cycles["edges"][0]["node"]["code"]).exists()


def test_the_checker_approves_the_demo_individual_update(full_demo, gql):
    from individual.models import Individual

    admin, checker = full_demo
    task = Task.objects.get(source="IndividualService", status=Task.Status.ACCEPTED)
    asked = task.data["incoming_data"]["json_ext"]["number_of_children"]
    person = Individual.objects.get(id=task.entity_id)
    assert person.json_ext.get("number_of_children", 0) == asked - 1  # not changed before the approval
    client = gql(checker)
    assert_log_success(client.mutate("resolveTask", {
        "id": str(task.id), "businessStatus": json.dumps({str(checker.id): "APPROVED"})}))
    task.refresh_from_db()
    person.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert person.json_ext["number_of_children"] == asked
