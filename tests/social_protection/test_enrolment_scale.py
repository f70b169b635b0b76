"""Enrolment by criteria at scale (issue 11): preview, confirm and approval cost a constant number of SQL statements,
the maker-checker confirm stores the criteria and a snapshot time instead of a copy of every selected row, the
approval re-runs the selection as at the snapshot, and the frontend's pending-enrolment list
(``fetchPendingBeneficiaryUploads``) still answers the people of such an upload.

Requests go through the GraphQL endpoint as the frontend sends them (bearer token).
"""
import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import bulk
from core.test_helpers import assert_log_success, create_test_village
from individual.models import Individual, IndividualDataSource, IndividualDataSourceUpload
from individual.services import IndividualService
from social_protection.models import BenefitPlanDataUploadRecords, Beneficiary, GroupBeneficiary
from tasks_management.models import Task
from tasks_management.services import TaskService

pytestmark = pytest.mark.django_db

CRITERION = "number_of_children__gt__integer=1"
SUMMARY = """{ individualEnrollmentSummary(customFilters: %s, benefitPlanId: "%s") { numberOfSelectedIndividuals
  totalNumberOfIndividuals numberOfIndividualsNotAssignedToProgramme numberOfIndividualsAssignedToProgramme
  numberOfIndividualsAssignedToSelectedProgramme numberOfIndividualsToUpload } }"""
# the frontend's document (compat/client_ops.jsonl social_protection/src/actions.js/fetchPendingBeneficiaryUploads)
PENDING = """query ($upload_Id: ID, $individual_Id_Isnull: Boolean, $pageSize: Int, $isDeleted: Boolean,
  $after: String) {
  individualDataSource(upload_Id: $upload_Id, individual_Id_Isnull: $individual_Id_Isnull, isDeleted: $isDeleted,
                       first: $pageSize, after: $after) {
    totalCount pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor }
    edges { node { id, uuid, jsonExt, individual { id, lastName } } } } }"""


def people(user, count, prefix, children=2, **extra):
    """``count`` individuals without a household, set-based (with history rows)."""
    bulk.insert_rows(Individual, ({"first_name": f"F{i}", "last_name": f"{prefix}{i:05d}",
                                   "dob": datetime.date(1990, 1, 1),
                                   "json_ext": {"number_of_children": children, "batch": prefix}, **extra}
                                  for i in range(count)), user=user)


def confirm(gql, user, plan, filters, group=False, status="POTENTIAL"):
    name = "confirmGroupEnrollment" if group else "confirmIndividualEnrollment"
    log = gql(user).mutate(name, {"customFilters": list(filters), "benefitPlanId": str(plan.id), "status": status})
    assert_log_success(log)
    return log


def approve(user, task):
    result = TaskService(user).resolve_task({"id": task.id, "business_status": {str(user.id): "APPROVED"}})
    assert result["success"], result


def record_of(plan):
    return BenefitPlanDataUploadRecords.objects.get(benefit_plan=plan)


def task_of(plan):
    return Task.objects.get(entity_id=str(record_of(plan).id))


def statements(call):
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries.captured_queries)


# --- statement counts: two sizes, the same number ------------------------------------------------------
def test_preview_costs_the_same_statements_for_20_and_400(gql, admin_user, make_plan, enrol):
    plan, other = make_plan(), make_plan(code="OTHER")
    client = gql(admin_user)
    counts, answers = [], []
    for size, prefix in ((20, "S"), (400, "L")):
        people(admin_user, size, prefix)
        people(admin_user, size // 10, f"{prefix}N", children=0)  # not matching
        batch = Individual.objects.filter(last_name__startswith=f"{prefix}0")
        enrol(plan, batch[0])
        enrol(other, batch[1])
        query = SUMMARY % (json.dumps([CRITERION, f"batch__iexact__string={prefix}"]), plan.id)
        client.data(query)  # warm: the user's rights entry
        counts.append(statements(lambda: answers.append(client.data(query)["individualEnrollmentSummary"])))
    assert counts[0] == counts[1]
    assert answers[1] == {"numberOfSelectedIndividuals": "400", "totalNumberOfIndividuals": str(20 + 2 + 400 + 40),
                          "numberOfIndividualsNotAssignedToProgramme": "398",
                          "numberOfIndividualsAssignedToProgramme": "2",
                          "numberOfIndividualsAssignedToSelectedProgramme": "1", "numberOfIndividualsToUpload": "399"}


def test_confirm_and_approval_cost_the_same_statements_for_20_and_400(gql, admin_user, checker, make_plan):
    confirms, approvals = [], []
    warm = make_plan(code="WARM")  # per-process caches and the users' rights entries, read once
    confirm(gql, admin_user, warm, [CRITERION])
    approve(checker, task_of(warm))
    for size, code in ((20, "SMALL"), (400, "LARGE")):
        plan = make_plan(code=code)
        people(admin_user, size, code)
        filters = [CRITERION, f"batch__iexact__string={code}"]
        confirms.append(statements(lambda: confirm(gql, admin_user, plan, filters)))
        task = task_of(plan)
        assert task.json_ext["number_of_records"] == size
        approvals.append(statements(lambda: approve(checker, task)))
        assert Beneficiary.objects.filter(benefit_plan=plan).count() == size
        assert Beneficiary.history.filter(benefit_plan_id=plan.id).count() == size
    assert confirms[0] == confirms[1]
    assert approvals[0] == approvals[1]
    # nothing staged: no data source, no history of one
    assert not IndividualDataSource.objects.exists() and not IndividualDataSource.history.exists()


# --- what is stored, what the approval does with later changes ---------------------------------------------
def test_approval_reruns_the_selection_as_at_the_snapshot(gql, admin_user, checker, make_plan, make_individual, enrol):
    plan = make_plan()
    kept, changed, enrolled_meanwhile = (make_individual(name, children=3) for name in ("Kept", "Changed", "Meanwhile"))
    make_individual("NoKids", children=0)
    confirm(gql, admin_user, plan, [CRITERION])
    upload = record_of(plan).data_upload
    stored = upload.json_ext["enrolment_selection"]
    assert stored["custom_filters"] == [CRITERION] and stored["user_id"] == str(admin_user.id)
    assert task_of(plan).json_ext["number_of_records"] == 3

    make_individual("Late", children=5)  # created after the request: not part of it
    changed.json_ext = {**changed.json_ext, "number_of_children": 4}
    changed.save(user=admin_user)  # changed after the request: skipped, counted
    enrol(plan, enrolled_meanwhile)  # enrolled by another path meanwhile: not twice
    approve(checker, task_of(plan))

    enrolled = set(Beneficiary.objects.filter(benefit_plan=plan).values_list("individual_id", flat=True))
    assert enrolled == {kept.id, enrolled_meanwhile.id}
    assert Beneficiary.objects.filter(benefit_plan=plan, individual=enrolled_meanwhile).count() == 1
    result = record_of(plan).json_ext["enrolment_result"]
    assert result["enrolled"] == 1 and result["skipped_changed_after_snapshot"] == 1
    upload.refresh_from_db()
    assert upload.status == "SUCCESS"


def test_group_enrolment_stores_criteria_and_enrols_groups_with_a_head(gql, admin_user, checker, make_plan,
                                                                       make_individual, make_group, make_user):
    plan = make_plan(code="GRP", type="GROUP")
    head = make_individual("Head", children=4)
    rich = make_group("RICH", [(head, "HEAD"), (make_individual("Kid"), "SON")])
    make_group("EMPTY", [])  # no HEAD: skipped
    confirm(gql, admin_user, plan, [], group=True, status="ACTIVE")
    upload = record_of(plan).data_upload
    assert upload.json_ext["enrolment_selection"]["group"] is True
    assert task_of(plan).json_ext["number_of_records"] == 1
    rows = gql(make_user("reader", rights=[159001])).data(
        PENDING, {"upload_Id": str(upload.id), "individual_Id_Isnull": False, "pageSize": 10})
    assert [edge["node"]["individual"]["lastName"] for edge in rows["individualDataSource"]["edges"]] == ["Doe"]
    approve(checker, task_of(plan))
    assert list(GroupBeneficiary.objects.filter(benefit_plan=plan).values_list("group_id", "status")) == [
        (rich.id, "ACTIVE")]


# --- the task panel's list of a pending enrolment ----------------------------------------------------------------
@pytest.fixture
def reader(make_user):
    """Who opens the task panel: the registry's search right (no district: rows without a location)."""
    return make_user("reader", rights=[159001])


@pytest.fixture
def pending(gql, admin_user, make_plan):
    """A waiting enrolment of 25 people (L00000 … L00024) and its upload."""
    plan = make_plan()
    people(admin_user, 25, "L")
    people(admin_user, 5, "N", children=0)
    confirm(gql, admin_user, plan, [CRITERION])
    return plan, record_of(plan).data_upload


def test_pending_list_answers_the_people_paged(gql, reader, pending):
    plan, upload = pending
    client = gql(reader)
    first = client.data(PENDING, {"upload_Id": str(upload.id), "individual_Id_Isnull": False, "pageSize": 10,
                                  "isDeleted": False})["individualDataSource"]
    assert first["totalCount"] == 25 and first["pageInfo"]["hasNextPage"] is True
    names = [edge["node"]["individual"]["lastName"] for edge in first["edges"]]
    assert names == [f"L{i:05d}" for i in range(10)]
    node = first["edges"][0]["node"]
    json_ext = node["jsonExt"] if isinstance(node["jsonExt"], dict) else json.loads(node["jsonExt"])
    assert json_ext["number_of_children"] == 2 and node["uuid"]
    second = client.data(PENDING, {"upload_Id": str(upload.id), "individual_Id_Isnull": False, "pageSize": 10,
                                   "after": first["pageInfo"]["endCursor"]})["individualDataSource"]
    assert [edge["node"]["individual"]["lastName"] for edge in second["edges"]] == [f"L{i:05d}" for i in range(10, 20)]
    # the ids are stable from one request to the next, distinct per person
    again = client.data(PENDING, {"upload_Id": str(upload.id), "pageSize": 10})["individualDataSource"]
    assert [e["node"]["uuid"] for e in again["edges"]] == [e["node"]["uuid"] for e in first["edges"]]
    assert len({e["node"]["uuid"] for e in first["edges"] + second["edges"]}) == 20
    # rows without a person, or deleted ones: there are none
    for variables in ({"individual_Id_Isnull": True}, {"isDeleted": True}):
        empty = client.data(PENDING, {"upload_Id": str(upload.id), "pageSize": 10, **variables})
        assert empty["individualDataSource"]["totalCount"] == 0


def test_pending_list_costs_the_same_statements_for_5_and_50_rows(gql, reader, pending):
    _, upload = pending
    client = gql(reader)
    client.data(PENDING, {"upload_Id": str(upload.id), "pageSize": 1})
    counts = [statements(lambda size=size: client.data(PENDING, {"upload_Id": str(upload.id), "pageSize": size}))
              for size in (5, 50)]
    assert counts[0] == counts[1]


def test_pending_list_filters_on_the_person_and_refuses_what_is_not_stored(gql, reader, pending):
    _, upload = pending
    client = gql(reader)
    found = client.data('{ individualDataSource(upload_Id: "%s", individual_LastName_Istartswith: "L0000") '
                        '{ totalCount } }' % upload.id)
    assert found["individualDataSource"]["totalCount"] == 10
    refused = client.query('{ individualDataSource(upload_Id: "%s", dateCreated_Gte: "2020-01-01T00:00:00") '
                           '{ totalCount } }' % upload.id)
    assert "cannot filter an enrolment by criteria" in refused["errors"][0]["message"]


def test_pending_list_is_empty_once_the_enrolment_is_decided(gql, checker, reader, pending):
    plan, upload = pending
    approve(checker, task_of(plan))
    rows = gql(reader).data(PENDING, {"upload_Id": str(upload.id), "pageSize": 10})
    assert rows["individualDataSource"]["totalCount"] == 0
    assert Beneficiary.objects.filter(benefit_plan=plan).count() == 25


def test_pending_list_needs_the_right_and_keeps_the_viewers_row_security(gql, admin_user, make_user, make_plan):
    village_a, village_b = create_test_village("A"), create_test_village("B")
    plan = make_plan()
    people(admin_user, 3, "A", location_id=village_a.id)
    people(admin_user, 2, "B", location_id=village_b.id)
    confirm(gql, admin_user, plan, [CRITERION])
    upload = IndividualDataSourceUpload.objects.get()
    denied = gql(make_user("nobody", rights=[])).query(PENDING, {"upload_Id": str(upload.id), "pageSize": 10})
    assert denied["errors"][0]["message"] == "Unauthorized"
    clerk = make_user("clerk-a", rights=[159001], districts=["AD"])
    rows = gql(clerk).data(PENDING, {"upload_Id": str(upload.id), "pageSize": 10})["individualDataSource"]
    assert rows["totalCount"] == 3
    assert sorted(edge["node"]["individual"]["lastName"] for edge in rows["edges"]) == ["A00000", "A00001", "A00002"]


def test_a_staged_upload_is_still_listed_from_its_rows(gql, admin_user, checker, reader, make_plan, make_individual):
    """An enrolment asked through the Python API with a bare queryset (no criteria) stages its rows, as before."""
    from social_protection.services import EnrollmentService

    plan = make_plan()
    person = make_individual("Staged", children=2)
    EnrollmentService(admin_user).enroll_individuals(Individual.objects.filter(id=person.id), plan.id, "POTENTIAL",
                                                     maker_checker=True)
    upload = IndividualDataSourceUpload.objects.get()
    assert "enrolment_selection" not in (upload.json_ext or {})
    rows = gql(reader).data(PENDING, {"upload_Id": str(upload.id), "pageSize": 10})["individualDataSource"]
    assert rows["totalCount"] == 1 and rows["edges"][0]["node"]["individual"]["lastName"] == "Doe"
    approve(checker, task_of(plan))
    assert list(Beneficiary.objects.filter(benefit_plan=plan).values_list("individual_id", flat=True)) == [person.id]


def test_the_selection_signal_carries_the_criteria(admin_user, make_plan):
    plan = make_plan()
    result = IndividualService(admin_user).select_individuals_to_benefit_plan([CRITERION], str(plan.id), "ACTIVE",
                                                                              admin_user)
    criteria = result["criteria"]
    assert criteria.custom_filters == [CRITERION] and criteria.group is False and criteria.status == "ACTIVE"
    assert criteria.user_id == str(admin_user.id) and criteria.benefit_plan_id == str(plan.id)


def test_group_preview_confirm_and_approval_cost_the_same_statements_for_10_and_100(gql, admin_user, checker,
                                                                                     make_plan):
    from individual.bulk import create_households
    from individual.models import Group

    client = gql(admin_user)
    warm = make_plan(code="WARM", type="GROUP")
    confirm(gql, admin_user, warm, [], group=True)
    approve(checker, task_of(warm))
    previews, confirms, approvals = [], [], []
    for households, code in ((10, "SMALL"), (100, "LARGE")):
        create_households(admin_user, households * 2, 2, [None], seed=households)
        plan = make_plan(code=code, type="GROUP")
        query = ('{ groupEnrollmentSummary(customFilters: [], benefitPlanId: "%s") { numberOfSelectedGroups '
                 'numberOfGroupsToUpload } }' % plan.id)
        client.data(query)
        previews.append(statements(lambda: client.data(query)))
        confirms.append(statements(lambda: confirm(gql, admin_user, plan, [], group=True)))
        approvals.append(statements(lambda: approve(checker, task_of(plan))))
        assert GroupBeneficiary.objects.filter(benefit_plan=plan).count() == Group.objects.count()  # every household has a HEAD
    assert previews[0] == previews[1] and confirms[0] == confirms[1] and approvals[0] == approvals[1]
