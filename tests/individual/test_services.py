import datetime
import json

import pytest

from individual.apps import IndividualConfig
from individual.models import Group, GroupIndividual, Individual
from individual.services import (
    CreateGroupAndMoveIndividualService,
    GroupIndividualService,
    GroupService,
    IndividualService,
)

from .conftest import add_member, make_group, make_individual

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email"},
        "number_of_children": {"type": "integer", "minimum": 0},
        "able_bodied": {"type": "boolean"},
    },
    "required": ["number_of_children"],
}


@pytest.fixture
def schema(monkeypatch):
    monkeypatch.setattr(IndividualConfig, "individual_schema", json.dumps(SCHEMA))


def test_individual_crud_with_history(admin_user):
    service = IndividualService(admin_user)
    result = service.create({"first_name": "Ana", "last_name": "Lee", "dob": "1990-01-02"})
    assert result["success"], result
    obj = Individual.objects.get(id=result["data"]["id"])
    assert obj.json_ext == {} and str(obj) == "Ana Lee"

    result = service.update({"id": str(obj.id), "first_name": "Anna", "json_ext": {"first_name": "Ana", "x": 1}})
    assert result["success"], result
    obj.refresh_from_db()
    assert obj.first_name == "Anna" and obj.json_ext == {"first_name": "Anna", "x": 1}  # json_ext follows the name
    assert obj.version == 2

    assert service.delete({"id": str(obj.id)})["success"]
    obj.refresh_from_db()
    assert obj.is_deleted
    assert obj.history.count() == 3


def test_undo_delete(admin_user):
    obj = make_individual(admin_user)
    service = IndividualService(admin_user)
    result = service.undo_delete({"id": str(obj.id)})
    assert not result["success"] and result["detail"] == f"Individual {obj.id} is not deleted."
    service.delete({"id": str(obj.id)})
    assert service.undo_delete({"id": str(obj.id)})["success"]
    obj.refresh_from_db()
    assert not obj.is_deleted


def test_anonymous_service_call_is_refused():
    from django.contrib.auth.models import AnonymousUser

    result = IndividualService(AnonymousUser()).create({"first_name": "a", "last_name": "b", "dob": "2000-01-01"})
    assert result == {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}


def test_json_ext_schema_errors_reported_per_field(admin_user, schema):
    service = IndividualService(admin_user)
    result = service.create({"first_name": "A", "last_name": "B", "dob": "2000-01-01",
                             "json_ext": {"email": "not-an-email", "able_bodied": "yes"}})
    assert not result["success"]
    assert "email:" in result["detail"]
    assert "able_bodied:" in result["detail"]
    assert "number_of_children:" in result["detail"]
    assert Individual.objects.count() == 0

    ok = service.create({"first_name": "A", "last_name": "B", "dob": "2000-01-01",
                         "json_ext": {"email": "a@b.org", "number_of_children": 2}})
    assert ok["success"], ok


def test_json_ext_errors_helper_lists_fields(schema):
    from individual.validation import json_ext_errors

    errors = json_ext_errors({"number_of_children": -1})
    assert errors == [{"field": "number_of_children", "message": "-1 is less than the minimum of 0"}]


def test_group_create_with_members_and_alignment(admin_user):
    a = make_individual(admin_user, "Ann", "One", json_ext={"educated_level": "primary"})
    b = make_individual(admin_user, "Ben", "Two")
    result = GroupService(admin_user).create({"code": "H1", "individuals_data": [
        {"individual_id": str(a.id)}, {"individual_id": str(b.id), "role": "SON"}]})
    assert result["success"], result
    group = Group.objects.get(id=result["data"]["id"])
    memberships = {m.individual_id: m for m in GroupIndividual.objects.filter(group=group)}
    assert set(memberships) == {a.id, b.id}
    # the first member defaults to HEAD + PRIMARY
    assert memberships[a.id].role == "HEAD" and memberships[a.id].recipient_type == "PRIMARY"
    assert memberships[b.id].role == "SON" and memberships[b.id].recipient_type is None
    assert group.json_ext["members"] == {str(a.id): "Ann One", str(b.id): "Ben Two"}
    assert group.json_ext["head"] == "Ann One" and group.json_ext["primary_recipient_id"] == str(a.id)
    assert group.json_ext["educated_level"] == "primary"  # head's attributes mirrored


def test_one_head_and_one_primary(admin_user):
    group = make_group(admin_user)
    a, b = make_individual(admin_user, "A", "A"), make_individual(admin_user, "B", "B")
    gi_a = add_member(admin_user, group, a)
    gi_b = add_member(admin_user, group, b, role="HEAD", recipient_type="PRIMARY")
    gi_a.refresh_from_db()
    assert gi_a.role is None and gi_a.recipient_type is None
    assert gi_b.role == "HEAD"
    group.refresh_from_db()
    assert group.json_ext["head_id"] == str(b.id)
    # the head's attributes leave with the head
    b.json_ext = {"k": "v"}
    b.save(user=admin_user)
    gi_b.role = None
    gi_b.save(user=admin_user)
    group.refresh_from_db()
    assert group.json_ext["head"] is None and "k" not in group.json_ext


def test_group_create_missing_individual_rolls_back(admin_user):
    result = GroupService(admin_user).create({"code": "X", "individuals_data": [
        {"individual_id": "5c7e3d3a-8f54-4b8e-9d2a-7c1f0e6b9a21"}]})
    assert not result["success"]
    assert Group.objects.count() == 0


def test_group_update_replaces_members(admin_user):
    a, b, c = (make_individual(admin_user, n, n) for n in ("A", "B", "C"))
    group = Group.objects.get(id=GroupService(admin_user).create(
        {"code": "G", "individuals_data": [{"individual_id": str(a.id)}, {"individual_id": str(b.id)}]})["data"]["id"])
    kept = GroupIndividual.objects.get(group=group, individual=b)
    result = GroupService(admin_user).update({"id": str(group.id), "individuals_data": [
        {"individual_id": str(b.id)}, {"individual_id": str(c.id)}]})
    assert result["success"], result
    active = set(GroupIndividual.objects.filter(group=group, is_deleted=False).values_list("individual_id", flat=True))
    assert active == {b.id, c.id}
    assert GroupIndividual.objects.get(id=kept.id).is_deleted is False  # existing one untouched
    group.refresh_from_db()
    assert set(group.json_ext["members"]) == {str(b.id), str(c.id)}


def test_group_delete_soft_deletes_memberships(admin_user):
    group = make_group(admin_user)
    add_member(admin_user, group, make_individual(admin_user))
    assert GroupService(admin_user).delete({"id": str(group.id)})["success"]
    group.refresh_from_db()
    assert group.is_deleted
    assert not GroupIndividual.objects.filter(group=group, is_deleted=False).exists()


def test_membership_errors(admin_user):
    ind = make_individual(admin_user)
    service = GroupIndividualService(admin_user)
    result = service.create({"individual_id": str(ind.id)})
    assert not result["success"] and result["detail"] == "Missing group_id."
    group = make_group(admin_user)
    result = service.create({"group_id": str(group.id)})
    assert not result["success"] and "cannot be null" in result["detail"]
    missing = "5c7e3d3a-8f54-4b8e-9d2a-7c1f0e6b9a21"
    result = service.update({"id": missing, "role": "HEAD"})
    assert result["detail"] == f"no GroupIndividual found with this id {missing}"


def test_membership_update_same_group_keeps_id_other_group_new_id(admin_user):
    g1, g2 = make_group(admin_user, "G1"), make_group(admin_user, "G2")
    ind = make_individual(admin_user)
    gi = add_member(admin_user, g1, ind, role="HEAD")
    service = GroupIndividualService(admin_user)
    result = service.update({"id": str(gi.id), "group_id": str(g1.id), "individual_id": str(ind.id), "role": "SON"})
    assert result["success"] and result["data"]["id"] == str(gi.id)
    result = service.update({"id": str(gi.id), "group_id": str(g2.id), "individual_id": str(ind.id)})
    assert result["success"] and result["data"]["id"] != str(gi.id)
    assert GroupIndividual.objects.get(id=gi.id).is_deleted
    assert GroupIndividual.objects.filter(group=g2, individual=ind, is_deleted=False).exists()


def test_create_group_and_move_individual_keeps_membership_id(admin_user):
    old = make_group(admin_user, "OLD")
    a, b = make_individual(admin_user, "A", "A"), make_individual(admin_user, "B", "B")
    gi_a = add_member(admin_user, old, a, role="HEAD", recipient_type="PRIMARY")
    add_member(admin_user, old, b, role="SON")
    result = CreateGroupAndMoveIndividualService(admin_user).create({"code": "NEW", "group_individual_id": str(gi_a.id)})
    assert result["success"], result
    assert result["detail"] == str(gi_a.id)
    new = Group.objects.get(id=result["data"]["id"])
    assert list(GroupIndividual.objects.filter(group=new).values_list("id", flat=True)) == [gi_a.id]
    assert GroupIndividual.objects.get(id=gi_a.id).role == "HEAD"
    assert not GroupIndividual.objects.filter(group=old, id=gi_a.id).exists()
    old.refresh_from_db()
    assert old.json_ext["primary_recipient_id"] == str(b.id)  # defaults re-applied in the old group
    missing = CreateGroupAndMoveIndividualService(admin_user).create(
        {"code": "X", "group_individual_id": "5c7e3d3a-8f54-4b8e-9d2a-7c1f0e6b9a21"})
    assert missing["detail"] == "GroupIndividual does not exist."


def test_select_individuals_to_benefit_plan_returns_querysets(admin_user):
    free = make_individual(admin_user, "Free", "One", json_ext={"number_of_children": 3})
    make_individual(admin_user, "Few", "Kids", json_ext={"number_of_children": 1})
    grouped = make_individual(admin_user, "In", "Group", json_ext={"number_of_children": 5})
    add_member(admin_user, make_group(admin_user), grouped)
    plan_id = "2f1e0d9c-8b7a-4654-9321-0fedcba98765"
    from django.apps import apps

    if apps.is_installed("social_protection"):  # its enrolment listener needs a real plan
        from social_protection.models import BenefitPlan

        plan = BenefitPlan(code="SEL", name="Selection plan", max_beneficiaries=0, type="INDIVIDUAL")
        plan.save(user=admin_user)
        plan_id = str(plan.id)
    result = IndividualService(admin_user).select_individuals_to_benefit_plan(
        ["number_of_children__gte__integer=2"], plan_id, "ACTIVE", admin_user)
    assert list(result["individual_query_with_filters"]) == [free]
    assert result["status"] == "ACTIVE"
    assert IndividualService(admin_user).select_individuals_to_benefit_plan([], None, "ACTIVE", admin_user) is None


def test_maker_checker_without_tasks_management_reports_failure(admin_user, settings):
    from individual.services import _UpdateCheckerFallback

    class Probe(_UpdateCheckerFallback):
        pass

    result = Probe().create_update_task({"id": "x"})
    assert result["success"] is False and "tasks_management" in result["detail"]


def test_dob_required(admin_user):
    result = IndividualService(admin_user).create({"first_name": "A", "last_name": "B"})
    assert not result["success"] and "dob" in result["detail"]
    assert Individual.objects.count() == 0


def test_history_rows_for_memberships(admin_user):
    group = make_group(admin_user)
    gi = add_member(admin_user, group, make_individual(admin_user, dob=datetime.date(2000, 1, 1)))
    assert gi.history.count() == 2  # created, then defaulted to HEAD + PRIMARY


def test_fake_individuals_command_writes_history(admin_user, villages):
    from django.core.management import call_command

    call_command("fake_individuals", count=23, group_size=5, locations="AV", verbosity=0, username="Admin")
    assert Individual.objects.count() == 23
    assert Individual.history.count() == 23
    assert Group.objects.count() == 5 and Group.history.count() == 5
    assert GroupIndividual.history.count() == 23
    for group in Group.objects.all():
        heads = GroupIndividual.objects.filter(group=group, role="HEAD", recipient_type="PRIMARY")
        assert heads.count() == 1
        assert group.json_ext["head_id"] == str(heads.get().individual_id)
        assert group.json_ext["educated_level"] == heads.get().individual.json_ext["educated_level"]
    assert set(Individual.objects.values_list("location__code", flat=True)) == {"AV"}


def test_demo_is_idempotent(admin_user, villages):
    from individual import demo

    class Ctx:
        admin = admin_user
        logs = []

        def log(self, msg):
            self.logs.append(msg)

    ctx = Ctx()
    ctx.villages = list(villages)
    demo.contribute(ctx)
    total = Individual.objects.count()
    assert total == 310 and Individual.objects.filter(location__isnull=True).count() == 10
    demo.contribute(ctx)
    assert Individual.objects.count() == total


def test_individual_create_with_json_ext_and_group_crud_without_members(admin_user):
    result = IndividualService(admin_user).create(
        {"first_name": "Ana", "last_name": "Lee", "dob": "1990-01-02", "json_ext": {"email": "a@b.org"}})
    assert result["success"], result
    assert Individual.objects.get(id=result["data"]["id"]).json_ext == {"email": "a@b.org"}
    assert result["data"]["uuid"] == result["data"]["id"]

    service = GroupService(admin_user)
    created = service.create({"code": "G"})
    assert created["success"], created
    group = Group.objects.get(id=created["data"]["id"])
    member = add_member(admin_user, group, Individual.objects.get(id=result["data"]["id"]))
    assert service.update({"id": str(group.id), "code": "G2"})["success"]
    group.refresh_from_db()
    assert group.code == "G2" and group.version >= 2
    assert not GroupIndividual.objects.get(id=member.id).is_deleted  # no list given: members untouched
    assert service.delete({"id": str(group.id)})["success"]
    assert Group.objects.get(id=group.id).is_deleted
