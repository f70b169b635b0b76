"""Enrolment by criteria (individual's confirm*Enrollment → our set-based enrolment) and its approval task."""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import bulk
from core.test_helpers import assert_log_error, assert_log_success
from individual.models import Group, Individual, IndividualDataSource, IndividualDataSourceUpload
from individual.services import GroupService, IndividualService, enrolment_selection_of_upload
from social_protection.models import BenefitPlanDataUploadRecords, Beneficiary, GroupBeneficiary
from social_protection.services import EnrollmentService
from tasks_management.models import Task
from tasks_management.services import TaskService

pytestmark = pytest.mark.django_db


def confirm(gql, user, plan, filters=("number_of_children__gt__integer=1",), status="POTENTIAL", group=False):
    name = "confirmGroupEnrollment" if group else "confirmIndividualEnrollment"
    return gql(user).mutate(name, {"customFilters": list(filters), "benefitPlanId": str(plan.id),
                                   "status": status})


def approve(user, task, vote="APPROVED"):
    result = TaskService(user).resolve_task({"id": task.id, "business_status": {str(user.id): vote}})
    assert result["success"], result
    task.refresh_from_db()
    return task


def bulk_individuals(user, count, children=2, prefix="L"):
    bulk.insert_rows(Individual, ({"first_name": f"F{i}", "last_name": f"{prefix}{i}", "dob": datetime.date(1990, 1, 1),
                                   "json_ext": {"number_of_children": children}} for i in range(count)), user=user)


def test_direct_enrollment_by_criteria(gql, admin_user, make_plan, make_individual, config_override):
    config_override(enable_maker_checker_logic_enrollment=False)
    plan = make_plan()
    rich = make_individual("Ann", children=3, educated_level="primary")
    make_individual("Bob", children=0)
    log = confirm(gql, admin_user, plan)
    assert_log_success(log)
    beneficiary = Beneficiary.objects.get(benefit_plan=plan)
    assert beneficiary.individual_id == rich.id
    assert beneficiary.status == "POTENTIAL"
    assert beneficiary.json_ext == rich.json_ext
    assert beneficiary.user_created_id == admin_user.id and beneficiary.version == 1
    assert list(Beneficiary.history.filter(id=beneficiary.id).values_list("history_type", flat=True)) == ["+"]
    # confirming again enrols nobody twice
    assert_log_success(confirm(gql, admin_user, plan))
    assert Beneficiary.objects.filter(benefit_plan=plan).count() == 1


def test_enrollment_with_approval(gql, admin_user, checker, make_plan, make_individual):
    plan = make_plan()
    selected = [make_individual(f"Kid{i}", children=2 + i) for i in range(3)]
    make_individual("None", children=0)
    assert_log_success(confirm(gql, admin_user, plan, status="ACTIVE"))
    assert not Beneficiary.objects.exists()  # nothing before approval
    record = BenefitPlanDataUploadRecords.objects.get(benefit_plan=plan)
    assert record.workflow == "Enrollment"
    upload = record.data_upload
    assert upload.source_type == "beneficiary import" and upload.status == "WAITING_FOR_VERIFICATION"
    assert upload.source_name.startswith(f"Enrollment into {plan.code} ")
    # the criteria and the snapshot are stored, not a copy of each selected row
    assert not IndividualDataSource.objects.filter(upload=upload).exists()
    stored = upload.json_ext["enrolment_selection"]
    assert stored["custom_filters"] == ["number_of_children__gt__integer=1"] and stored["group"] is False
    assert stored["user_id"] == str(admin_user.id) and stored["snapshot"] and stored["status"] == "ACTIVE"
    assert record.json_ext["enrolment_selection"] == stored
    task = Task.objects.get(entity_id=str(record.id))
    assert task.json_ext["number_of_records"] == 3 and task.json_ext["enrolment_selection"] == stored
    assert task.source == "import_valid_items" and task.business_event == "validation-enrollment"
    assert task.status == "ACCEPTED"  # routed to the checkers' group
    assert task.json_ext["beneficiary_status"] == "ACTIVE" and task.json_ext["data_upload_id"] == str(upload.id)

    # the maker cannot approve their own request
    refused = TaskService(admin_user).resolve_task({"id": task.id, "business_status": {str(admin_user.id): "APPROVED"}})
    assert not refused["success"]

    task = approve(checker, task)
    assert task.status == "COMPLETED"
    enrolled = Beneficiary.objects.filter(benefit_plan=plan)
    assert {b.individual_id for b in enrolled} == {i.id for i in selected}
    assert set(enrolled.values_list("status", flat=True)) == {"ACTIVE"}
    assert set(enrolled.values_list("user_created_id", flat=True)) == {checker.id}
    assert Beneficiary.history.filter(benefit_plan_id=plan.id, history_type="+").count() == 3
    upload.refresh_from_db()
    assert upload.status == "SUCCESS"
    record.refresh_from_db()
    assert record.json_ext["enrolment_result"]["enrolled"] == 3
    assert record.json_ext["enrolment_result"]["skipped_changed_after_snapshot"] == 0


def test_rejection_enrolls_nothing(gql, admin_user, checker, make_plan, make_individual):
    plan = make_plan()
    make_individual(children=5)
    assert_log_success(confirm(gql, admin_user, plan))
    task = Task.objects.get(business_event="validation-enrollment")
    task = approve(checker, task, vote="FAILED")
    assert task.status == "FAILED"
    assert not Beneficiary.objects.exists()
    upload = IndividualDataSourceUpload.objects.get()
    assert upload.status == "FAIL" and "Task Resolve" in upload.error


def test_completion_rechecks_existing_beneficiaries(admin_user, checker, make_plan, make_individual, enrol):
    plan = make_plan()
    first, second = make_individual("A", children=2), make_individual("B", children=2)
    EnrollmentService(admin_user).enroll_individuals(Individual.objects.all(), plan.id, "POTENTIAL",
                                                     maker_checker=True)
    enrol(plan, first)  # enrolled by another path while the task waits
    approve(checker, Task.objects.get(business_event="validation-enrollment"))
    assert sorted(Beneficiary.objects.filter(benefit_plan=plan).values_list("individual_id", flat=True)) == sorted(
        [first.id, second.id])
    assert Beneficiary.objects.filter(benefit_plan=plan, individual=first).count() == 1


def test_enrollment_bad_input_is_refused(gql, admin_user, make_plan, make_individual, config_override):
    config_override(enable_maker_checker_logic_enrollment=False)
    group_plan = make_plan(code="GRP", type="GROUP")
    make_individual(children=3)
    log = confirm(gql, admin_user, group_plan)
    assert_log_error(log, "individual benefit plan")
    plan = make_plan()
    assert_log_error(confirm(gql, admin_user, plan, status="NONSENSE"), "Invalid beneficiary status")
    assert not Beneficiary.objects.exists()


def _enrol_queries(user, plan, maker_checker):
    with CaptureQueriesContext(connection) as ctx:
        EnrollmentService(user).enroll_individuals(Individual.objects.filter(json_ext__number_of_children__gt=1),
                                                   plan.id, "POTENTIAL", maker_checker=maker_checker)
    return len(ctx.captured_queries)


@pytest.mark.parametrize("maker_checker", [False, True])
def test_statement_count_does_not_grow_with_n(admin_user, make_plan, maker_checker):
    small, large = make_plan(code="SMALL"), make_plan(code="LARGE")
    bulk_individuals(admin_user, 200)
    small_count = _enrol_queries(admin_user, small, maker_checker)
    bulk_individuals(admin_user, 1800)
    large_count = _enrol_queries(admin_user, large, maker_checker)
    assert large_count == small_count
    model_count = 2000 if not maker_checker else 0
    assert Beneficiary.objects.filter(benefit_plan=large).count() == model_count
    if not maker_checker:
        assert Beneficiary.history.filter(benefit_plan_id=large.id).count() == 2000
    else:
        assert IndividualDataSource.objects.count() == 2200 and IndividualDataSource.history.count() == 2200


def test_approval_statement_count_does_not_grow_with_n(admin_user, checker, make_plan):
    counts = []
    for code, n in (("A", 200), ("B", 2000)):
        plan = make_plan(code=code)
        bulk_individuals(admin_user, n, prefix=code)
        EnrollmentService(admin_user).enroll_individuals(Individual.objects.filter(last_name__startswith=code),
                                                         plan.id, "POTENTIAL", maker_checker=True)
        task = Task.objects.get(business_event="validation-enrollment", status="ACCEPTED")
        with CaptureQueriesContext(connection) as ctx:
            approve(checker, task)
        counts.append(len(ctx.captured_queries))
        assert Beneficiary.objects.filter(benefit_plan=plan).count() == n
    # the second run may reuse warm caches (content types, rights): never more statements for 10x rows
    assert counts[1] <= counts[0]


def test_group_enrollment(admin_user, checker, make_plan, make_individual, make_group, config_override):
    plan = make_plan(code="GRP", type="GROUP")
    head = make_individual("Head", children=4)
    rich = make_group("RICH", [(head, "HEAD"), (make_individual("Kid", children=0), "SON")])
    lonely = make_individual("Lonely", children=9)
    make_group("NOHEAD", [(lonely, None)])  # its only member becomes its HEAD (membership alignment)
    GroupService(admin_user).select_groups_to_benefit_plan([], str(plan.id), "POTENTIAL", admin_user)
    record = BenefitPlanDataUploadRecords.objects.get(benefit_plan=plan)
    assert record.data_upload.source_type == "beneficiary group import"
    assert record.data_upload.json_ext["enrolment_selection"]["group"] is True
    assert not IndividualDataSource.objects.filter(upload=record.data_upload).exists()
    task = Task.objects.get(business_event="validation-group-enrollment")
    assert task.json_ext["number_of_records"] == 2
    # the people the checker is shown: the HEAD of each selected group (the stored selection, re-run)
    _, stored = enrolment_selection_of_upload(record.data_upload_id)
    heads = set(stored.people().values_list("id", flat=True))
    approve(checker, task)
    enrolled = GroupBeneficiary.objects.filter(benefit_plan=plan)
    assert heads == {head.id, lonely.id}
    assert rich.id in set(enrolled.values_list("group_id", flat=True))
    rich_beneficiary = enrolled.get(group=rich)
    assert rich_beneficiary.json_ext == Individual.objects.get(id=head.id).json_ext
    assert GroupBeneficiary.history.filter(benefit_plan_id=plan.id).count() == enrolled.count()


def test_group_enrollment_direct_skips_groups_without_head(admin_user, make_plan, make_individual, make_group):
    plan = make_plan(code="GRP", type="GROUP")
    with_head = make_group("G1", [(make_individual("H", children=1), "HEAD")])
    without = make_group("G2", [])
    EnrollmentService(admin_user).enroll_groups(
        Group.objects.all(), plan.id, "ACTIVE",
        maker_checker=False)
    assert list(GroupBeneficiary.objects.values_list("group_id", flat=True)) == [with_head.id]
    assert without.id not in set(GroupBeneficiary.objects.values_list("group_id", flat=True))


def test_individual_selection_service_signal(admin_user, make_plan, make_individual, config_override):
    config_override(enable_maker_checker_logic_enrollment=False)
    plan = make_plan()
    make_individual(children=2)
    IndividualService(admin_user).select_individuals_to_benefit_plan([], str(plan.id), "POTENTIAL", admin_user)
    assert Beneficiary.objects.filter(benefit_plan=plan).count() == 1
