"""Registry and enrolment rules a client could break (issue 10, items 13, 14 and 25), sent as the frontend
sends them: GraphQL mutations over HTTP with a bearer token, the outcome read from the mutation log and the
database. The maker-checker flags keep their defaults (on) unless a test says otherwise."""
import datetime
import json

import pytest

from core.test_helpers import Enum, assert_log_error, assert_log_success, create_test_village
from individual.models import Group, GroupIndividual, Individual
from social_protection.models import Beneficiary, BenefitPlan, GroupBeneficiary
from tasks_management.models import Task
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import BenefitPlanFactory

pytestmark = pytest.mark.django_db

REGISTRY_RIGHTS = [159001, 159002, 159003, 159004, 159005, 180001, 180002, 180003, 180004]
ENROLMENT_RIGHTS = [160001, 160002, 160003, 170001, 170002, 170003, 170004, 171001, 171002]
SOURCES = ["IndividualService", "GroupIndividualService", "GroupService", "CreateGroupAndMoveIndividualService",
           "BeneficiaryService", "GroupBeneficiaryService", "BenefitPlanService", "import_valid_items"]


@pytest.fixture
def maker(make_user):
    """A registry clerk (not an administrator): every registry and enrolment right."""
    return make_user("sec_registry_clerk", rights=REGISTRY_RIGHTS + ENROLMENT_RIGHTS)


@pytest.fixture
def checker(make_user, admin_user):
    from tasks_management.services import TaskGroupService

    user = make_user("sec_registry_checker", rights=[191001, *REGISTRY_RIGHTS, *ENROLMENT_RIGHTS])
    result = TaskGroupService(admin_user).create({"code": "sec-checkers", "completion_policy": "ANY",
                                                  "user_ids": [str(user.id)], "task_sources": SOURCES})
    assert result["success"], result
    return user


def _individual(user, first="Ann", last="Ray", **fields):
    return IndividualFactory(first_name=first, last_name=last, dob=datetime.date(1990, 1, 1), json_ext={},
                             acting_user=user, **fields)


def _household(user, code="HH1"):
    """A group whose head (and primary recipient) is ``head``, with a second member ``son``."""
    group = GroupFactory(code=code, acting_user=user)
    head, son = _individual(user, "Hea", "D"), _individual(user, "So", "N")
    GroupIndividualFactory(group=group, individual=head, role="HEAD", recipient_type="PRIMARY", acting_user=user)
    GroupIndividualFactory(group=group, individual=son, role="SON", acting_user=user)
    group.refresh_from_db()
    return group, head, son


def _membership(group, individual):
    return GroupIndividual.objects.get(group=group, individual=individual)


def _pending(event):
    return Task.objects.filter(business_event=event, status__in=Task.PENDING_STATUSES)


def _approve(gql, checker, task):
    log = gql(checker).mutate("resolveTask", {"id": str(task.id),
                                              "businessStatus": json.dumps({str(checker.id): "APPROVED"})})
    assert_log_success(log)
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    return task


# --- item 13: the household head (the payment recipient) changes only through the checker -------------------
def test_remove_then_add_as_head_waits_for_the_checker(gql, maker, checker, admin_user):
    group, head, son = _household(admin_user)
    stranger = _individual(admin_user, "New", "Head")
    client = gql(maker)
    assert_log_success(client.mutate("removeIndividualFromGroup", {"ids": [str(_membership(group, head).id)]}))
    assert not _membership(group, head).is_deleted, "the head was removed without approval"
    assert _pending("GroupIndividualService.delete").count() == 1
    assert_log_success(client.mutate("addIndividualToGroup", {
        "groupId": str(group.id), "individualId": str(stranger.id), "role": Enum("HEAD")}))
    assert not GroupIndividual.objects.filter(group=group, individual=stranger).exists()
    assert _pending("GroupIndividualService.create").count() == 1
    group.refresh_from_db()
    assert group.json_ext["head_id"] == str(head.id) and group.json_ext["primary_recipient_id"] == str(head.id)

    # the checker approves both: then (and only then) the household changes
    _approve(gql, checker, _pending("GroupIndividualService.delete").get())
    _approve(gql, checker, _pending("GroupIndividualService.create").get())
    group.refresh_from_db()
    assert group.json_ext["head_id"] == str(stranger.id)
    assert _membership(group, head).is_deleted


def test_adding_as_primary_recipient_waits_for_the_checker(gql, maker, checker, admin_user):
    group, head, _son = _household(admin_user)
    newcomer = _individual(admin_user, "Pay", "Me")
    assert_log_success(gql(maker).mutate("addIndividualToGroup", {
        "groupId": str(group.id), "individualId": str(newcomer.id), "recipientType": Enum("PRIMARY")}))
    assert not GroupIndividual.objects.filter(individual=newcomer).exists()
    group.refresh_from_db()
    assert group.json_ext["primary_recipient_id"] == str(head.id)


def test_replacing_members_through_update_group_waits_for_the_checker(gql, maker, checker, admin_user):
    group, head, son = _household(admin_user)
    stranger = _individual(admin_user, "Other", "Head")
    assert_log_success(gql(maker).mutate("updateGroup", {"id": str(group.id), "individualsData": [
        {"individualId": str(son.id)}, {"individualId": str(stranger.id), "role": Enum("HEAD")}]}))
    group.refresh_from_db()
    assert group.json_ext["head_id"] == str(head.id)
    assert not _membership(group, head).is_deleted
    assert _pending("GroupService.update").count() == 1


def test_ordinary_members_still_come_and_go_directly(gql, maker, checker, admin_user):
    group, head, son = _household(admin_user)
    daughter = _individual(admin_user, "Dau", "Ghter")
    client = gql(maker)
    assert_log_success(client.mutate("addIndividualToGroup", {
        "groupId": str(group.id), "individualId": str(daughter.id), "role": Enum("DAUGHTER")}))
    assert _membership(group, daughter).role == "DAUGHTER"
    assert_log_success(client.mutate("removeIndividualFromGroup", {"ids": [str(_membership(group, son).id)]}))
    assert _membership(group, son).is_deleted
    assert not Task.objects.exists()
    # a new household gets its first head directly too
    empty = GroupFactory(code="EMPTY", acting_user=admin_user)
    assert_log_success(client.mutate("addIndividualToGroup", {
        "groupId": str(empty.id), "individualId": str(_individual(admin_user, "Fir", "St").id),
        "role": Enum("HEAD")}))
    empty.refresh_from_db()
    assert empty.json_ext["head"] == "Fir St"


def test_undo_delete_of_an_approved_deletion_waits_for_the_checker(gql, maker, checker, admin_user):
    individual = _individual(admin_user)
    client = gql(maker)
    assert_log_success(client.mutate("deleteIndividual", {"ids": [str(individual.id)]}))
    _approve(gql, checker, _pending("IndividualService.delete").get())
    assert Individual.objects.get(id=individual.id).is_deleted
    assert_log_success(client.mutate("undoDeleteIndividual", {"ids": [str(individual.id)]}))
    assert Individual.objects.get(id=individual.id).is_deleted, "the approved deletion was reversed directly"
    task = _pending("IndividualService.undo_delete").get()
    assert task.entity_id == str(individual.id)
    _approve(gql, checker, task)
    assert not Individual.objects.get(id=individual.id).is_deleted


def test_without_the_flags_undo_delete_and_head_changes_stay_direct(gql, maker, admin_user, monkeypatch):
    from individual.apps import IndividualConfig

    for flag in ("check_individual_delete", "check_group_individual_update"):
        monkeypatch.setattr(IndividualConfig, flag, False)
    individual = _individual(admin_user)
    individual.delete(user=admin_user)
    client = gql(maker)
    assert_log_success(client.mutate("undoDeleteIndividual", {"ids": [str(individual.id)]}))
    assert not Individual.objects.get(id=individual.id).is_deleted
    group, head, son = _household(admin_user)
    assert_log_success(client.mutate("removeIndividualFromGroup", {"ids": [str(_membership(group, head).id)]}))
    group.refresh_from_db()
    assert group.json_ext["head_id"] == str(son.id)
    assert not Task.objects.exists()


# --- item 14: soft-deleted individuals are neither members nor beneficiaries -------------------------------
@pytest.fixture
def deleted(admin_user):
    individual = _individual(admin_user, "Gone", "Away")
    individual.delete(user=admin_user)
    return individual


def test_deleted_individual_cannot_join_a_household(gql, maker, admin_user, deleted):
    group, _head, _son = _household(admin_user)
    client = gql(maker)
    log = client.mutate("addIndividualToGroup", {"groupId": str(group.id), "individualId": str(deleted.id),
                                                 "role": Enum("SON")})
    assert_log_error(log, "is deleted")
    log = client.mutate("createGroup", {"code": "GHOSTS", "individualsData": [{"individualId": str(deleted.id)}]})
    assert_log_error(log, "is deleted")
    assert not GroupIndividual.objects.filter(individual=deleted).exists()
    assert not Group.objects.filter(code="GHOSTS").exists()


def test_member_cannot_move_into_a_deleted_group(gql, maker, admin_user, monkeypatch):
    from individual.apps import IndividualConfig

    monkeypatch.setattr(IndividualConfig, "check_group_individual_update", False)
    group, _head, son = _household(admin_user)
    gone = GroupFactory(code="GONE", acting_user=admin_user)
    gone.delete(user=admin_user)
    log = gql(maker).mutate("editIndividualInGroup", {"id": str(_membership(group, son).id),
                                                      "groupId": str(gone.id), "individualId": str(son.id)})
    assert_log_error(log, "is deleted")
    assert not GroupIndividual.objects.filter(group=gone).exists()


def test_deleted_individual_cannot_become_a_beneficiary(gql, maker, admin_user, deleted):
    plan = BenefitPlanFactory(code="SECBP", type="INDIVIDUAL", beneficiary_data_schema=None, acting_user=admin_user)
    log = gql(maker).mutate("createBeneficiary", {"benefitPlanId": str(plan.id), "individualId": str(deleted.id),
                                                  "status": Enum("POTENTIAL")})
    assert_log_error(log, "is deleted")
    assert not Task.objects.exists() and not Beneficiary.objects.exists()


def test_deleted_group_cannot_become_a_group_beneficiary(gql, maker, admin_user):
    plan = BenefitPlanFactory(code="SECGP", type="GROUP", beneficiary_data_schema=None, acting_user=admin_user)
    group, _head, _son = _household(admin_user)
    group.delete(user=admin_user)
    log = gql(maker).mutate("createGroupBeneficiary", {"benefitPlanId": str(plan.id), "groupId": str(group.id),
                                                       "status": Enum("POTENTIAL")})
    assert_log_error(log, "is deleted")
    assert not GroupBeneficiary.objects.exists()


def test_individual_deleted_while_the_beneficiary_task_waits_is_not_enrolled(gql, maker, checker, admin_user):
    plan = BenefitPlanFactory(code="SECBP2", type="INDIVIDUAL", beneficiary_data_schema=None, acting_user=admin_user)
    individual = _individual(admin_user)
    assert_log_success(gql(maker).mutate("createBeneficiary", {
        "benefitPlanId": str(plan.id), "individualId": str(individual.id), "status": Enum("POTENTIAL")}))
    task = _pending("BeneficiaryService.create").get()
    individual.delete(user=admin_user)
    _approve(gql, checker, task)
    assert not Beneficiary.objects.exists()
    task.refresh_from_db()
    assert task.json_ext["business_effect"]["success"] is False
    assert "is deleted" in task.json_ext["business_effect"]["detail"]


def test_individual_deleted_while_the_enrolment_task_waits_is_not_enrolled(gql, maker, checker, admin_user):
    plan = BenefitPlanFactory(code="SECBP3", type="INDIVIDUAL", beneficiary_data_schema=None, acting_user=admin_user)
    kept, dropped = _individual(admin_user, "Kept", "One"), _individual(admin_user, "Dropped", "One")
    assert_log_success(gql(admin_user).mutate("confirmIndividualEnrollment", {
        "benefitPlanId": str(plan.id), "status": "POTENTIAL", "customFilters": []}))
    task = Task.objects.get(business_event="validation-enrollment")
    dropped.delete(user=admin_user)
    _approve(gql, checker, task)
    assert list(Beneficiary.objects.values_list("individual_id", flat=True)) == [kept.id]


def test_group_whose_head_was_deleted_while_the_enrolment_task_waits_is_not_enrolled(gql, checker, admin_user):
    plan = BenefitPlanFactory(code="SECGP3", type="GROUP", beneficiary_data_schema=None, acting_user=admin_user)
    kept, _h1, _s1 = _household(admin_user, "KEPT")
    dropped, dropped_head, _s2 = _household(admin_user, "DROPPED")
    assert_log_success(gql(admin_user).mutate("confirmGroupEnrollment", {
        "benefitPlanId": str(plan.id), "status": "POTENTIAL", "customFilters": []}))
    task = Task.objects.get(business_event="validation-group-enrollment")
    dropped_head.delete(user=admin_user)
    _approve(gql, checker, task)
    assert list(GroupBeneficiary.objects.values_list("group_id", flat=True)) == [kept.id]


# --- item 25: input gaps ------------------------------------------------------------------------------------
def _create_individual(gql, user, **fields):
    return gql(user).mutate("createIndividual", {"firstName": "Ina", "lastName": "Put", "dob": "1990-01-01",
                                                 **fields})


def test_dob_in_the_future_is_refused(gql, maker):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    assert_log_error(_create_individual(gql, maker, dob=tomorrow), "dob can't be in the future")
    assert not Individual.objects.exists()


def test_dob_in_the_future_is_refused_on_update_too(gql, maker, admin_user, monkeypatch):
    from individual.apps import IndividualConfig

    monkeypatch.setattr(IndividualConfig, "check_individual_update", False)
    individual = _individual(admin_user)
    log = gql(maker).mutate("updateIndividual", {"id": str(individual.id), "firstName": "Ann", "lastName": "Ray",
                                                 "dob": "2999-01-01"})
    assert_log_error(log, "dob can't be in the future")


@pytest.mark.parametrize("mutation", ["createIndividual", "createBenefitPlan", "createBeneficiary"])
def test_json_array_as_json_ext_is_refused(gql, admin_user, mutation):
    plan = BenefitPlanFactory(code="SECJS", type="INDIVIDUAL", beneficiary_data_schema=None, acting_user=admin_user)
    params = {
        "createIndividual": {"firstName": "Ina", "lastName": "Put", "dob": "1990-01-01"},
        "createBenefitPlan": {"code": "ARR", "name": "Array plan", "type": Enum("INDIVIDUAL"),
                              "dateValidFrom": "2024-01-01", "dateValidTo": "2030-01-01"},
        "createBeneficiary": {"benefitPlanId": str(plan.id), "individualId": str(_individual(admin_user).id),
                              "status": Enum("POTENTIAL")},
    }[mutation]
    log = gql(admin_user).mutate(mutation, {**params, "jsonExt": "[1, 2, 3]"})
    assert_log_error(log, "json_ext must be a JSON object")
    assert not Individual.objects.filter(first_name="Ina").exists()
    assert not BenefitPlan.objects.filter(code="ARR").exists()
    assert not Beneficiary.objects.exists() and not Task.objects.exists()


@pytest.mark.parametrize("mutation, params", [
    ("createIndividual", {"firstName": "Nu\u0000ll", "lastName": "Byte", "dob": "1990-01-01"}),
    ("createIndividual", {"firstName": "Null", "lastName": "By\u0000te", "dob": "1990-01-01"}),
    ("createIndividual", {"firstName": "Null", "lastName": "Json", "dob": "1990-01-01",
                          "jsonExt": json.dumps({"note": "a\u0000b"})}),
    ("createGroup", {"code": "G\u00001"}),
    ("createBenefitPlan", {"code": "N\u0000L", "name": "Nul plan", "type": Enum("INDIVIDUAL"),
                           "dateValidFrom": "2024-01-01", "dateValidTo": "2030-01-01"}),
    ("createTicket", {"category": "Default", "title": "nul \u0000 title"}),
])
def test_nul_bytes_in_names_are_refused(gql, admin_user, mutation, params):
    log = gql(admin_user).mutate(mutation, params)
    assert_log_error(log, "NUL")
    assert not Individual.objects.exists() and not Group.objects.exists()
    assert not BenefitPlan.objects.exists()
    from grievance_social_protection.models import Ticket

    assert not Ticket.objects.exists()


@pytest.mark.parametrize("level", ["R", "D", "W"])
def test_individual_and_group_locations_are_villages(gql, admin_user, level):
    village = create_test_village("SEC")
    location = {"R": village.parent.parent.parent, "D": village.parent.parent, "W": village.parent}[level]
    assert_log_error(_create_individual(gql, admin_user, locationId=location.id), "must be a village")
    assert_log_error(gql(admin_user).mutate("createGroup", {"code": "REGION", "locationId": location.id}),
                     "must be a village")
    assert not Individual.objects.exists() and not Group.objects.exists()
    assert_log_success(_create_individual(gql, admin_user, locationId=village.id))


def test_individual_cannot_move_to_a_region(gql, admin_user, monkeypatch):
    from individual.apps import IndividualConfig

    monkeypatch.setattr(IndividualConfig, "check_individual_update", False)
    village = create_test_village("SECU")
    individual = _individual(admin_user, location=village)
    log = gql(admin_user).mutate("updateIndividual", {"id": str(individual.id), "firstName": "Ann",
                                                      "lastName": "Ray", "dob": "1990-01-01",
                                                      "locationId": village.parent.parent.parent.id})
    assert_log_error(log, "must be a village")
    individual.refresh_from_db()
    assert individual.location_id == village.id


@pytest.mark.parametrize("field, value", [("ceilingPerBeneficiary", "-500.00"), ("maxBeneficiaries", -1)])
def test_negative_plan_amounts_are_refused(gql, admin_user, field, value):
    log = gql(admin_user).mutate("createBenefitPlan", {
        "code": "NEG", "name": "Negative", "type": Enum("INDIVIDUAL"), "dateValidFrom": "2024-01-01",
        "dateValidTo": "2030-01-01", field: value})
    assert_log_error(log, "can't be negative")
    assert not BenefitPlan.objects.exists()


def test_negative_plan_amounts_are_refused_on_update(gql, admin_user, checker):
    plan = BenefitPlanFactory(code="POS", type="INDIVIDUAL", beneficiary_data_schema=None, acting_user=admin_user)
    log = gql(admin_user).mutate("updateBenefitPlan", {"id": str(plan.id), "ceilingPerBeneficiary": "-1"})
    assert_log_error(log, "can't be negative")
    assert not Task.objects.exists()


def test_role_name_longer_than_its_column_is_refused(gql, admin_user):
    from core.models import Role

    log = gql(admin_user).mutate("createRole", {"name": "R" * 51, "rightsId": [159001]})
    assert_log_error(log, "at most 50 characters")
    assert not Role.objects.filter(name__startswith="RRRR").exists()


def test_username_longer_than_its_column_is_refused(gql, admin_user):
    from core.models import User

    log = gql(admin_user).mutate("createUser", {"username": "u" * 151, "lastName": "Long", "otherNames": "Name",
                                                "language": "en", "password": "Sweep-Pass-123!"})
    assert_log_error(log, "at most 150 characters")
    assert not User.objects.filter(username__startswith="uuuu").exists()


def test_json_ext_names_and_dob_are_synced_on_create_as_on_update(gql, admin_user):
    log = _create_individual(gql, admin_user, firstName="Real", lastName="Name", dob="1990-01-01",
                             jsonExt=json.dumps({"first_name": "Fake", "last_name": "Other", "dob": "1900-01-01",
                                                 "email": "a@b.c"}))
    assert_log_success(log)
    individual = Individual.objects.get()
    assert individual.json_ext == {"first_name": "Real", "last_name": "Name", "dob": "1990-01-01",
                                   "email": "a@b.c"}
