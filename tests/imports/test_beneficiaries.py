"""Beneficiary uploads (social_protection.md §4.5–§4.7, §5): the plan's schema validates, approval enrols."""
import csv
import io

import pytest

from individual.models import Group, GroupIndividual, Individual, IndividualDataSource
from social_protection.apps import SocialProtectionConfig
from social_protection.models import Beneficiary, GroupBeneficiary
from tasks_management.models import Task

from .conftest import api, approve, csv_file, post_import, upload_of

URL = "/api/social_protection/import_beneficiaries/"
PLAN_SCHEMA = {"type": "object", "properties": {
    "number_of_children": {"type": "integer", "minimum": 0},
    "educated_level": {"type": "string", "enum": ["none", "primary"]},
    "household": {"type": "string"},
}}
HEADER = "first_name,last_name,dob,number_of_children,educated_level,household,group_code,recipient_info"
ROWS = [
    "Ann,One,1990-01-02,2,primary,A,H1,1",
    "Bob,One,1992-03-04,0,none,A,H1,",
    "Cid,Two,1980-05-06,1,none,B,H2,",
    "Neg,Kids,1980-05-06,-1,none,B,H2,",
    "Bad,Level,1980-05-06,1,phd,B,H2,",
]


def post(clerk, plan, rows=ROWS, header=HEADER, **fields):
    return post_import(clerk, csv_file(rows, header=header), workflow="Python Beneficiaries Upload",
                       group="socialProtection", url=URL, benefit_plan=str(plan.id), **fields)


@pytest.mark.django_db
def test_individual_plan(clerk, checker, schema, plan_factory):
    plan = plan_factory(schema=PLAN_SCHEMA)
    upload = upload_of(post(clerk, plan))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    assert upload.source_type == "beneficiary import"
    task = Task.objects.get(source="import_valid_items")
    assert task.business_event == "validation.import_valid_items"
    assert task.json_ext["benefit_plan_code"] == plan.code
    errors = {s.json_ext["first_name"]: [e["field_name"] for e in s.validations["validation_errors"]]
              for s in IndividualDataSource.objects.filter(upload=upload)}
    assert errors == {"Ann": [], "Bob": [], "Cid": [], "Neg": ["number_of_children"], "Bad": ["educated_level"]}

    response = api(clerk).post("/api/social_protection/validate_import_beneficiaries/",
                               {"benefit_plan": str(plan.id), "upload_id": str(upload.id)}, format="json")
    assert response.status_code == 200
    assert len(response.json()["summary_invalid_items"]) == 2
    response = api(clerk).get(f"/api/social_protection/download_invalid_items/?upload_id={upload.id}")
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == [*HEADER.split(","), "id", "error"]
    assert sorted(r[0] for r in table[1:]) == ["Bad", "Neg"]
    assert [r[3] for r in table[1:] if r[0] == "Neg"] == ["'-1"]

    approve(checker)
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    assert not Task.objects.filter(source="import_group_valid_items").exists()
    beneficiaries = Beneficiary.objects.filter(benefit_plan=plan)
    assert sorted(b.individual.first_name for b in beneficiaries) == ["Ann", "Bob", "Cid"]
    assert {b.status for b in beneficiaries} == {"POTENTIAL"}
    ann = Individual.objects.get(first_name="Ann")
    assert ann.json_ext == {"number_of_children": 2, "educated_level": "primary", "household": "A"}
    assert ann.history.count() == 1
    assert not GroupBeneficiary.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("column, codes", [("household", None), ("", {"H1", "H2"})])
def test_group_plan(clerk, checker, schema, plan_factory, column, codes):
    plan = plan_factory(type="GROUP", schema=PLAN_SCHEMA)
    upload = upload_of(post(clerk, plan, group_aggregation_column=column))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    approve(checker)
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    assert not Task.objects.filter(source="import_group_valid_items").exists()
    groups = Group.objects.all()
    assert len(groups) == 2
    if codes:
        assert {g.code for g in groups} == codes
    enrolled = GroupBeneficiary.objects.filter(benefit_plan=plan)
    assert {b.group_id for b in enrolled} == {g.id for g in groups}
    assert {b.status for b in enrolled} == {"POTENTIAL"}
    assert not Beneficiary.objects.exists()
    sizes = sorted(GroupIndividual.objects.filter(group=g).count() for g in groups)
    assert sizes == [1, 2]


@pytest.mark.django_db
def test_plan_schema_decides_the_columns(clerk, checker, schema, plan_factory):
    plan = plan_factory(schema=PLAN_SCHEMA)
    upload = upload_of(post(clerk, plan, rows=["Ann,One,1990-01-02,a@example.org"],
                            header="first_name,last_name,dob,email"))
    upload.refresh_from_db()
    assert upload.status == "FAIL"
    assert upload.error == {"workflow": "Uploaded beneficiaries contains invalid columns: {'email'}"}


@pytest.mark.django_db
def test_without_maker_checker_the_plan_is_enrolled_at_once(clerk, schema, plan_factory, monkeypatch):
    monkeypatch.setattr(SocialProtectionConfig, "enable_maker_checker_for_beneficiary_upload", False)
    plan = plan_factory(schema=PLAN_SCHEMA)
    upload = upload_of(post(clerk, plan, rows=ROWS[:3]))
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert Beneficiary.objects.filter(benefit_plan=plan).count() == 3


@pytest.mark.django_db
def test_partial_vote_on_a_group_plan(clerk, checker, schema, plan_factory):
    from tasks_management.services import TaskService
    from .conftest import committed

    plan = plan_factory(type="GROUP", schema=PLAN_SCHEMA)
    upload = upload_of(post(clerk, plan, rows=ROWS[:3]))
    ids = {s.json_ext["first_name"]: str(s.id) for s in IndividualDataSource.objects.filter(upload=upload)}
    task = Task.objects.get(source="import_valid_items")
    for accepted in (["Ann"], ["Bob", "Cid"]):
        with committed():
            result = TaskService(checker).resolve_task({"id": str(task.id), "business_status": {
                str(checker.id): {"ACCEPT": [ids[n] for n in accepted]}}})
        assert result["success"], result
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert Group.objects.filter(code="H1").count() == 1
    assert GroupIndividual.objects.filter(group__code="H1").count() == 2
    assert GroupBeneficiary.objects.filter(benefit_plan=plan).count() == 2


@pytest.mark.django_db
def test_beneficiary_update(clerk, checker, schema, plan_factory, admin_user):
    from tests.individual.factories import IndividualFactory
    from tests.social_protection.factories import BeneficiaryFactory

    plan, other = plan_factory(schema=PLAN_SCHEMA), plan_factory(code="BP2", schema=PLAN_SCHEMA)
    person = IndividualFactory(first_name="Old", last_name="Name", dob="1990-01-01",
                               json_ext={"number_of_children": 1, "household": "A"}, acting_user=admin_user)
    mine = BeneficiaryFactory(individual=person, benefit_plan=plan, json_ext={"number_of_children": 1, "note": "x"},
                              acting_user=admin_user)
    elsewhere = BeneficiaryFactory(benefit_plan=other, acting_user=admin_user)
    header = "ID,first_name,last_name,dob,number_of_children"
    upload = upload_of(post_import(clerk, csv_file([f"{mine.id},New,,,3", f"{elsewhere.id},X,Y,1990-01-01,1"],
                                                   header=header),
                                   workflow="Python Beneficiaries Update", group="socialProtection", url=URL,
                                   benefit_plan=str(plan.id)))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    task = Task.objects.get(source="import_valid_items")
    assert task.business_event == "validation.upload_valid_items"
    errors = {s.json_ext["first_name"]: [e["field_name"] for e in s.validations["validation_errors"]]
              for s in IndividualDataSource.objects.filter(upload=upload)}
    assert errors == {"New": [], "X": ["ID"]}
    approve(checker)
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    mine.refresh_from_db()
    person.refresh_from_db()
    assert mine.json_ext == {"number_of_children": 3, "note": "x"}
    assert (person.first_name, person.last_name, str(person.dob)) == ("New", "Name", "1990-01-01")
    assert person.json_ext == {"number_of_children": 3}
    assert Individual.objects.count() == 2


@pytest.mark.django_db
def test_manual_steps_of_a_plan_upload(clerk, checker, schema, plan_factory, monkeypatch):
    plan, other = plan_factory(schema=PLAN_SCHEMA), plan_factory(code="BP2", schema=PLAN_SCHEMA)
    upload = upload_of(post(clerk, plan))
    client = api(clerk)

    def step(name, plan_id=plan.id, upload_id=upload.id):
        return client.post(f"/api/social_protection/{name}/", {"benefit_plan": str(plan_id),
                                                                "upload_id": str(upload_id)}, format="json")

    response = step("create_task_with_importing_valid_items")
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "An approval task is already pending for this upload"}
    assert step("validate_import_beneficiaries", plan_id=other.id).json() == {
        "success": False, "error": f"Upload not found: {upload.id}"}
    assert step("synchronize_data_for_reporting").status_code == 201
    approve(checker)
    response = step("create_task_with_importing_valid_items")
    assert response.status_code == 400
    assert response.json()["error"] == "No valid row of this upload waits to be imported"
    assert Task.objects.filter(source="import_valid_items").count() == 1
