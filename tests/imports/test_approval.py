"""Maker-checker of an upload (workflow.md §9.4 steps 5–8, individual.md §8.4–§8.5): approval through the
resolveTask mutation, what is written, households, partial votes, rejection, maker-checker switched off."""
import json
import re

import pytest

from individual.apps import IndividualConfig
from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    Individual,
    IndividualDataSource,
)
from tasks_management.models import Task
from tasks_management.services import TaskService

from .conftest import approve, committed, csv_file, post_import, upload_of

ROWS = [
    "Ann,One,1990-01-02,ann@example.org,N1,2,true,primary,H1,HEAD,1",
    "Bob,One,1992-03-04,bob@example.org,N2,0,yes,secondary,H1,SPOUSE,0",
    "Cat,One,1993-03-04,cat@example.org,N3,0,yes,secondary,H1,HEAD,1",
    "Dan,Two,1980-05-06,dan@example.org,N4,1,no,none,H2,,",
    "Eve,Two,1981-05-06,eve@example.org,N5,1,no,none,H2,son,2",
    "Fay,Solo,1982-05-06,fay@example.org,N6,1,no,none,,,",
]
BAD = "Bad,Date,06/05/1980,bad@example.org,N9,1,no,none,H2,,"


def uploaded(clerk, rows, header=None, **fields):
    upload = upload_of(post_import(clerk, csv_file(rows, **({"header": header} if header else {})), **fields))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    return upload


def vote(user, task, value, gql=None):
    with committed():
        if gql is not None:
            log = gql(user).mutate("resolveTask", {"id": str(task.id),
                                                   "businessStatus": json.dumps({str(user.id): value})})
            assert log.error is None, log.error
            return log
        result = TaskService(user).resolve_task({"id": str(task.id), "business_status": {str(user.id): value}})
        assert result["success"], result
        return result


def memberships(code):
    return {(m.individual.first_name, m.role, m.recipient_type)
            for m in GroupIndividual.objects.filter(group__code=code, is_deleted=False)}


@pytest.mark.django_db
def test_checker_approves_through_graphql_then_households(clerk, checker, schema, gql):
    upload = uploaded(clerk, ROWS + [BAD])
    task = Task.objects.get(source="import_valid_items")
    assert task.json_ext["data_upload_id"] == str(upload.id)
    assert task.json_ext["percentage_of_invalid_items"] == round(100 / 7, 2)
    refused = TaskService(clerk).resolve_task({"id": str(task.id), "business_status": {str(clerk.id): "APPROVED"}})
    assert not refused["success"]
    assert not Individual.objects.exists()

    vote(checker, task, "APPROVED", gql=gql)
    task.refresh_from_db()
    assert task.status == "COMPLETED"
    individuals = {i.first_name: i for i in Individual.objects.all()}
    assert set(individuals) == {"Ann", "Bob", "Cat", "Dan", "Eve", "Fay"}
    for individual in individuals.values():
        assert individual.history.count() == 1
        assert set(individual.json_ext) == {"email", "national_id", "number_of_children", "able_bodied",
                                            "educated_level"}
    assert str(individuals["Ann"].dob) == "1990-01-02"
    for source in IndividualDataSource.objects.filter(upload=upload):
        expected = source.json_ext.get("first_name")
        if expected == "Bad":
            assert source.individual_id is None
        else:
            assert source.individual.first_name == expected
    assert not Group.objects.exists()  # the households wait for their own approval
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION"
    assert GroupDataSource.objects.filter(upload=upload).count() == 2  # H1, H2; Fay has no household

    vote(checker, Task.objects.get(source="import_group_valid_items"), "APPROVED", gql=gql)
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    assert set(Group.objects.values_list("code", flat=True)) == {"H1", "H2"}
    # one HEAD and one PRIMARY: the file's first of each; H2 has neither, its first member becomes both
    assert memberships("H1") == {("Ann", "HEAD", "PRIMARY"), ("Bob", "SPOUSE", None), ("Cat", None, None)}
    assert memberships("H2") == {("Dan", "HEAD", "PRIMARY"), ("Eve", "SON", "SECONDARY")}
    assert all(s.group_id for s in GroupDataSource.objects.filter(upload=upload))
    h1 = Group.objects.get(code="H1")
    assert h1.json_ext["head"] == "Ann One"
    assert h1.history.count() == 1
    assert upload.json_ext["progress"]["rows_imported"] == 6


@pytest.mark.django_db
def test_all_valid_rows_end_in_success_and_an_existing_group_is_extended(clerk, checker, schema, admin_user):
    from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory

    old = IndividualFactory(first_name="Old", last_name="Head", json_ext={}, acting_user=admin_user)
    group = GroupFactory(code="H1", acting_user=admin_user)
    GroupIndividualFactory(group=group, individual=old, role="HEAD", recipient_type="PRIMARY", acting_user=admin_user)
    upload = uploaded(clerk, ROWS[:3])
    approve(checker)
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert Group.objects.filter(code="H1").count() == 1
    assert memberships("H1") == {("Old", "HEAD", "PRIMARY"), ("Ann", None, None), ("Bob", "SPOUSE", None),
                                 ("Cat", None, None)}
    group.refresh_from_db()
    assert group.json_ext["head"] == "Old Head"
    assert len(group.json_ext["members"]) == 4


@pytest.mark.django_db
def test_custom_aggregation_column_makes_random_codes(clerk, checker, schema):
    upload = uploaded(clerk, ROWS, group_aggregation_column="educated_level")
    approve(checker)
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    codes = list(Group.objects.values_list("code", flat=True))
    assert len(codes) == 3  # primary, secondary, none
    assert all(re.fullmatch(r"[A-Z0-9]{8}", code) for code in codes), codes
    sizes = sorted(GroupIndividual.objects.filter(group__code=c).count() for c in codes)
    assert sizes == [1, 2, 3]
    assert "H1" not in codes


@pytest.mark.django_db
def test_checker_fails_the_task(clerk, checker, schema, gql):
    upload = uploaded(clerk, ROWS)
    vote(checker, Task.objects.get(source="import_valid_items"), "FAILED", gql=gql)
    upload.refresh_from_db()
    assert upload.status == "FAIL"
    assert list(upload.error) == ["Task Resolve"]
    assert not Individual.objects.exists()
    assert not Group.objects.exists()
    assert not GroupDataSource.objects.exists()
    assert IndividualDataSource.objects.filter(upload=upload, individual__isnull=False).count() == 0


@pytest.mark.django_db
def test_households_refused_by_the_checker(clerk, checker, schema):
    upload = uploaded(clerk, ROWS)
    approve(checker)
    vote(checker, Task.objects.get(source="import_group_valid_items"), "FAILED")
    upload.refresh_from_db()
    assert Individual.objects.count() == 6
    assert not Group.objects.exists()
    assert upload.status in ("SUCCESS", "PARTIAL_SUCCESS"), upload.error
    assert not GroupDataSource.objects.filter(is_deleted=False).exists()


@pytest.mark.django_db
def test_partial_votes(clerk, checker, schema, gql):
    upload = uploaded(clerk, ROWS + [BAD])
    task = Task.objects.get(source="import_valid_items")
    ids = {s.json_ext["first_name"]: str(s.id) for s in IndividualDataSource.objects.filter(upload=upload)}
    vote(checker, task, {"ACCEPT": [ids["Ann"], ids["Bob"]], "REJECT": [ids["Dan"]]}, gql=gql)
    assert set(Individual.objects.values_list("first_name", flat=True)) == {"Ann", "Bob"}
    dan = IndividualDataSource.objects.get(id=ids["Dan"])
    assert dan.is_deleted
    assert dan.history.first().history_type == "~"
    assert dan.history.count() == 2
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION"
    task.refresh_from_db()
    assert task.status == "ACCEPTED"
    # a second vote: only what is new counts, the rows already decided are left as they are
    vote(checker, task, {"ACCEPT": [ids["Ann"], ids["Cat"], ids["Eve"]], "REJECT": [ids["Fay"], ids["Bob"]]}, gql=gql)
    assert set(Individual.objects.values_list("first_name", flat=True)) == {"Ann", "Bob", "Cat", "Eve"}
    assert Individual.objects.get(first_name="Ann").history.count() == 1
    assert not IndividualDataSource.objects.get(id=ids["Bob"]).is_deleted
    task.refresh_from_db()
    assert task.status == "COMPLETED", task.business_status  # every valid row is decided
    assert Task.objects.filter(source="import_group_valid_items").count() == 1
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    # H1 came in two payloads (two partial approvals): one household
    assert Group.objects.filter(code="H1").count() == 1
    assert memberships("H1") == {("Ann", "HEAD", "PRIMARY"), ("Bob", "SPOUSE", None), ("Cat", None, None)}
    assert memberships("H2") == {("Eve", "SON", "PRIMARY")} or memberships("H2") == {("Eve", "HEAD", "PRIMARY")}
    assert upload.json_ext["progress"]["rows_rejected"] == 2


@pytest.mark.django_db
def test_partial_vote_rejecting_everything_left(clerk, checker, schema):
    upload = uploaded(clerk, ROWS[:2] + [BAD])
    task = Task.objects.get(source="import_valid_items")
    ids = [str(i) for i in IndividualDataSource.objects.filter(upload=upload, json_ext__first_name__in=["Ann", "Bob"])
           .values_list("id", flat=True)]
    vote(checker, task, {"REJECT": ids})
    upload.refresh_from_db()
    task.refresh_from_db()
    assert task.status == "COMPLETED"
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    assert not Individual.objects.exists()
    assert not Task.objects.filter(source="import_group_valid_items").exists()


@pytest.mark.django_db
def test_without_maker_checker_the_rows_are_imported_at_once(clerk, schema, monkeypatch):
    monkeypatch.setattr(IndividualConfig, "enable_maker_checker_for_individual_upload", False)
    monkeypatch.setattr(IndividualConfig, "enable_maker_checker_for_group_upload", False)
    upload = upload_of(post_import(clerk, csv_file(ROWS)))
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert not Task.objects.exists()
    assert Individual.objects.count() == 6
    assert memberships("H1") == {("Ann", "HEAD", "PRIMARY"), ("Bob", "SPOUSE", None), ("Cat", None, None)}


@pytest.mark.django_db
def test_without_maker_checker_for_rows_the_households_still_wait(clerk, checker, schema, monkeypatch):
    monkeypatch.setattr(IndividualConfig, "enable_maker_checker_for_individual_upload", False)
    upload = upload_of(post_import(clerk, csv_file(ROWS)))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    assert Individual.objects.count() == 6
    assert not Group.objects.exists()
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert Group.objects.count() == 2


@pytest.mark.django_db
def test_partial_vote_on_the_households(clerk, checker, schema):
    upload = uploaded(clerk, ROWS)
    approve(checker)
    task = Task.objects.get(source="import_group_valid_items")
    sources = {s.json_ext["code"]: str(s.id) for s in GroupDataSource.objects.filter(upload=upload)}
    vote(checker, task, {"ACCEPT": [sources["H1"]]})
    assert list(Group.objects.values_list("code", flat=True)) == ["H1"]
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION"
    vote(checker, task, {"REJECT": [sources["H2"]]})
    assert GroupDataSource.objects.get(id=sources["H2"]).is_deleted
    task.refresh_from_db()
    assert task.status == "COMPLETED"
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert list(Group.objects.values_list("code", flat=True)) == ["H1"]
    assert Individual.objects.count() == 6


@pytest.mark.django_db
def test_the_template_is_a_valid_header(clerk, checker, schema):
    from .conftest import api

    response = api(clerk).get("/api/individual/download_template_file/")
    header = b"".join(response.streaming_content).decode().strip()
    row = {"first_name": "Ann", "last_name": "One", "dob": "1990-01-02", "group_code": "H1", "recipient_info": "1",
           "individual_role": "HEAD", "email": "ann@example.org"}
    line = ",".join(row.get(column, "") for column in header.split(","))
    upload = uploaded(clerk, [line], header=header)
    approve(checker)
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert Individual.objects.get().json_ext == {"email": "ann@example.org"}
    assert memberships("H1") == {("Ann", "HEAD", "PRIMARY")}


@pytest.mark.django_db
def test_households_approved_after_the_registry_changed(clerk, checker, schema, admin_user):
    from tests.individual.factories import GroupFactory

    existing = GroupFactory(code="H1", acting_user=admin_user)
    upload = uploaded(clerk, ROWS)
    approve(checker)
    payload = GroupDataSource.objects.get(upload=upload, json_ext__code="H1").json_ext
    assert payload["id"] == str(existing.id)  # the checker is shown an extension of H1
    existing.is_deleted = True
    existing.save(user=admin_user)
    gone = Individual.objects.get(first_name="Bob")
    gone.is_deleted = True
    gone.save(user=admin_user)
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    live = Group.objects.get(code="H1", is_deleted=False)
    assert live.id != existing.id
    assert memberships("H1") == {("Ann", "HEAD", "PRIMARY"), ("Cat", None, None)}
    assert not GroupIndividual.objects.filter(group=existing).exists()


@pytest.mark.django_db
def test_a_failure_while_applying_rolls_everything_back(clerk, checker, schema, monkeypatch):
    from individual import imports

    upload = uploaded(clerk, ROWS)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(imports, "build_households", broken)
    approve(checker)
    upload.refresh_from_db()
    assert upload.status == "FAIL"
    assert list(upload.error) == ["Task Resolve"]
    assert "secret" not in str(upload.error)
    assert not Individual.objects.exists()
    assert not IndividualDataSource.objects.filter(upload=upload, individual__isnull=False).exists()


@pytest.mark.django_db
def test_a_failure_while_staging_leaves_no_rows(clerk, checker, schema, monkeypatch):
    from individual import imports

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(imports, "_check_across_rows", broken)
    upload = upload_of(post_import(clerk, csv_file(ROWS)))
    upload.refresh_from_db()
    assert upload.status == "FAIL"
    assert list(upload.error) == ["workflow"]
    assert "secret" not in str(upload.error)
    assert not IndividualDataSource.objects.filter(upload=upload, is_deleted=False).exists()
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_a_vote_naming_unknown_rows_changes_nothing(clerk, checker, schema):
    upload = uploaded(clerk, ROWS)
    task = Task.objects.get(source="import_valid_items")
    ann = str(IndividualDataSource.objects.get(upload=upload, json_ext__first_name="Ann").id)
    with committed():
        result = TaskService(checker).resolve_task({"id": str(task.id), "business_status": {
            str(checker.id): {"ACCEPT": ["not-a-row", ann, 7], "REJECT": ["../x", None]}}})
    assert result["success"], result
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    assert list(Individual.objects.values_list("first_name", flat=True)) == ["Ann"]
    assert not IndividualDataSource.objects.filter(is_deleted=True).exists()


@pytest.mark.django_db
def test_failing_the_task_after_partial_approvals_keeps_what_was_approved(clerk, checker, schema):
    upload = uploaded(clerk, ROWS)
    task = Task.objects.get(source="import_valid_items")
    ann = str(IndividualDataSource.objects.get(upload=upload, json_ext__first_name="Ann").id)
    vote(checker, task, {"ACCEPT": [ann]})
    vote(checker, task, "FAILED")
    assert list(Individual.objects.values_list("first_name", flat=True)) == ["Ann"]
    assert IndividualDataSource.objects.filter(upload=upload, is_deleted=True).count() == len(ROWS) - 1
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    assert memberships("H1") == {("Ann", "HEAD", "PRIMARY")}


HOUSEHOLD_CASES = [
    # no head, no primary: the first member is both
    "Gia,Alpha,1990-01-02,gia@example.org,A1,0,true,none,HA,SON,",
    "Hal,Alpha,1990-01-02,hal@example.org,A2,0,true,none,HA,DAUGHTER,",
    # two heads, two primaries: the first of each keeps it, a second primary stays a member
    "Ida,Beta,1990-01-02,ida@example.org,B1,0,true,none,HB,SPOUSE,1",
    "Jon,Beta,1990-01-02,jon@example.org,B2,0,true,none,HB,head,1",
    "Kim,Beta,1990-01-02,kim@example.org,B3,0,true,none,HB,HEAD,2",
    # a primary but no head: no head is made up (the registry keeps such a household)
    "Lou,Gamma,1990-01-02,lou@example.org,C1,0,true,none,HC,SON,",
    "Max,Gamma,1990-01-02,max@example.org,C2,0,true,none,HC,MOTHER,1",
]


@pytest.mark.django_db
def test_households_follow_the_alignment_rules_and_mirror_their_head(clerk, checker, schema):
    from individual.membership import group_json_ext

    upload = uploaded(clerk, HOUSEHOLD_CASES)
    approve(checker)
    approve(checker, "import_group_valid_items")
    upload.refresh_from_db()
    assert upload.status == "SUCCESS", upload.error
    assert memberships("HA") == {("Gia", "HEAD", "PRIMARY"), ("Hal", "DAUGHTER", None)}
    assert memberships("HB") == {("Ida", "SPOUSE", "PRIMARY"), ("Jon", "HEAD", None), ("Kim", None, "SECONDARY")}
    assert memberships("HC") == {("Lou", "SON", None), ("Max", "MOTHER", "PRIMARY")}
    for group in Group.objects.all():
        rows = GroupIndividual.objects.filter(group=group, is_deleted=False).select_related("individual") \
            .order_by("date_created", "id")
        # the set-based json_ext is the one the per-row services compute
        assert group.json_ext == group_json_ext({}, [(m.individual, m.role, m.recipient_type) for m in rows])
        assert GroupDataSource.objects.get(group=group).id == group.id  # a new group takes its source's id
    head = Individual.objects.get(first_name="Jon")
    assert Group.objects.get(code="HB").json_ext["head_id"] == str(head.id)
    assert Group.history.filter(history_type="+").count() == 3
    assert GroupIndividual.history.filter(history_type="+").count() == len(HOUSEHOLD_CASES)
