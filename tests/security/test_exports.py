"""Issue 10, item 1: exports accept only the list's own columns and its declared relations, and every JSON column
is masked by the policy of the type that owns it.

The attacks are sent as the frontend sends exports (``{ xExport(..., fields: [...], fieldsColumns: "...") }``
over HTTP with a bearer token), the files fetched from ``/api/core/fetch_export`` like the browser does.
"""
import csv
import io
import json

import pytest
from django.test import Client
from graphql_jwt.shortcuts import get_token

from core.masking import MASK_STRING
from core.models import ExportableQueryModel
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

pytestmark = pytest.mark.django_db

SECRET = {"educated_level": "tertiary", "beneficiary_data_source": "census", "number_of_children": 4}


def fetch(user, name):
    response = Client().get(f"/api/core/fetch_export?export={name}", HTTP_AUTHORIZATION=f"Bearer {get_token(user)}")
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def by_first_column(rows):
    return {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}


@pytest.fixture
def household(admin_user):
    """A household whose head carries masked attributes (the group's json_ext mirrors them)."""
    group = GroupFactory(code="HH-1", acting_user=admin_user)
    head = IndividualFactory(first_name="Hana", last_name="Head", json_ext=dict(SECRET), acting_user=admin_user)
    GroupIndividualFactory(group=group, individual=head, role="HEAD", acting_user=admin_user)
    group.refresh_from_db()
    assert group.json_ext.get("educated_level") == "tertiary"  # what the household path reached
    return group, head


@pytest.fixture
def searcher(make_user):
    """Holds only the individual search right."""
    return make_user("searcher", rights=[159001])


@pytest.mark.parametrize("field", [
    "user_created__password",                   # the record creator's password hash
    "user_created.password",
    "user_updated__password",
    "user_created__username",
    "groupindividual__group__json_ext",         # the household's copy of the head's attributes
    "groupindividual__individual__json_ext__educated_level",
    "groupindividual__group__groupindividual__individual__first_name",
    "location__parent__code",                   # a relation the list does not declare
    "beneficiary__json_ext",                    # a reverse relation into another module
    "no_such_field",
])
def test_individual_export_refuses_paths_outside_its_columns(gql, searcher, household, field):
    content = gql(searcher).query('{ individualExport(fields: ["first_name", %s]) }' % json.dumps(field))
    assert content["data"]["individualExport"] is None
    [error] = content["errors"]
    assert error["message"] == f"Unknown export field '{field}': not a column of individualExport"
    assert not ExportableQueryModel.objects.exists()  # nothing stored, no file


def test_password_hashes_never_reach_an_export_file(gql, searcher, household, admin_user):
    content = gql(searcher).query('{ individualExport(fields: ["id", "user_created__password"]) }')
    assert "errors" in content
    assert not ExportableQueryModel.objects.exists()
    assert admin_user.password not in json.dumps(content)


def test_list_columns_are_the_types_exposed_fields(gql, searcher, household):
    _, head = household
    fields = ["id", "first_name", "last_name", "dob", "is_deleted", "version", "location", "date_created",
              "json_ext__number_of_children"]
    name = gql(searcher).data('{ individualExport(fields: %s) }' % json.dumps(fields))["individualExport"]
    rows = fetch(searcher, name)
    assert rows[0] == fields
    assert rows[1][:3] == [str(head.id), "Hana", "Head"] and rows[1][8] == "4"


def test_membership_export_masks_the_groups_json_ext(gql, make_user, household):
    """``group__json_ext`` on a membership export is the group's JSON: masked by the group type's policy."""
    group, _ = household
    clerk = make_user("clerk", rights=[159001, 180001])
    fields = ["individual.first_name", "group__json_ext", "group.json_ext__educated_level",
              "individual.json_ext__beneficiary_data_source"]
    name = gql(clerk).data('{ groupIndividualExport(group_Id: "%s", fields: %s) }'
                           % (group.id, json.dumps(fields)))["groupIndividualExport"]
    rows = fetch(clerk, name)
    [row] = by_first_column(rows).values()
    assert row["group.json_ext__educated_level"] == MASK_STRING
    assert row["individual.json_ext__beneficiary_data_source"] == MASK_STRING
    assert row["educated_level"] == MASK_STRING and row["beneficiary_data_source"] == MASK_STRING
    assert row["number_of_children"] == "4"  # not a masked attribute
    flat = json.dumps(rows)
    assert "tertiary" not in flat and "census" not in flat

    auditor = make_user("auditor", rights=[159001, 180001, 900101])
    name = gql(auditor).data('{ groupIndividualExport(group_Id: "%s", fields: %s) }'
                             % (group.id, json.dumps(fields)))["groupIndividualExport"]
    [row] = by_first_column(fetch(auditor, name)).values()
    assert row["group.json_ext__educated_level"] == "tertiary" and row["educated_level"] == "tertiary"


@pytest.mark.parametrize("threshold", [10000, 0], ids=["in-request", "celery-from-stored-description"])
def test_beneficiary_export_masks_the_individuals_json_ext(gql, make_user, household, admin_user, settings,
                                                            threshold, django_capture_on_commit_callbacks):
    """``individual__json_ext`` on a beneficiary export is the individual's JSON: masked by the individual policy,
    also when a worker rebuilds the file from the stored description."""
    settings.EXPORT_ASYNC_THRESHOLD = threshold
    _, head = household
    plan = BenefitPlanFactory(acting_user=admin_user)
    BeneficiaryFactory(individual=head, benefit_plan=plan, json_ext={}, acting_user=admin_user)
    clerk = make_user("clerk", rights=[170001, 171001])
    fields = ["individual.first_name", "individual__json_ext", "individual.json_ext__educated_level"]
    with django_capture_on_commit_callbacks(execute=True):
        name = gql(clerk).data('{ beneficiaryExport(benefitPlan_Id: "%s", fields: %s) }'
                               % (plan.id, json.dumps(fields)))["beneficiaryExport"]
    rows = fetch(clerk, name)
    row = by_first_column(rows)["Hana"]
    assert row["individual.json_ext__educated_level"] == MASK_STRING
    assert row["educated_level"] == MASK_STRING and row["beneficiary_data_source"] == MASK_STRING
    assert "tertiary" not in json.dumps(rows)


def test_group_beneficiary_export_masks_the_groups_json_ext(gql, make_user, household, admin_user):
    group, _ = household
    plan = BenefitPlanFactory(type="GROUP", acting_user=admin_user)
    GroupBeneficiaryFactory(group=group, benefit_plan=plan, json_ext={}, acting_user=admin_user)
    clerk = make_user("clerk", rights=[170001, 171001])
    name = gql(clerk).data('{ groupBeneficiaryExport(benefitPlan_Id: "%s", fields: ["group.code", "group__json_ext"]) }'
                           % plan.id)["groupBeneficiaryExport"]
    rows = fetch(clerk, name)
    assert by_first_column(rows)["HH-1"]["educated_level"] == MASK_STRING
    assert "tertiary" not in json.dumps(rows)


def test_beneficiary_json_ext_needs_the_schema_right_in_exports_too(gql, make_user, household, admin_user):
    """The list answers ``jsonExt: null`` without the schema search right (spec §2.1): so does the export."""
    _, head = household
    plan = BenefitPlanFactory(acting_user=admin_user)
    BeneficiaryFactory(individual=head, benefit_plan=plan, json_ext={"number_of_children": 4, "phone": "555"},
                       acting_user=admin_user)
    clerk = make_user("clerk", rights=[170001])
    name = gql(clerk).data('{ beneficiaryExport(benefitPlan_Id: "%s", fields: ["individual.first_name", "json_ext", '
                           '"json_ext__phone"]) }' % plan.id)["beneficiaryExport"]
    rows = fetch(clerk, name)
    assert rows == [["individual.first_name", "json_ext__phone"], ["Hana", ""]]


# --- the frontend's exports keep working (documents from openimis-fe-*_js, as captured in client_ops.jsonl) ----
FE_EXPORTS = {
    "downloadIndividuals": (
        'individualExport(isDeleted: false,fileFormat: "csv",fields: ["id","first_name","last_name","dob"],'
        'fieldsColumns: "{\\"id\\":\\"ID\\",\\"first_name\\":\\"export.firstName\\",\\"last_name\\":'
        '\\"export.lastName\\",\\"dob\\":\\"export.dob\\"}")',
        ["ID", "export.firstName", "export.lastName", "export.dob"]),
    "downloadIndividuals#2": (
        'individualExport(isDeleted: false,groupId: "{group}",fileFormat: "csv",fields: ["id","first_name",'
        '"last_name","dob","json_ext"],fieldsColumns: "{\\"id\\":\\"ID\\",\\"first_name\\":\\"export.firstName\\",'
        '\\"last_name\\":\\"export.lastName\\",\\"dob\\":\\"export.dob\\"}")',
        ["ID", "export.firstName", "export.lastName", "export.dob"]),
    "downloadGroups": (
        'groupExport(isDeleted: false,fileFormat: "csv",fields: ["id","json_ext"],fieldsColumns: "{\\"id\\":\\"ID\\"}")',
        ["ID"]),
    "downloadBeneficiaries": (
        'beneficiaryExport(benefitPlan_Id: "{plan}",isDeleted: false,fileFormat: "csv",fields: ["id",'
        '"individual.first_name","individual.last_name","individual.dob","json_ext"],fieldsColumns: '
        '"{\\"id\\":\\"ID\\",\\"individual__first_name\\":\\"export.firstName\\",\\"individual__last_name\\":'
        '\\"export.lastName\\",\\"individual__dob\\":\\"export.dob\\"}")',
        ["ID", "export.firstName", "export.lastName", "export.dob"]),
    "downloadBeneficiaries#2": (
        'beneficiaryExport(benefitPlan_Id: "{plan}",isDeleted: false,status: POTENTIAL,fileFormat: "csv",fields: '
        '["id","individual.first_name","individual.last_name","individual.dob","json_ext"],fieldsColumns: '
        '"{\\"id\\":\\"ID\\",\\"individual__first_name\\":\\"export.firstName\\",\\"individual__last_name\\":'
        '\\"export.lastName\\",\\"individual__dob\\":\\"export.dob\\"}")',
        ["ID", "export.firstName", "export.lastName", "export.dob"]),
}


@pytest.mark.parametrize("operation", sorted(FE_EXPORTS))
def test_frontend_exports_keep_their_columns(gql, make_user, household, admin_user, operation):
    group, head = household
    plan = BenefitPlanFactory(acting_user=admin_user)
    BeneficiaryFactory(individual=head, benefit_plan=plan, acting_user=admin_user)
    clerk = make_user("clerk", rights=[159001, 180001, 170001, 171001])
    document, header = FE_EXPORTS[operation]
    document = document.replace("{group}", str(group.id)).replace("{plan}", str(plan.id))
    field = document.split("(")[0]
    name = gql(clerk).data("\n    {\n      %s\n    }" % document)[field]
    rows = fetch(clerk, name)
    assert rows[0][:len(header)] == header
    first = by_first_column(rows)[str(group.id) if field == "groupExport" else
                                  str(head.id) if field == "individualExport" else rows[1][0]]
    if "json_ext" in document:
        assert first["educated_level"] == MASK_STRING


# --- every exportable list: its own columns and its declared relations only -------------------------------------
EXPORTS = {  # export field → (arguments, a column it offers, paths it must refuse)
    "individualExport": ("", "first_name", ["user_created__password", "location__code", "groupindividual__role"]),
    "groupExport": ("", "code", ["user_updated__password", "groupindividual__individual__first_name",
                                 "location__parent__code", "groupbeneficiary__json_ext"]),
    "groupIndividualExport": ('group_Id: "{group}", ', "individual.first_name",
                              ["individual__user_created__password", "group__location__code",
                               "individual__groupindividual__group__code", "user_created__email"]),
    "beneficiaryExport": ('benefitPlan_Id: "{plan}", ', "individual.first_name",
                          ["individual__user_created__password", "benefit_plan__user_created__password",
                           "individual__location__code", "individual__groupindividual__group__json_ext"]),
    "groupBeneficiaryExport": ('benefitPlan_Id: "{group_plan}", ', "group.code",
                               ["group__user_created__password", "group__groupindividual__individual__json_ext",
                                "benefit_plan__mutations__mutation__json_content", "user_updated__i_user__id"]),
}


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_every_exportable_list_refuses_paths_outside_its_columns(gql, make_user, household, admin_user, export):
    group, head = household
    plan = BenefitPlanFactory(acting_user=admin_user)
    group_plan = BenefitPlanFactory(type="GROUP", acting_user=admin_user)
    BeneficiaryFactory(individual=head, benefit_plan=plan, acting_user=admin_user)
    GroupBeneficiaryFactory(group=group, benefit_plan=group_plan, acting_user=admin_user)
    clerk = make_user("clerk", rights=[159001, 180001, 170001, 171001, 160001])
    arguments, column, refused = EXPORTS[export]
    arguments = arguments.format(group=group.id, plan=plan.id, group_plan=group_plan.id)
    for field in refused:
        content = gql(clerk).query('{ %s(%sfields: ["id", %s]) }' % (export, arguments, json.dumps(field)))
        assert content["data"][export] is None, field
        assert content["errors"][0]["message"] == f"Unknown export field '{field}': not a column of {export}"
    assert not ExportableQueryModel.objects.exists()
    name = gql(clerk).data('{ %s(%sfields: ["id", %s]) }' % (export, arguments, json.dumps(column)))[export]
    assert len(fetch(clerk, name)) == 2  # the header and the one row


def test_a_district_clerk_exports_no_beneficiary_of_another_district(gql, make_user, admin_user):
    from core.test_helpers import assign_user_districts, create_test_village

    va, vb = create_test_village("A"), create_test_village("B")
    plan = BenefitPlanFactory(acting_user=admin_user)
    for name, village in (("Ann", va), ("Bea", vb)):
        individual = IndividualFactory(first_name=name, location=village, acting_user=admin_user)
        BeneficiaryFactory(individual=individual, benefit_plan=plan, acting_user=admin_user)
    clerk = make_user("clerk", rights=[170001])
    assign_user_districts(clerk, ["AD"])
    name = gql(clerk).data('{ beneficiaryExport(benefitPlan_Id: "%s", fields: ["individual.first_name", '
                           '"individual.last_name"]) }' % plan.id)["beneficiaryExport"]
    rows = fetch(clerk, name)
    assert [row[0] for row in rows[1:]] == ["Ann"]
