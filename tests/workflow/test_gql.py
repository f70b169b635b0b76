"""``workflow(name, group)`` as the import dialogs send it, with the spec's rights (workflow.md §8)."""
import pytest


pytestmark = pytest.mark.django_db

# the social protection upload dialog's document (client_ops.jsonl: social_protection fetchWorkflows)
FRONTEND_SOCIAL_PROTECTION = '\n    {\n      workflow(group: "socialProtection")\n      {\n        name,group\n      }\n    }'
FRONTEND_INDIVIDUAL = '{ workflow(group: "individual") { name, group } }'


# registered by the individual and social_protection apps at start-up (workflow.md §9.1)
SOCIAL_PROTECTION_WORKFLOWS = ["Python Beneficiaries Update", "Python Beneficiaries Upload",
                               "Python Beneficiaries Valid Update", "Python Beneficiaries Valid Upload"]
INDIVIDUAL_WORKFLOWS = ["Python Import Individuals", "Python Update Individuals", "Python Valid Update Individuals",
                        "Python Valid Upload Individuals"]


@pytest.mark.parametrize("right", [159001, 159002, 170002])
def test_each_import_right_lists_the_workflows(make_user, gql, right):
    client = gql(make_user(f"importer{right}", rights=[right]))
    listed = client.data(FRONTEND_SOCIAL_PROTECTION)["workflow"]
    assert sorted(listed, key=lambda w: w["name"]) == [
        {"name": name, "group": "socialProtection"} for name in SOCIAL_PROTECTION_WORKFLOWS]
    assert sorted(w["name"] for w in client.data(FRONTEND_INDIVIDUAL)["workflow"]) == INDIVIDUAL_WORKFLOWS


def test_filters_and_the_example_for_the_admin(admin_user, gql):
    client = gql(admin_user)
    everything = client.data("{ workflow { name group } }")["workflow"]
    assert {"name": "example_workflow", "group": "example_group"} in everything
    assert {"name": "Python Import Individuals", "group": "individual"} in everything
    assert client.data('{ workflow(name: "Python Import Individuals") { group } }')["workflow"] == [
        {"group": "individual"}]
    assert client.data('{ workflow(name: "Python Import Individuals", group: "socialProtection") { name } }')[
        "workflow"] == []
    assert client.data('{ workflow(group: "SocialProtection") { name } }')["workflow"] == []


@pytest.mark.parametrize("who", ["anonymous", "no_rights", "other_rights"])
def test_callers_who_cannot_import_are_refused(no_rights_user, make_user, gql, who):
    user = {"anonymous": None, "no_rights": no_rights_user,
            "other_rights": make_user("planner", rights=[160001, 170001, 159003])}[who]
    content = gql(user).query(FRONTEND_SOCIAL_PROTECTION)
    assert content["data"] == {"workflow": None}
    assert [e["message"] for e in content["errors"]] == ["unauthorized"]


def test_a_failing_engine_is_a_graphql_error_carrying_the_result(lightning_enabled, admin_user, gql):
    lightning_enabled.behaviour["/api/projects/"] = ("status", 503)
    content = gql(admin_user).query(FRONTEND_SOCIAL_PROTECTION)
    assert content["data"] == {"workflow": None}
    message = content["errors"][0]["message"]
    assert message == str({"success": False, "message": "openFN/Lightning request failed", "details": "503"})


def test_lightning_workflows_are_listed_with_the_python_ones(lightning_enabled, admin_user, gql):
    lightning_enabled.add_project("socialProtection", [
        {"name": "Remote Beneficiaries Upload", "triggers": [{"type": "webhook", "id": "hook-1"}]}])
    lightning_enabled.add_project("elsewhere", [{"name": "Other", "triggers": [{"type": "webhook", "id": "h2"}]}])
    listed = gql(admin_user).data(FRONTEND_SOCIAL_PROTECTION)["workflow"]
    assert sorted(w["name"] for w in listed) == sorted([*SOCIAL_PROTECTION_WORKFLOWS, "Remote Beneficiaries Upload"])
    assert {w["group"] for w in listed} == {"socialProtection"}
    # the dialog's request carried the configured bearer token; only the matching project's provision was read
    paths = [(method, path) for method, path, *_ in lightning_enabled.requests]
    assert paths[0] == ("GET", "/api/projects/") and len([p for p in paths if "provision" in p[1]]) == 1
