import csv
import io
import json

import pytest
from django.test import Client
from graphql_jwt.shortcuts import get_token

from core.models import ExportableQueryModel, Location, ModuleConfiguration, Role, RoleRight, invalidate_rights_cache
from core.test_helpers import create_role, create_test_interactive_user
from tests.core.test_app.models import Widget

from .test_mutation_pipeline import schema_with_widgets  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget_reader(make_user):
    return make_user("reader", rights=[990001])


def _fetch(user, name):
    return Client().get(f"/api/core/fetch_export?export={name}", HTTP_AUTHORIZATION=f"Bearer {get_token(user)}")


def test_export_csv_with_json_expansion_and_formula_guard(schema_with_widgets, gql, widget_reader, admin_user):
    Widget(name="=HYPERLINK(\"http://evil\")", json_ext={"email": "a@b.c", "score": 3}).save(user=admin_user)
    Widget(name="plain", json_ext={"email": "@cmd", "extra": "x"}).save(user=admin_user)
    name = gql(widget_reader).data(
        '{ widgetsExport(fields: ["name", "json_ext"], fieldsColumns: "{\\"name\\": \\"Name\\"}", orderBy: ["name"]) }'
    )["widgetsExport"]
    response = _fetch(widget_reader, name)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="export_Widget_')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Name", "email", "score", "extra"]
    assert rows[1][0].startswith("'=")          # formula neutralised
    assert rows[2] == ["plain", "'@cmd", "", "x"]


def test_export_json_key_path_and_xlsx(schema_with_widgets, gql, widget_reader, admin_user):
    from openpyxl import load_workbook

    Widget(name="w", json_ext={"email": "a@b.c"}).save(user=admin_user)
    name = gql(widget_reader).data('{ widgetsExport(fields: ["name", "json_ext__email"], fileFormat: "xlsx") }')["widgetsExport"]
    content = b"".join(_fetch(widget_reader, name).streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[1]] == ["name", "json_ext__email"]
    assert [c.value for c in sheet[2]] == ["w", "a@b.c"]


def test_export_respects_list_rights_and_owner(schema_with_widgets, gql, widget_reader, no_rights_user, admin_user):
    Widget(name="w").save(user=admin_user)
    denied = gql(no_rights_user).query('{ widgetsExport(fields: ["name"]) }')
    assert denied["errors"][0]["message"] == "unauthorized"
    name = gql(widget_reader).data('{ widgetsExport(fields: ["name"]) }')["widgetsExport"]
    assert _fetch(no_rights_user, name).status_code == 403
    assert _fetch(widget_reader, "nope.csv").status_code == 404
    ExportableQueryModel.objects.filter(name=name).update(is_deleted=True)
    assert _fetch(widget_reader, name).status_code == 410
    assert Client().get(f"/api/core/fetch_export?export={name}").status_code == 401


def test_export_bad_field_is_an_error(schema_with_widgets, gql, widget_reader):
    content = gql(widget_reader).query('{ widgetsExport(fields: ["password"]) }')
    assert "Unknown export field" in content["errors"][0]["message"]


def test_large_export_runs_in_celery_task(schema_with_widgets, gql, widget_reader, admin_user, settings,
                                          django_capture_on_commit_callbacks):
    settings.EXPORT_ASYNC_THRESHOLD = 1
    for i in range(3):
        Widget(name=f"w{i}", json_ext={"email": f"w{i}@example.org"}).save(user=admin_user)
    Widget(name="other").save(user=admin_user)
    query = '{ widgetsExport(name_Icontains: "w", fields: ["name", "json_ext__email"], orderBy: ["-name"]) }'
    with django_capture_on_commit_callbacks() as queued:  # the worker starts only once the request commits
        name = gql(widget_reader).data(query)["widgetsExport"]
    export = ExportableQueryModel.objects.get(name=name)
    assert not export.content and len(queued) == 1
    stored = json.loads(export.sql_query)  # a description, not a pickled query
    assert stored["field"] == "widgetsExport" and stored["arguments"] == {"name_Icontains": "w", "orderBy": ["-name"]}
    queued[0]()  # the celery task (eager here) rebuilds the rows through the list's resolver as the user
    rows = list(csv.reader(io.StringIO(b"".join(_fetch(widget_reader, name).streaming_content).decode())))
    assert rows == [["name", "json_ext__email"], ["w2", "w2@example.org"], ["w1", "w1@example.org"],
                    ["w0", "w0@example.org"]]


def test_large_export_worker_applies_the_rights_of_the_time_it_runs(schema_with_widgets, gql, widget_reader,
                                                                    admin_user, settings,
                                                                    django_capture_on_commit_callbacks):
    from django.core.exceptions import PermissionDenied

    from core.gql.export import queryset_of

    settings.EXPORT_ASYNC_THRESHOLD = 0
    Widget(name="w").save(user=admin_user)
    with django_capture_on_commit_callbacks():
        name = gql(widget_reader).data('{ widgetsExport(fields: ["name"]) }')["widgetsExport"]
    export = ExportableQueryModel.objects.get(name=name)
    RoleRight.objects.filter(role__user_roles__user_id=widget_reader.i_user_id).delete()
    invalidate_rights_cache()
    with pytest.raises(PermissionDenied):
        queryset_of(export)


def test_widget_list_is_n_plus_one_free(schema_with_widgets, gql, widget_reader, admin_user,
                                        django_assert_max_num_queries):
    from tests.core.test_app.models import Part

    from core.test_helpers import assign_user_districts

    district = Location.objects.create(type="D", code="DW", name="dw")
    assign_user_districts(widget_reader, ["DW"])
    for i in range(30):
        w = Widget(name=f"w{i}", location=Location.objects.create(type="V", code=f"V{i}", name=f"v{i}",
                                                                  parent=district))
        w.save(user=admin_user)
        Part(widget=w, label="p").save(user=admin_user)
    client = gql(widget_reader)
    query = "{ widgets(first: 100) { totalCount edges { node { name location { code } userUpdated { username } parts { label } } } } }"
    client.data(query)  # warm caches (rights)
    # token deny-list + user, then count + page (FKs joined) + one prefetch for parts, whatever the page size
    with django_assert_max_num_queries(5):
        data = client.data(query)
    assert data["widgets"]["totalCount"] == 30


@pytest.mark.parametrize("query", [
    "{ users(first: 50) { edges { node { username lastName otherNames iUser { id language { code } } } } } }",
    "{ role(first: 50) { totalCount edges { node { id uuid name isSystem } } } }",
    "{ locations(first: 50) { totalCount edges { node { id code parent { code parent { code } } } } } }",
    "{ mutationLogs(first: 50) { totalCount edges { node { id status error user { username } } } } }",
])
def test_core_lists_are_n_plus_one_free(query, gql, admin_user, django_assert_max_num_queries):
    region = Location.objects.create(type="R", code="R", name="R")
    for i in range(20):
        create_test_interactive_user(f"user{i}", rights=[1])
        Location.objects.create(type="D", code=f"D{i}", name="d", parent=region)
        gql(admin_user).mutate("changeUserLanguage", {"languageId": "fr"})
    client = gql(admin_user)
    client.data(query)
    with django_assert_max_num_queries(5):
        client.data(query)


def test_module_configuration_merges_db_over_defaults(db):
    default = {"a": 1, "b": {"x": 1}, "c": [1]}
    assert ModuleConfiguration.get_or_default("thing", default) == default
    ModuleConfiguration.objects.create(module="thing", config=json.dumps({"b": {"y": 2}, "d": True}))
    assert ModuleConfiguration.get_or_default("thing", default) == {"a": 1, "b": {"y": 2}, "c": [1], "d": True}
    from datetime import timedelta

    from django.utils import timezone

    ModuleConfiguration.objects.filter(module="thing").update(is_disabled_until=timezone.now() + timedelta(days=1))
    assert ModuleConfiguration.get_or_default("thing", default) == default


def test_module_configurations_query_is_public_and_exposed_only(gql, db):
    ModuleConfiguration.objects.create(module="fe-core", layer="fe", is_exposed=True,
                                       config=json.dumps({"controls": [{"field": "x", "usage": "M"}]}))
    ModuleConfiguration.objects.create(module="secret", layer="be", is_exposed=False, config="{}")
    data = gql(None).data("{ moduleConfigurations { module config controls { field usage } } }")
    assert [m["module"] for m in data["moduleConfigurations"]] == ["fe-core"]
    assert data["moduleConfigurations"][0]["controls"] == [{"field": "x", "usage": "M"}]


def test_modules_permissions_lists_declared_rights(gql, admin_user):
    data = gql(admin_user).data("{ modulesPermissions { modulePermsList { moduleName permissions { permsName permsValue } } } }")
    core = next(m for m in data["modulesPermissions"]["modulePermsList"] if m["moduleName"] == "core")
    assert {"permsName": "gql_query_roles_perms", "permsValue": 122001} in core["permissions"]


def test_role_crud_through_graphql(gql, admin_user):
    client = gql(admin_user)
    client.mutate("createRole", {"name": "Enroller", "altLanguage": "Inscripteur", "rightsId": [121701, 122001]})
    role = Role.objects.get(name="Enroller")
    assert sorted(role.rights.values_list("right_id", flat=True)) == [121701, 122001]
    client.mutate("updateRole", {"uuid": str(role.uuid), "name": "Enroller", "rightsId": [122001]})
    assert list(role.rights.filter(validity_to__isnull=True).values_list("right_id", flat=True)) == [122001]
    rights = client.data(f'{{ roleRight(role_Uuid: "{role.uuid}") {{ edges {{ node {{ rightId }} }} }} }}')
    assert [e["node"]["rightId"] for e in rights["roleRight"]["edges"]] == [122001]
    assert client.data('{ validateRoleName(roleName: "enroller") }')["validateRoleName"] is False
    listed = client.data('{ role(name_Icontains: "enrol", isSystem: false, roleRight: 122001) { totalCount } }')
    assert listed["role"]["totalCount"] == 1
    dup = client.mutate("createRole", {"name": "Enroller"})
    assert "already exists" in dup.error
    unknown = client.mutate("createRole", {"name": "Weird", "rightsId": [1]})
    assert "Unknown rights" in unknown.error and not Role.objects.filter(name="Weird").exists()
    client.mutate("duplicateRole", {"uuid": str(role.uuid), "name": "Enroller 2"})
    assert Role.objects.get(name="Enroller 2").rights.count() == 1
    client.mutate("deleteRole", {"uuids": [str(role.uuid)]})
    role.refresh_from_db()
    assert role.validity_to is not None
    admin_role = Role.objects.get(is_system=64)
    refused = client.mutate("deleteRole", {"uuids": [str(admin_role.uuid)]})
    assert "System roles cannot be deleted" in refused.error


def test_user_crud_through_graphql(gql, admin_user):
    region = Location.objects.create(type="R", code="R", name="R")
    district = Location.objects.create(type="D", code="D", name="D", parent=region)
    role = create_role("Clerk", [121701])
    client = gql(admin_user)
    log = client.mutate("createUser", {"username": "jdoe", "lastName": "Doe", "otherNames": "Jane",
                                       "email": "j@d.org", "password": "Very-Good-Pass-1", "roles": [role.id],
                                       "districts": [district.id], "language": "fr"})
    assert log.status == 2, log.error
    from core.models import User

    jdoe = User.objects.get(username="jdoe")
    assert jdoe.rights == [121701] and jdoe.language == "fr" and jdoe.check_password("Very-Good-Pass-1")
    listed = client.data('{ users(str: "doe") { totalCount edges { node { username lastName } } } }')
    assert listed["users"]["edges"][0]["node"] == {"username": "jdoe", "lastName": "Doe"}
    weak = client.mutate("createUser", {"username": "weak", "lastName": "W", "otherNames": "W", "password": "123"})
    assert weak.status == 1 and not User.objects.filter(username="weak").exists()
    client.mutate("updateUser", {"uuid": str(jdoe.id), "lastName": "Smith", "roles": []})
    jdoe = User.objects.get(username="jdoe")
    assert jdoe.last_name == "Smith" and jdoe.rights == []
    client.mutate("deleteUser", {"uuids": [str(jdoe.id)]})
    assert not User.objects.get(username="jdoe").is_active
    assert client.data('{ validateUsername(username: "JDOE") }')["validateUsername"] is False


def test_role_of_deleted_user_can_be_deleted(gql, admin_user):
    """A deleted user's live role assignment must not block deleting the role (README walkthrough)."""
    role = create_role("Temp clerk", [121701])
    client = gql(admin_user)
    log = client.mutate("createUser", {"username": "tmpclerk", "lastName": "T", "otherNames": "C",
                                       "password": "Very-Good-Pass-1", "roles": [role.id]})
    assert log.status == 2, log.error
    from core.models import User

    blocked = client.mutate("deleteRole", {"uuids": [str(role.uuid)]})
    assert "still assigned to users" in blocked.error
    client.mutate("deleteUser", {"uuids": [str(User.objects.get(username="tmpclerk").id)]})
    log = client.mutate("deleteRole", {"uuids": [str(role.uuid)]})
    assert log.status == 2, log.error
    role.refresh_from_db()
    assert role.validity_to is not None

def test_user_districts_query(gql, make_user):
    from core.test_helpers import assign_user_districts

    region = Location.objects.create(type="R", code="R", name="R")
    Location.objects.create(type="D", code="D1", name="One", parent=region)
    Location.objects.create(type="D", code="D2", name="Two", parent=region)
    user = make_user("d1", rights=[1])
    assign_user_districts(user, ["D1"])
    data = gql(user).data("{ userDistricts { code name parent { code } } }")
    assert data["userDistricts"] == [{"code": "D1", "name": "One", "parent": {"code": "R"}}]
