"""Denial paths for every core query and mutation, and the GraphQL hardening rules."""
import json

import pytest
from django.test import override_settings

from core.models import MutationLog, Role, User
from core.test_helpers import assert_anonymous_refused, assert_log_error, post_graphql

pytestmark = pytest.mark.django_db

# query → right needed ("auth" = any authenticated user)
PROTECTED_QUERIES = {
    "users": ("{ users(first: 5) { totalCount edges { node { id username } } } }", "121701"),
    "role": ("{ role(first: 5) { totalCount edges { node { id uuid name } } } }", "122001"),
    "roleRight": ('{ roleRight(role_Uuid: "00000000-0000-0000-0000-000000000000") { edges { node { rightId } } } }', "122001"),
    "modulesPermissions": ("{ modulesPermissions { modulePermsList { moduleName } } }", "122001"),
    "validateRoleName": ('{ validateRoleName(roleName: "x") }', "122001"),
    "validateUsername": ('{ validateUsername(username: "x") }', "121701"),
    "validateUserEmail": ('{ validateUserEmail(userEmail: "x@y.z") }', "121701"),
    "languages": ("{ languages { code name } }", "auth"),
    "usernameLength": ("{ usernameLength }", "auth"),
    "mutationLogs": ("{ mutationLogs(first: 5) { edges { node { id } } } }", "auth"),
    "locations": ("{ locations(first: 5) { edges { node { id code } } } }", "auth"),
    "userDistricts": ("{ userDistricts { id code } }", "auth"),
    "customFilters": ('{ customFilters(moduleName: "individual", objectTypeName: "Individual") { type code } }', "auth"),
}

PROTECTED_MUTATIONS = {
    "createRole": ({"name": "R"}, "122002"),
    "updateRole": ({"uuid": "00000000-0000-0000-0000-000000000001", "name": "R"}, "122003"),
    "deleteRole": ({"uuids": ["00000000-0000-0000-0000-000000000001"]}, "122004"),
    "duplicateRole": ({"uuid": "00000000-0000-0000-0000-000000000001"}, "122005"),
    "createUser": ({"username": "u1", "lastName": "L", "otherNames": "O"}, "121702"),
    "updateUser": ({"uuid": "00000000-0000-0000-0000-000000000001", "lastName": "L"}, "121703"),
    "deleteUser": ({"uuids": ["00000000-0000-0000-0000-000000000001"]}, "121704"),
}


@pytest.mark.parametrize("name", sorted(PROTECTED_QUERIES))
def test_query_denied_to_anonymous(name, gql):
    content = gql(None).query(PROTECTED_QUERIES[name][0])
    assert content["errors"][0]["message"] == "unauthorized"
    assert not (content.get("data") or {}).get(name)


@pytest.mark.parametrize("name", sorted(n for n, (_, r) in PROTECTED_QUERIES.items() if r != "auth"))
def test_query_denied_without_right(name, gql, no_rights_user):
    content = gql(no_rights_user).query(PROTECTED_QUERIES[name][0])
    assert content["errors"][0]["message"] == "unauthorized"


@pytest.mark.parametrize("name", sorted(PROTECTED_QUERIES))
def test_query_allowed_with_right(name, gql, make_user):
    right = PROTECTED_QUERIES[name][1]
    user = make_user("holder", rights=[] if right == "auth" else [int(right)])
    content = gql(user).query(PROTECTED_QUERIES[name][0])
    assert "errors" not in content, content


def test_current_user_query_anonymous_is_null(gql):
    assert gql(None).data("{ user { id } }")["user"] is None


@pytest.mark.parametrize("name", sorted(PROTECTED_MUTATIONS))
def test_mutation_denied_to_anonymous(name, gql):
    assert_anonymous_refused(gql(None), name, PROTECTED_MUTATIONS[name][0])  # issue 10 item 27: visible, no log


@pytest.mark.parametrize("name", sorted(PROTECTED_MUTATIONS))
def test_mutation_denied_without_right(name, gql, no_rights_user):
    log = gql(no_rights_user).mutate(name, PROTECTED_MUTATIONS[name][0])
    assert_log_error(log, "unauthorized")


def test_change_language_anonymous_denied(gql):
    assert_anonymous_refused(gql(None), "changeUserLanguage", {"languageId": "fr"})


def test_change_password_anonymous_denied(gql):
    content = gql(None).query('mutation { changePassword(newPassword: "Xx-123456789") { success } }')
    assert content["errors"][0]["message"] == "unauthorized"


def test_change_other_users_password_needs_right(gql, no_rights_user, admin_user):
    content = gql(no_rights_user).query('mutation { changePassword(username: "Admin", newPassword: "Xx-123456789") { success } }')
    assert content["errors"][0]["message"] == "unauthorized"


def test_mutation_logs_only_own(gql, admin_user, make_user):
    other = make_user("other", rights=[])
    gql(admin_user).mutate("createRole", {"name": "Mine"})
    assert gql(other).data("{ mutationLogs { totalCount } }")["mutationLogs"]["totalCount"] == 0
    assert gql(admin_user).data("{ mutationLogs { totalCount } }")["mutationLogs"]["totalCount"] == 1


def test_cannot_grant_rights_one_does_not_hold(gql, make_user):
    manager = make_user("manager", rights=[121702])
    admin_role = Role.objects.get(is_system=64)
    log = gql(manager).mutate("createUser", {"username": "sneaky", "lastName": "L", "otherNames": "O",
                                             "roles": [admin_role.id]})
    assert_log_error(log, "Only an administrator can assign the IMIS Administrator role")
    assert not User.objects.filter(username="sneaky").exists()


# --- hardening -------------------------------------------------------------------------------
def _post(body, **headers):
    return post_graphql(body=body, **headers)


def test_malformed_json_is_400():
    response = _post("{not json")
    assert response.status_code == 400
    assert "errors" in response.json()


def test_syntax_error_is_400():
    response = _post(json.dumps({"query": "{ user { "}))
    assert response.status_code == 400


def test_missing_query_is_400():
    assert _post(json.dumps({"variables": {}})).status_code == 400


def test_unknown_field_is_400():
    assert _post(json.dumps({"query": "{ nope }"})).status_code == 400


def test_depth_limit(gql, admin_user):
    with override_settings(GRAPHQL_MAX_DEPTH=3):
        content = gql(admin_user).query("{ locations { edges { node { parent { parent { code } } } } } }")
    assert "depth" in content["errors"][0]["message"]


def test_depth_limit_through_fragments(gql, admin_user):
    query = """
    query { locations { edges { node { ...F } } } }
    fragment F on LocationGQLType { parent { parent { parent { code } } } }
    """
    with override_settings(GRAPHQL_MAX_DEPTH=4):
        content = gql(admin_user).query(query)
    assert "depth" in content["errors"][0]["message"]


def test_alias_limit(gql, admin_user):
    query = "{ " + " ".join(f"a{i}: languages {{ code }}" for i in range(20)) + " }"
    with override_settings(GRAPHQL_MAX_ALIASES=15):
        content = gql(admin_user).query(query)
    assert "aliases" in content["errors"][0]["message"]


def test_repeated_fields_accepted(gql, admin_user):
    gql(admin_user).data("{ role(first: 1) { edges { node { name name uuid } } } }")


def test_page_size_capped(gql, admin_user):
    content = gql(admin_user).query("{ locations(first: 101) { edges { node { id } } } }")
    assert "exceeds" in content["errors"][0]["message"]
    assert "errors" not in gql(admin_user).query("{ locations(first: 100) { edges { node { id } } } }")


def test_introspection_switch(gql, admin_user):
    with override_settings(GRAPHQL_INTROSPECTION=False):
        content = gql(admin_user).query("{ __schema { queryType { name } } }")
        assert "introspection" in content["errors"][0]["message"]
    with override_settings(GRAPHQL_INTROSPECTION=True):
        assert gql(admin_user).data("{ __schema { queryType { name } } }")


def test_no_debug_field(gql, admin_user):
    assert "errors" in gql(admin_user).query("{ _debug { sql { sql } } }")


def test_graphiql_follows_setting(admin_user):
    from core.views import OpenIMISGraphQLView

    with override_settings(GRAPHIQL=False):
        assert OpenIMISGraphQLView().graphiql is False
    with override_settings(GRAPHIQL=True):
        assert OpenIMISGraphQLView().graphiql is True


def test_mutation_logs_written_by_module_mutations_count(gql, admin_user):
    gql(admin_user).mutate("createRole", {"name": "Counted"})
    assert MutationLog.objects.count() == 1


# --- node(id:) must not bypass the list rights ----------------------------------------------------
def _global_id(type_name, pk):
    from graphql_relay import to_global_id

    return to_global_id(type_name, str(pk))


def test_node_requires_login(gql, admin_user):
    content = gql(None).query(f'{{ node(id: "{_global_id("RoleGQLType", 1)}") {{ id }} }}')
    assert content["errors"][0]["message"] == "unauthorized"


def test_node_lookups_apply_rights(gql, admin_user, no_rights_user):
    admin_log = gql(admin_user).mutate("createRole", {"name": "Secretive"})
    role = Role.objects.get(name="Secretive")
    targets = {
        "RoleGQLType": role.id,
        "UserGQLType": admin_user.id,
        "InteractiveUserGQLType": admin_user.i_user_id,
        "MutationLogGQLType": admin_log.id,
    }
    for type_name, pk in targets.items():
        query = f'{{ node(id: "{_global_id(type_name, pk)}") {{ id }} }}'
        assert gql(no_rights_user).data(query)["node"] is None, type_name
        assert gql(admin_user).data(query)["node"] is not None, type_name
    own = f'{{ node(id: "{_global_id("UserGQLType", no_rights_user.id)}") {{ id }} }}'
    assert gql(no_rights_user).data(own)["node"] is not None


def test_sensitive_input_never_logged(gql, admin_user):
    log = gql(admin_user).mutate("createUser", {"username": "secretive", "lastName": "S", "otherNames": "S",
                                                "password": "Hidden-Pass-4242"})
    assert log.status == 2, log.error
    assert "Hidden-Pass-4242" not in log.json_content and '"password": "********"' in log.json_content
    from core.models import User

    assert User.objects.get(username="secretive").check_password("Hidden-Pass-4242")


@override_settings(ASYNC_MUTATIONS=True)
def test_sensitive_input_runs_inline_even_when_async(gql, admin_user):
    log = gql(admin_user).mutate("createUser", {"username": "inline", "lastName": "S", "otherNames": "S",
                                                "password": "Hidden-Pass-4242"})
    log.refresh_from_db()
    assert log.status == 2, log.error
