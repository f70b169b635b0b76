"""The issue's "done when" flow as a new user does it, entirely through the GraphQL endpoint (and the export
download URL): a maker creates a plan with a schema and individuals, enrols them by a criterion, a second
user approves (or rejects) the enrolment task, and the beneficiaries are listed and exported."""
import csv
import io
import json

import pytest
from django.test import Client
from graphql_jwt.shortcuts import get_token

from core.test_helpers import Enum, assert_log_error, assert_log_success
from tests.social_protection.factories import SCHEMA

pytestmark = pytest.mark.django_db



def fetch_export(user, name):
    response = Client().get(f"/api/core/fetch_export?export={name}", HTTP_AUTHORIZATION=f"Bearer {get_token(user)}")
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def node_list(data, name):
    return [edge["node"] for edge in data[name]["edges"]]


@pytest.fixture
def checker(make_user):
    # only the right to see and resolve tasks: the approval power comes from being an executor
    return make_user("Checker", rights=[191001])


@pytest.fixture
def approvers(gql, admin_user, checker):
    """The admin sets up the approvers' task group routing enrolment tasks (source import_valid_items); the admin
    is an executor too, so refusing the maker's own approval is the maker-checker rule, not group membership."""
    log = gql(admin_user).mutate("createTaskGroup", {
        "code": "enrolment approvers", "completionPolicy": Enum("ANY"),
        "userIds": [str(checker.id), str(admin_user.id)],
        "taskSources": ["import_valid_items"]})
    assert_log_success(log)
    return checker


def create_plan(maker, code, client_mutation_id):
    log = maker.mutate("createBenefitPlan", {
        "code": code, "name": f"Cash transfer {code}", "type": Enum("INDIVIDUAL"), "maxBeneficiaries": 100,
        "dateValidFrom": "2025-01-01", "dateValidTo": "2030-12-31", "beneficiaryDataSchema": json.dumps(SCHEMA)},
        client_mutation_id=client_mutation_id)
    assert_log_success(log)
    data = maker.data('{ benefitPlan(clientMutationId: "%s") { edges { node { id uuid code type '
                      'beneficiaryDataSchema } } } }' % client_mutation_id)
    [plan] = node_list(data, "benefitPlan")
    assert plan["code"] == code and plan["type"] == "INDIVIDUAL"
    assert json.loads(plan["beneficiaryDataSchema"])["properties"].keys() == SCHEMA["properties"].keys()
    return plan["uuid"]


def create_individual(maker, first, children, educated_level):
    log = maker.mutate("createIndividual", {
        "firstName": first, "lastName": "Tester", "dob": "1990-05-01",
        "jsonExt": json.dumps({"number_of_children": children, "educated_level": educated_level})})
    assert_log_success(log)


def confirm(maker, plan_id, criterion, status):
    log = maker.mutate("confirmIndividualEnrollment", {"customFilters": [criterion], "benefitPlanId": plan_id,
                                                       "status": status})
    assert_log_success(log)


def beneficiaries(client, plan_id):
    data = client.data('{ beneficiary(benefitPlan_Id: "%s", orderBy: ["individual__first_name"]) { totalCount '
                       'edges { node { status jsonExt individual { firstName } } } } }' % plan_id)
    return data["beneficiary"]["totalCount"], node_list(data, "beneficiary")


def pending_task(checker_client, plan_code):
    data = checker_client.data('{ task(source: "import_valid_items", status: ACCEPTED) { edges { node { id uuid '
                               'status businessEvent entityString jsonExt } } } }')
    tasks = [t for t in node_list(data, "task") if plan_code in (t["entityString"] or json.dumps(t["jsonExt"]))]
    assert len(tasks) == 1, node_list(data, "task")
    return tasks[0]


def resolve(client, user, task_id, vote):
    return client.mutate("resolveTask", {"id": task_id, "businessStatus": json.dumps({str(user.id): vote})})


def test_enrol_approve_and_export_through_graphql(gql, admin_user, approvers):
    maker, checker = gql(admin_user), gql(approvers)
    plan_id = create_plan(maker, "E2E-1", "e2e-plan-1")
    create_individual(maker, "Amina", 3, "secondary")
    create_individual(maker, "Bashir", 2, "primary")
    create_individual(maker, "Chidi", 0, "none")

    confirm(maker, plan_id, "number_of_children__gt__integer=1", "ACTIVE")
    assert beneficiaries(maker, plan_id)[0] == 0  # nothing enrolled before approval

    task = pending_task(checker, "E2E-1")
    assert task["businessEvent"] == "validation-enrollment"

    # the maker cannot approve their own enrolment, even as an executor of the group: refused, nothing enrolled
    assert_log_error(resolve(maker, admin_user, task["uuid"], "APPROVED"), "maker")
    assert beneficiaries(maker, plan_id)[0] == 0

    assert_log_success(resolve(checker, approvers, task["uuid"], "APPROVED"))
    data = checker.data('{ task(id: "%s") { edges { node { status } } } }' % task["uuid"])
    assert node_list(data, "task")[0]["status"] == "COMPLETED"

    count, rows = beneficiaries(maker, plan_id)
    assert count == 2
    assert [(r["individual"]["firstName"], r["status"]) for r in rows] == [("Amina", "ACTIVE"), ("Bashir", "ACTIVE")]
    assert json.loads(rows[0]["jsonExt"]) == {"number_of_children": 3, "educated_level": "secondary"}

    # export the enrolled beneficiaries and download the file
    columns = {"individual__first_name": "First name", "individual__last_name": "Last name", "status": "Status"}
    query = ('{ beneficiaryExport(benefitPlan_Id: "%s", fileFormat: "csv", '
             'fields: ["individual.first_name", "individual.last_name", "status", "json_ext"], fieldsColumns: %s) }'
             % (plan_id, json.dumps(json.dumps(columns))))
    name = maker.data(query)["beneficiaryExport"]
    rows = fetch_export(admin_user, name)
    header = rows[0]
    assert header[:3] == ["First name", "Last name", "Status"]
    assert set(header[3:]) == {"number_of_children", "educated_level"}
    by_name = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert set(by_name) == {"Amina", "Bashir"}
    assert by_name["Amina"]["number_of_children"] == "3" and by_name["Amina"]["Status"] == "ACTIVE"
    assert by_name["Bashir"]["educated_level"] == "primary"


def test_rejected_enrolment_enrols_nobody(gql, admin_user, approvers):
    maker, checker = gql(admin_user), gql(approvers)
    plan_id = create_plan(maker, "E2E-2", "e2e-plan-2")
    create_individual(maker, "Dalia", 4, "primary")
    confirm(maker, plan_id, "number_of_children__gte__integer=1", "POTENTIAL")
    task = pending_task(checker, "E2E-2")

    assert_log_success(resolve(checker, approvers, task["uuid"], "FAILED"))
    data = checker.data('{ task(id: "%s") { edges { node { status } } } }' % task["uuid"])
    assert node_list(data, "task")[0]["status"] == "FAILED"
    assert beneficiaries(maker, plan_id)[0] == 0
    data = maker.data('{ beneficiaryDataUploadHistory(benefitPlan_Id: "%s") { edges { node { workflow '
                      'dataUpload { status } } } } }' % plan_id)
    assert [(n["workflow"], n["dataUpload"]["status"]) for n in node_list(data, "beneficiaryDataUploadHistory")] \
        == [("Enrollment", "FAIL")]
