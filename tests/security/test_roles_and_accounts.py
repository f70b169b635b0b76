"""Roles, accounts and districts a user manager could abuse (issue 10, items 2, 3, 4, 16, 24 and 28), sent the way
the frontend sends them: GraphQL over HTTP with a bearer token, the outcome read back from the mutation log."""
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from core.models import Role, RoleRight, User, UserDistrict, UserRole, invalidate_rights_cache
from core.test_helpers import (
    DEFAULT_PASSWORD,
    GQL,
    GRAPHQL_URL,
    admin_role,
    assert_log_error,
    assert_log_success,
    assign_user_districts,
    create_role,
    create_test_interactive_user,
    create_test_location,
)

pytestmark = pytest.mark.django_db

USERS_SEARCH, USERS_CREATE, USERS_UPDATE, USERS_DELETE = 121701, 121702, 121703, 121704
ROLES_SEARCH, ROLES_CREATE, ROLES_UPDATE, ROLES_DELETE, ROLES_DUPLICATE = 122001, 122002, 122003, 122004, 122005
INDIVIDUAL_SEARCH = 159001

ROLE_MANAGER_RIGHTS = [ROLES_SEARCH, ROLES_CREATE, ROLES_UPDATE, ROLES_DELETE, ROLES_DUPLICATE, USERS_SEARCH,
                       USERS_UPDATE]
USER_MANAGER_RIGHTS = [USERS_SEARCH, USERS_CREATE, USERS_UPDATE, USERS_DELETE]


def current_rights(role):
    return set(RoleRight.objects.filter(role=role, validity_to__isnull=True).values_list("right_id", flat=True))


def current_roles(user):
    return set(UserRole.objects.filter(user_id=user.i_user_id, validity_to__isnull=True).values_list("role_id",
                                                                                                   flat=True))


def current_districts(user):
    return set(UserDistrict.objects.filter(user_id=user.i_user_id, validity_to__isnull=True)
               .values_list("location_id", flat=True))


def fresh(user):
    return User.objects.select_related("i_user").get(pk=user.pk)


def own_role(user):
    return Role.objects.get(user_roles__user_id=user.i_user_id, user_roles__validity_to__isnull=True)


@pytest.fixture
def admin(db):
    return create_test_interactive_user("Admin")


@pytest.fixture
def role_manager(make_user):
    return make_user("sec_role_manager", rights=ROLE_MANAGER_RIGHTS)


@pytest.fixture
def user_manager(make_user):
    return make_user("sec_user_manager", rights=USER_MANAGER_RIGHTS)


# --- item 2: roles --------------------------------------------------------------------------------------------
def test_role_manager_cannot_add_rights_they_lack_to_their_own_role_then_take_the_admin_role(gql, admin,
                                                                                             role_manager):
    client = gql(role_manager)
    role = own_role(role_manager)
    before = current_rights(role)
    log = client.mutate("updateRole", {"uuid": str(role.uuid), "name": role.name,
                                       "rightsId": sorted(before | {USERS_CREATE, USERS_DELETE})})
    assert_log_error(log, "121702")
    assert current_rights(role) == before
    # the second step of the probe: hand oneself the administrator role
    log = client.mutate("updateUser", {"uuid": str(role_manager.id), "roles": [role.id, admin_role().id]})
    assert_log_error(log)
    assert current_roles(role_manager) == {role.id}
    assert not fresh(role_manager).is_imis_admin


def test_create_role_with_rights_the_caller_lacks_is_refused(gql, role_manager):
    client = gql(role_manager)
    assert_log_error(client.mutate("createRole", {"name": "Escalation", "rightsId": [ROLES_SEARCH, USERS_DELETE]}),
                     "121704")
    assert not Role.objects.filter(name="Escalation").exists()
    # rights the caller holds may be handed out
    assert_log_success(client.mutate("createRole", {"name": "Reader", "rightsId": [ROLES_SEARCH, USERS_SEARCH]}))
    assert current_rights(Role.objects.get(name="Reader")) == {ROLES_SEARCH, USERS_SEARCH}


def test_duplicate_of_a_more_privileged_role_is_refused(gql, role_manager):
    client = gql(role_manager)
    source = admin_role()
    assert_log_error(client.mutate("duplicateRole", {"uuid": str(source.uuid), "name": "Admin copy"}))
    assert not Role.objects.filter(name="Admin copy").exists()
    assert_log_error(client.mutate("duplicateRole", {"uuid": str(source.uuid), "name": "Admin copy",
                                                     "rightsId": [ROLES_SEARCH, USERS_DELETE]}), "121704")
    assert not Role.objects.filter(name="Admin copy").exists()
    # a duplicate holding only the caller's rights is fine
    assert_log_success(client.mutate("duplicateRole", {"uuid": str(source.uuid), "name": "Admin copy",
                                                       "rightsId": [ROLES_SEARCH]}))
    assert current_rights(Role.objects.get(name="Admin copy")) == {ROLES_SEARCH}


@pytest.mark.parametrize("change", [{"rightsId": []}, {"isBlocked": True}, {"name": "Nobody"},
                                    {"rightsId": [ROLES_SEARCH]}])
def test_system_roles_are_read_only_for_non_admins(gql, admin, role_manager, change):
    role = admin_role()
    before = (role.name, role.is_blocked, current_rights(role))
    log = gql(role_manager).mutate("updateRole", {"uuid": str(role.uuid), **change})
    assert_log_error(log, "system role")
    role.refresh_from_db()
    assert (role.name, role.is_blocked, current_rights(role)) == before
    assert fresh(admin).is_imis_admin


def test_role_holding_rights_the_caller_lacks_cannot_be_changed_or_deleted(gql, role_manager):
    other = create_role("Payments officer", [ROLES_SEARCH, 127004])
    client = gql(role_manager)
    assert_log_error(client.mutate("updateRole", {"uuid": str(other.uuid), "isBlocked": True}), "127004")
    assert_log_error(client.mutate("updateRole", {"uuid": str(other.uuid), "rightsId": [ROLES_SEARCH]}), "127004")
    assert_log_error(client.mutate("deleteRole", {"uuids": [str(other.uuid)]}), "127004")
    other.refresh_from_db()
    assert not other.is_blocked and other.validity_to is None and current_rights(other) == {ROLES_SEARCH, 127004}


def test_admin_may_change_system_roles_and_grant_any_right(gql, admin):
    client = gql(admin)
    assert_log_success(client.mutate("createRole", {"name": "Wide", "rightsId": [USERS_DELETE, 127004]}))
    triage = Role.objects.create(name="Triage", is_system=2097152)
    assert_log_success(client.mutate("updateRole", {"uuid": str(triage.uuid), "rightsId": [ROLES_SEARCH]}))
    assert current_rights(triage) == {ROLES_SEARCH}


# --- item 3: accounts more privileged than the caller -------------------------------------------------------------
def test_user_manager_cannot_set_the_administrators_password(gql, admin, user_manager):
    log = gql(user_manager).mutate("updateUser", {"uuid": str(admin.id), "password": "Taken-Over-Pass-1"})
    assert_log_error(log, "administrator")
    assert fresh(admin).check_password(DEFAULT_PASSWORD)


def test_user_manager_cannot_change_password_by_username(gql, admin, user_manager):
    content = gql(user_manager).query(
        'mutation { changePassword(username: "Admin", newPassword: "Taken-Over-Pass-1") { success error } }')
    answer = (content.get("data") or {}).get("changePassword")
    assert answer is None or answer["success"] is False
    assert "administrator" in json.dumps(content)
    assert fresh(admin).check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize("change", [{"roles": []}, {"email": "attacker@example.org"}, {"username": "Admin2"},
                                    {"lastName": "Renamed"}])
def test_user_manager_cannot_change_another_administrator(gql, admin, user_manager, change):
    other_admin = create_test_interactive_user("OtherAdmin")
    before = (current_roles(other_admin), other_admin.i_user.email, other_admin.username, other_admin.last_name)
    log = gql(user_manager).mutate("updateUser", {"uuid": str(other_admin.id), **change})
    assert_log_error(log, "administrator")
    other_admin = fresh(other_admin)
    assert (current_roles(other_admin), other_admin.i_user.email, other_admin.username,
            other_admin.last_name) == before
    assert other_admin.is_imis_admin


def test_user_manager_cannot_deactivate_the_administrator(gql, admin, user_manager):
    assert_log_error(gql(user_manager).mutate("deleteUser", {"uuids": [str(admin.id)]}), "administrator")
    assert fresh(admin).is_active


def test_target_holding_a_right_the_caller_lacks_is_protected(gql, make_user, user_manager):
    richer = make_user("sec_richer", rights=[USERS_SEARCH, 127004])
    client = gql(user_manager)
    assert_log_error(client.mutate("updateUser", {"uuid": str(richer.id), "password": "Taken-Over-Pass-1"}),
                     "127004")
    assert_log_error(client.mutate("deleteUser", {"uuids": [str(richer.id)]}), "127004")
    assert fresh(richer).is_active and fresh(richer).check_password(DEFAULT_PASSWORD)
    # a peer holding only rights the manager holds can be managed (control)
    peer = make_user("sec_peer", rights=[USERS_SEARCH])
    assert_log_success(client.mutate("updateUser", {"uuid": str(peer.id), "password": "Reset-By-Manager-1"}))
    assert fresh(peer).check_password("Reset-By-Manager-1")
    content = client.query('mutation { changePassword(username: "sec_peer", newPassword: "Second-Reset-22") '
                           '{ success error } }')
    assert content["data"]["changePassword"]["success"] is True


def test_roles_handed_out_stay_within_the_callers_rights(gql, user_manager, make_user):
    peer = make_user("sec_peer", rights=[USERS_SEARCH])
    wider = create_role("Wider", [USERS_SEARCH, 127004])
    client = gql(user_manager)
    assert_log_error(client.mutate("updateUser", {"uuid": str(peer.id), "roles": [wider.id]}))
    assert_log_error(client.mutate("updateUser", {"uuid": str(peer.id), "roles": [admin_role().id]}))
    # the administrator role grants everything even when its rights were emptied
    RoleRight.objects.filter(role=admin_role()).delete()
    invalidate_rights_cache()
    assert_log_error(client.mutate("updateUser", {"uuid": str(peer.id), "roles": [admin_role().id]}))
    assert not fresh(peer).is_imis_admin


def test_admin_may_still_manage_other_administrators(gql, admin):
    other_admin = create_test_interactive_user("OtherAdmin")
    assert_log_success(gql(admin).mutate("updateUser", {"uuid": str(other_admin.id), "password": "Admin-Reset-77"}))
    assert fresh(other_admin).check_password("Admin-Reset-77")


# --- item 4: districts ---------------------------------------------------------------------------------------------
@pytest.fixture
def districts(db):
    region = create_test_location("R", "SECR")
    return [create_test_location("D", f"SECD{i}", parent=region) for i in (1, 2, 3)]


@pytest.fixture
def district_manager(make_user, districts):
    manager = make_user("sec_district_manager", rights=USER_MANAGER_RIGHTS)
    assign_user_districts(manager, ["SECD1"])
    return manager


def test_district_restricted_manager_cannot_give_himself_other_districts(gql, district_manager, districts):
    d1, d2, d3 = districts
    log = gql(district_manager).mutate("updateUser", {"uuid": str(district_manager.id), "districts": [d1.id, d2.id,
                                                                                                         d3.id]})
    assert_log_error(log, "district")
    assert current_districts(district_manager) == {d1.id}


def test_district_restricted_manager_cannot_hand_out_other_districts(gql, district_manager, districts, make_user):
    d1, d2, _ = districts
    client = gql(district_manager)
    assert_log_error(client.mutate("createUser", {"username": "sec_new_clerk", "lastName": "New",
                                                  "otherNames": "Clerk", "districts": [d2.id]}), "district")
    assert not User.objects.filter(username="sec_new_clerk").exists()
    clerk = make_user("sec_clerk", rights=[USERS_SEARCH])
    assert_log_error(client.mutate("updateUser", {"uuid": str(clerk.id), "districts": [d1.id, d2.id]}), "district")
    assert current_districts(clerk) == set()
    # within his own district it works (control)
    assert_log_success(client.mutate("updateUser", {"uuid": str(clerk.id), "districts": [d1.id]}))
    assert current_districts(clerk) == {d1.id}


def test_districts_outside_the_callers_stay_as_they_are(gql, district_manager, districts, make_user):
    d1, d2, _ = districts
    clerk = make_user("sec_clerk", rights=[USERS_SEARCH])
    assign_user_districts(clerk, ["SECD2"])
    client = gql(district_manager)
    # removing a district the manager does not hold is a change outside his scope
    assert_log_error(client.mutate("updateUser", {"uuid": str(clerk.id), "districts": [d1.id]}), "district")
    assert current_districts(clerk) == {d2.id}
    # keeping it while adding his own is fine
    assert_log_success(client.mutate("updateUser", {"uuid": str(clerk.id), "districts": [d2.id, d1.id]}))
    assert current_districts(clerk) == {d1.id, d2.id}


def test_unrestricted_admin_hands_out_any_district(gql, admin, districts, make_user):
    clerk = make_user("sec_clerk", rights=[USERS_SEARCH])
    assert_log_success(gql(admin).mutate("updateUser", {"uuid": str(clerk.id),
                                                        "districts": [d.id for d in districts]}))
    assert current_districts(clerk) == {d.id for d in districts}


# --- item 16: other users' accounts through nested user fields ------------------------------------------------------
NESTED = """{ individual(first: 5) { edges { node { firstName
  userCreated { username uuid rights email phone lastName otherNames isActive lastLogin dateJoined clientMutationId
                iUser { email phone lastName roles { name } userDistricts { code } } }
  userUpdated { username } } } } }"""
ACCOUNT_FIELDS = ("uuid", "rights", "email", "phone", "lastName", "otherNames", "isActive", "lastLogin",
                  "dateJoined", "iUser")


@pytest.fixture
def created_by_admin(admin):
    from tests.individual.factories import IndividualFactory

    admin.i_user.email, admin.i_user.phone = "admin@example.org", "+100200300"
    admin.i_user.save()
    return IndividualFactory(first_name="Ann", acting_user=admin)


def test_list_reader_sees_only_the_username_of_other_users(gql, make_user, created_by_admin):
    clerk = make_user("sec_individual_clerk", rights=[INDIVIDUAL_SEARCH])
    node = gql(clerk).data(NESTED)["individual"]["edges"][0]["node"]
    assert node["userUpdated"] == {"username": "Admin"}  # the list pages keep working
    creator = node["userCreated"]
    assert creator["username"] == "Admin"
    leaked = {field: creator[field] for field in ACCOUNT_FIELDS if creator[field] is not None}
    assert not leaked, leaked


def test_the_user_and_user_readers_see_the_account(gql, admin, make_user, created_by_admin):
    creator = gql(admin).data(NESTED)["individual"]["edges"][0]["node"]["userCreated"]
    assert creator["email"] == "admin@example.org" and creator["iUser"]["roles"] and creator["rights"]
    reader = make_user("sec_user_reader", rights=[INDIVIDUAL_SEARCH, USERS_SEARCH])
    creator = gql(reader).data(NESTED)["individual"]["edges"][0]["node"]["userCreated"]
    assert creator["email"] == "admin@example.org" and creator["lastName"] == admin.last_name
    assert creator["iUser"]["phone"] == "+100200300"


def test_aliases_and_fragments_do_not_reach_other_accounts(gql, make_user, created_by_admin):
    clerk = make_user("sec_individual_clerk", rights=[INDIVIDUAL_SEARCH])
    query = """query { individual(first: 5) { edges { node { a: userCreated { ...U } b: userUpdated { ... on UserGQLType {
      mail: email iUser { roles { name } } } } } } } }
      fragment U on UserGQLType { username secret: rights iUser { email } }"""
    node = gql(clerk).data(query)["individual"]["edges"][0]["node"]
    assert node["a"] == {"username": "Admin", "secret": None, "iUser": None}
    assert node["b"] == {"mail": None, "iUser": None}


# --- item 24: a blocked administrator role -------------------------------------------------------------------------
def test_blocked_admin_role_grants_nothing(gql, admin, superuser):
    client = gql(admin)
    assert client.data("{ users(first: 1) { totalCount } }")["users"]["totalCount"] >= 1
    role = admin_role()
    assert_log_success(gql(superuser).mutate("updateRole", {"uuid": str(role.uuid), "isBlocked": True}))
    blocked = fresh(admin)
    assert not blocked.is_imis_admin and blocked.rights == [] and not blocked.has_perm(USERS_SEARCH)
    content = client.query("{ users(first: 1) { totalCount } }")
    assert content["errors"][0]["message"] == "unauthorized"
    me = Client().get("/api/core/users/current_user/", HTTP_AUTHORIZATION=f"Bearer {client.token}").json()
    assert me["i_user"]["rights"] == []


def test_holder_of_a_blocked_admin_role_stays_out_of_a_managers_reach(gql, admin, user_manager, make_user):
    # blocking grants nothing today, but unblocking hands the role back whole: no takeover in between
    Role.objects.filter(pk=admin_role().pk).update(is_blocked=True)
    invalidate_rights_cache()
    client = gql(user_manager)
    assert_log_error(client.mutate("updateUser", {"uuid": str(admin.id), "password": "Taken-Over-Pass-1"}),
                     "administrator")
    assert_log_error(client.mutate("deleteUser", {"uuids": [str(admin.id)]}), "administrator")
    peer = make_user("sec_peer", rights=[USERS_SEARCH])
    assert_log_error(client.mutate("updateUser", {"uuid": str(peer.id), "roles": [admin_role().id]}))
    fresh_admin = fresh(admin)
    assert fresh_admin.is_active and fresh_admin.check_password(DEFAULT_PASSWORD)
    assert current_roles(peer) != {admin_role().id}


def test_blocked_admin_role_is_not_unrestricted(gql, admin, districts):
    from core.location import is_unrestricted

    Role.objects.filter(pk=admin_role().pk).update(is_blocked=True)
    invalidate_rights_cache()
    assert not is_unrestricted(fresh(admin))


# --- item 28: create_admin repairs; command-line passwords follow the policy ------------------------------------------
def test_create_admin_repairs_a_deactivated_administrator(gql, admin):
    other_admin = create_test_interactive_user("OtherAdmin")
    assert_log_success(gql(other_admin).mutate("updateUser", {"uuid": str(admin.id), "roles": []}))
    assert_log_success(gql(other_admin).mutate("deleteUser", {"uuids": [str(admin.id)]}))
    Role.objects.filter(pk=admin_role().pk).update(is_blocked=True)
    invalidate_rights_cache()
    assert not fresh(admin).is_active
    call_command("create_admin", "--password", "Repaired-Admin-42", stdout=io.StringIO())
    repaired = fresh(admin)
    assert repaired.is_active and repaired.is_staff and repaired.is_imis_admin
    assert repaired.i_user.validity_to is None
    login = Client().post(GRAPHQL_URL, json.dumps({"query": 'mutation { tokenAuth(username: "Admin", password: '
                                                            '"Repaired-Admin-42") { refreshExpiresIn } }'}),
                          content_type="application/json")
    assert "errors" not in login.json(), login.json()
    assert GQL(repaired).data("{ users(first: 1) { totalCount } }")


def test_create_admin_without_password_also_repairs(admin):
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    UserRole.objects.filter(user_id=admin.i_user_id).delete()
    invalidate_rights_cache()
    out = io.StringIO()
    call_command("create_admin", stdout=out)
    repaired = fresh(admin)
    assert repaired.is_active and repaired.is_imis_admin
    assert repaired.check_password(DEFAULT_PASSWORD)  # the password is kept


@pytest.mark.parametrize("password", ["123", "password", "admin123", "Admin"])
def test_create_admin_password_follows_the_policy(admin, password):
    with pytest.raises(CommandError):
        call_command("create_admin", "--password", password, stdout=io.StringIO())
    assert fresh(admin).check_password(DEFAULT_PASSWORD)


def test_create_admin_new_account_password_follows_the_policy(db):
    with pytest.raises(CommandError):
        call_command("create_admin", "--username", "Fresh", "--password", "12345678", stdout=io.StringIO())
    assert not User.objects.filter(username="Fresh").exists()


def test_demo_admin_password_follows_the_policy(admin):
    with pytest.raises(CommandError):
        call_command("demo", "--admin-password", "password", stdout=io.StringIO())
    assert fresh(admin).check_password(DEFAULT_PASSWORD)


def test_create_admin_env_password_follows_the_policy(db, monkeypatch):
    from core.management.commands.create_admin import Command

    monkeypatch.setenv("ADMIN_PASSWORD", "qwerty")
    with pytest.raises(CommandError):
        call_command(Command(), stdout=io.StringIO())
    assert not User.objects.filter(username="Admin").exists()
