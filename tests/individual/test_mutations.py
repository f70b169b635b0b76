import pytest

from core.test_helpers import Enum, assert_anonymous_refused, assert_log_error, assert_log_success
from individual.models import Group, GroupIndividual, Individual

from .conftest import add_member, make_group, make_individual

pytestmark = pytest.mark.django_db

UUID = "5c7e3d3a-8f54-4b8e-9d2a-7c1f0e6b9a21"


def pending_task(business_event):
    from tasks_management.models import Task

    return Task.objects.get(business_event=business_event, status__in=["RECEIVED", "ACCEPTED"])
MUTATIONS = {
    "createIndividual": ({"firstName": "A", "lastName": "B", "dob": "2000-01-01"}, [159002]),
    "updateIndividual": ({"id": UUID, "firstName": "A", "lastName": "B", "dob": "2000-01-01"}, [159003]),
    "deleteIndividual": ({"ids": [UUID]}, [159004]),
    "undoDeleteIndividual": ({"ids": [UUID]}, [159005]),
    "createGroup": ({"code": "G"}, [180002]),
    "updateGroup": ({"id": UUID, "code": "G"}, [180003]),
    "deleteGroup": ({"ids": [UUID]}, [180004]),
    "addIndividualToGroup": ({"groupId": UUID, "individualId": UUID}, [180002]),
    "editIndividualInGroup": ({"id": UUID, "groupId": UUID, "individualId": UUID}, [180003]),
    "removeIndividualFromGroup": ({"ids": [UUID]}, [180004]),
    "createGroupIndividuals": ({"code": "G", "individualIds": [UUID]}, [180002]),
    "createGroupAndMoveIndividual": ({"groupIndividualId": UUID}, [180002, 180003]),
    "confirmIndividualEnrollment": ({"benefitPlanId": UUID, "status": "ACTIVE"}, [180002]),
    "confirmGroupEnrollment": ({"benefitPlanId": UUID, "status": "ACTIVE"}, [180002]),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_denials(name, gql, make_user):
    params, rights = MUTATIONS[name]
    assert_anonymous_refused(gql(None), name, params)  # issue 10 item 27: visible, no log
    wrong = make_user("wrong", rights=[r for r in [159001, 159002, 159003, 159004, 159005, 180001, 180002, 180003,
                                                   180004] if r not in rights])
    assert_log_error(gql(wrong).mutate(name, params), "unauthorized")


def test_create_individual_row_security(gql, district_b_user, villages):
    va, vb = villages
    assert_log_error(gql(district_b_user).mutate(
        "createIndividual", {"firstName": "A", "lastName": "B", "dob": "2000-01-01", "locationId": va.id}),
        "unauthorized.location")
    assert not Individual.objects.exists()
    for location in (vb.id, None):
        params = {"firstName": "A", "lastName": "B", "dob": "2000-01-01"}
        if location:
            params["locationId"] = location
        assert_log_success(gql(district_b_user).mutate("createIndividual", params))
    assert Individual.objects.count() == 2


def test_create_individual_with_json_ext_and_client_mutation_link(gql, admin_user):
    log = gql(admin_user).mutate("createIndividual", {"firstName": "A", "lastName": "B", "dob": "2000-01-01",
                                                      "jsonExt": '{"email": "a@b.org"}'}, client_mutation_id="cm-1")
    assert_log_success(log)
    assert Individual.objects.get().json_ext == {"email": "a@b.org"}
    data = gql(admin_user).data('{ individual(clientMutationId: "cm-1") { totalCount } }')
    assert data["individual"]["totalCount"] == 1


def test_update_individual_routes_to_task_by_default(gql, admin_user):
    ind = make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate(
        "updateIndividual", {"id": str(ind.id), "firstName": "New", "lastName": "Doe", "dob": "1990-01-01"},
        client_mutation_id="cm-task"))
    task = pending_task("IndividualService.update")
    assert task.entity_id == str(ind.id) and task.data["incoming_data"]["first_name"] == "New"
    assert task.data["current_data"]["first_name"] == "John"
    ind.refresh_from_db()
    assert ind.first_name == "John"  # unchanged until approved
    assert gql(admin_user).data('{ individual(clientMutationId: "cm-task") { totalCount } }')[
        "individual"]["totalCount"] == 0  # nothing changed yet: nothing linked to the mutation


def test_update_individual_direct(gql, admin_user, no_checker):
    ind = make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate(
        "updateIndividual", {"id": str(ind.id), "firstName": "New", "lastName": "Doe", "dob": "1990-01-01"}))
    ind.refresh_from_db()
    assert ind.first_name == "New"


def test_update_individual_other_district(gql, district_b_user, registry, no_checker):
    log = gql(district_b_user).mutate("updateIndividual", {"id": str(registry["ind_a"].id), "firstName": "X",
                                                            "lastName": "Y", "dob": "1990-01-01"})
    assert_log_error(log, "unauthorized.location")


def test_delete_and_undo_delete(gql, admin_user, no_checker):
    a, b = make_individual(admin_user), make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate("deleteIndividual", {"ids": [str(a.id), str(b.id)]}))
    assert Individual.objects.filter(is_deleted=True).count() == 2
    assert_log_success(gql(admin_user).mutate("undoDeleteIndividual", {"ids": [str(a.id), str(b.id)]}))
    assert Individual.objects.filter(is_deleted=False).count() == 2


def test_delete_routes_to_task_by_default_and_undo_of_active_succeeds(gql, admin_user):
    ind = make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate("deleteIndividual", {"ids": [str(ind.id)]}))
    task = pending_task("IndividualService.delete")
    assert task.entity_id == str(ind.id) and task.data["incoming_data"] == {"id": str(ind.id)}
    assert not Individual.objects.get(id=ind.id).is_deleted
    assert_log_success(gql(admin_user).mutate("undoDeleteIndividual", {"ids": [str(ind.id)]}))


def test_mixed_district_delete_refused(gql, district_b_user, registry, no_checker):
    ids = [str(registry["ind_a"].id), str(registry["ind_b"].id)]
    assert_log_error(gql(district_b_user).mutate("deleteIndividual", {"ids": ids}), "unauthorized.location")
    assert not Individual.objects.filter(is_deleted=True).exists()
    assert_log_error(gql(district_b_user).mutate("deleteGroup", {"ids": [str(registry["group_a"].id)]}),
                     "unauthorized.location")
    assert_log_success(gql(district_b_user).mutate("deleteGroup", {"ids": [str(registry["group_b"].id)]}))
    assert Group.objects.get(id=registry["group_b"].id).is_deleted


def test_group_mutations_end_to_end(gql, admin_user, no_checker):
    a, b = make_individual(admin_user, "Ann", "A"), make_individual(admin_user, "Ben", "B")
    client = gql(admin_user)
    assert_log_success(client.mutate("createGroup", {"code": "HH", "individualsData": [
        {"individualId": str(a.id), "role": Enum("HEAD"), "recipientType": Enum("PRIMARY")}]}))
    group = Group.objects.get(code="HH")
    assert_log_success(client.mutate("addIndividualToGroup", {
        "groupId": str(group.id), "individualId": str(b.id), "role": Enum("SON")}))
    gi_b = GroupIndividual.objects.get(individual=b)
    assert_log_success(client.mutate("editIndividualInGroup", {
        "id": str(gi_b.id), "groupId": str(group.id), "individualId": str(b.id), "role": Enum("HEAD")}))
    assert GroupIndividual.objects.get(individual=a).role is None
    group.refresh_from_db()
    assert group.json_ext["head_id"] == str(b.id)
    assert_log_success(client.mutate("updateGroup", {"id": str(group.id), "code": "HH2"}))
    assert_log_success(client.mutate("removeIndividualFromGroup", {"ids": [str(gi_b.id)]}))
    assert GroupIndividual.objects.get(id=gi_b.id).is_deleted
    gi_a = GroupIndividual.objects.get(individual=a)
    assert_log_success(client.mutate("createGroupAndMoveIndividual", {"code": "NEW", "groupIndividualId": str(gi_a.id)}))
    assert GroupIndividual.objects.get(id=gi_a.id).group.code == "NEW"
    assert_log_success(client.mutate("createGroupIndividuals", {"code": "MANY", "individualIds": [str(b.id)]}))
    assert GroupIndividual.objects.filter(group__code="MANY", individual=b).exists()


def test_add_individual_accepts_relay_id(gql, admin_user):
    from graphql_relay import to_global_id

    group, ind = make_group(admin_user), make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate("addIndividualToGroup", {
        "groupId": str(group.id), "individualId": to_global_id("IndividualGQLType", str(ind.id))}))
    assert GroupIndividual.objects.filter(group=group, individual=ind).exists()


def test_membership_location_mismatch(gql, admin_user, villages):
    va, vb = villages
    group, ind = make_group(admin_user, location=va), make_individual(admin_user, location=vb)
    log = gql(admin_user).mutate("addIndividualToGroup", {"groupId": str(group.id), "individualId": str(ind.id)})
    assert_log_error(log, "mutation.individual_group_location_mismatch")
    assert not GroupIndividual.objects.exists()


def test_membership_other_district(gql, district_b_user, registry):
    log = gql(district_b_user).mutate("addIndividualToGroup", {
        "groupId": str(registry["group_a"].id), "individualId": str(registry["ind_none"].id)})
    assert_log_error(log, "unauthorized.location")
    log = gql(district_b_user).mutate("removeIndividualFromGroup", {"ids": [str(registry["gi_a"].id)]})
    assert_log_error(log, "unauthorized.location")


def test_edit_membership_routes_to_task_by_default(gql, admin_user):
    group, ind = make_group(admin_user), make_individual(admin_user)
    gi = add_member(admin_user, group, ind)
    assert_log_success(gql(admin_user).mutate("editIndividualInGroup", {
        "id": str(gi.id), "groupId": str(group.id), "individualId": str(ind.id), "role": Enum("SON")}))
    task = pending_task("GroupIndividualService.update")
    assert task.entity_id == str(gi.id) and task.data["incoming_data"]["role"] == "SON"
    assert GroupIndividual.objects.get(id=gi.id).role == "HEAD"  # unchanged until approved


def test_failed_service_result_is_logged_and_rolled_back(gql, admin_user):
    log = gql(admin_user).mutate("createGroup", {"code": "X", "individualsData": [{"individualId": UUID}]})
    assert_log_error(log)
    assert not Group.objects.exists()


def test_confirm_enrollment_emits_selection(gql, admin_user):
    from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal

    make_individual(admin_user, json_ext={"number_of_children": 3})
    plan_id = UUID
    from django.apps import apps

    if apps.is_installed("social_protection"):  # its enrolment listener needs a real plan
        from social_protection.models import BenefitPlan

        plan = BenefitPlan(code="SEL", name="Selection plan", max_beneficiaries=0, type="INDIVIDUAL")
        plan.save(user=admin_user)
        plan_id = str(plan.id)
    seen = []

    def listener(**kwargs):
        seen.append(kwargs["result"])

    bind_service_signal("individual_service.select_individuals_to_benefit_plan", listener,
                        ServiceSignalBindType.AFTER)
    try:
        assert_log_success(gql(admin_user).mutate("confirmIndividualEnrollment", {
            "customFilters": ["number_of_children__gt__integer=2"], "benefitPlanId": plan_id, "status": "ACTIVE"}))
    finally:
        unbind_service_signal("individual_service.select_individuals_to_benefit_plan", listener)
    assert seen[0]["individuals_not_assigned_to_selected_programme"].count() == 1


def _district_cases(registry, villages):
    """(mutation, params) a district-B user must be refused with unauthorized.location (spec §4)."""
    va, vb = villages
    r = {k: str(v.id) for k, v in registry.items()}
    return [
        ("createGroup", {"code": "X", "locationId": va.id}),
        ("createGroup", {"code": "X", "locationId": vb.id, "individualsData": [{"individualId": r["ind_a"]}]}),
        ("updateGroup", {"id": r["group_a"], "code": "X"}),  # current location
        ("updateGroup", {"id": r["group_b"], "code": "X", "locationId": va.id}),  # new location
        ("updateIndividual", {"id": r["ind_b"], "firstName": "X", "lastName": "Y", "dob": "1990-01-01",
                              "locationId": va.id}),
        ("undoDeleteIndividual", {"ids": [r["ind_b"], r["ind_a"]]}),
        ("deleteGroup", {"ids": [r["group_b"], r["group_a"]]}),
        ("addIndividualToGroup", {"groupId": r["group_none"], "individualId": r["ind_a"]}),
        ("editIndividualInGroup", {"id": r["gi_a"], "groupId": r["group_a"], "individualId": r["ind_a"],
                                   "role": Enum("SON")}),
        ("editIndividualInGroup", {"id": r["gi_b"], "groupId": r["group_a"], "individualId": r["ind_b"]}),
        ("removeIndividualFromGroup", {"ids": [r["gi_b"], r["gi_a"]]}),
        ("removeIndividualFromGroup", {"ids": [r["gi_free"]]}),  # location-less group, district-A individual
        ("createGroupIndividuals", {"code": "X", "individualIds": [r["ind_a"]]}),
        ("createGroupAndMoveIndividual", {"code": "X", "groupIndividualId": r["gi_a"]}),
    ]


def test_other_district_refused_for_every_location_checked_mutation(gql, district_b_user, registry, villages,
                                                                    no_checker):
    from django.db.models import Max

    def snapshot():
        return [model.objects.aggregate(n=Max("version"))["n"] for model in (Individual, Group, GroupIndividual)] \
            + [Group.objects.count(), GroupIndividual.objects.count()]

    before = snapshot()
    client = gql(district_b_user)
    for name, params in _district_cases(registry, villages):
        log = client.mutate(name, params)
        assert log.status == 1, (name, params)
        assert_log_error(log, "unauthorized.location")
    assert snapshot() == before  # nothing changed


def test_own_district_and_no_location_succeed(gql, district_b_user, registry, villages, no_checker):
    _, vb = villages
    r = {k: str(v.id) for k, v in registry.items()}
    client = gql(district_b_user)
    for code, location in (("OWN", vb.id), ("FREE", None)):
        params = {"code": code, "individualsData": [{"individualId": r["ind_none"]}]}
        if location:
            params["locationId"] = location
        assert_log_success(client.mutate("createGroup", params))
    own = Group.objects.get(code="OWN")
    assert own.location_id == vb.id
    assert_log_success(client.mutate("updateGroup", {"id": str(own.id), "code": "OWN2", "locationId": vb.id}))
    assert_log_success(client.mutate("updateGroup", {"id": r["group_none"], "code": "GN2"}))
    assert_log_success(client.mutate("updateIndividual", {"id": r["ind_none"], "firstName": "N", "lastName": "N",
                                                          "dob": "1990-01-01", "locationId": vb.id}))
    assert Individual.objects.get(id=r["ind_none"]).location_id == vb.id
    assert_log_success(client.mutate("addIndividualToGroup", {"groupId": r["group_b"],
                                                              "individualId": r["ind_none"]}))
    assert_log_success(client.mutate("removeIndividualFromGroup", {"ids": [r["gi_b"]]}))
    assert_log_success(client.mutate("deleteIndividual", {"ids": [r["ind_b"], r["ind_none"]]}))
    assert_log_success(client.mutate("undoDeleteIndividual", {"ids": [r["ind_b"], r["ind_none"]]}))
    assert not Individual.objects.filter(is_deleted=True).exists()
    assert_log_success(client.mutate("deleteGroup", {"ids": [r["group_b"], r["group_none"]]}))
    assert Group.objects.filter(is_deleted=True).count() == 2


def test_edit_membership_mutation_same_group_keeps_id_move_gives_new_id(gql, admin_user, no_checker):
    g1, g2 = make_group(admin_user, "G1"), make_group(admin_user, "G2")
    add_member(admin_user, g1, make_individual(admin_user, "Head", "One"))  # HEAD + PRIMARY by default
    ind = make_individual(admin_user)
    gi = add_member(admin_user, g1, ind, role="SON")
    client = gql(admin_user)
    assert_log_success(client.mutate("editIndividualInGroup", {
        "id": str(gi.id), "groupId": str(g1.id), "individualId": str(ind.id), "role": Enum("SPOUSE")}))
    gi.refresh_from_db()
    assert gi.role == "SPOUSE" and not gi.is_deleted
    assert_log_success(client.mutate("editIndividualInGroup", {
        "id": str(gi.id), "groupId": str(g2.id), "individualId": str(ind.id)}))
    assert GroupIndividual.objects.get(id=gi.id).is_deleted
    moved = GroupIndividual.objects.get(group=g2, individual=ind, is_deleted=False)
    assert moved.id != gi.id


def test_admin_update_creates_task_by_default(gql, admin_user):
    """Spec §11: admin update succeeds (a task by default, the individual unchanged until approved)."""
    from django.apps import apps

    if not apps.is_installed("tasks_management"):
        pytest.skip("tasks_management not installed")
    from tasks_management.models import Task

    ind = make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate(
        "updateIndividual", {"id": str(ind.id), "firstName": "New", "lastName": "Doe", "dob": "1990-01-01"}))
    task = Task.objects.get()
    assert task.source == "IndividualService" and task.business_event == "IndividualService.update"
    ind.refresh_from_db()
    assert ind.first_name == "John"
