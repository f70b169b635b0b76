"""GraphQL queries: upstream behaviours, eligibility, denial paths, SQL counts, exports."""
import csv
import io
import json

import pytest
from django.test import Client

from social_protection.apps import SocialProtectionConfig as Cfg

pytestmark = pytest.mark.django_db

CRITERIA = {"POTENTIAL": [{"field": "number_of_children", "filter": "gt", "type": "integer", "value": "1"}]}
NODE = "edges { node { id uuid jsonExt status isEligible individual { firstName lastName dob } benefitPlan { id } } }"


@pytest.fixture
def plan_with_beneficiaries(make_plan, make_individual, enrol):
    plan = make_plan(criteria=CRITERIA)
    two = make_individual("Two", children=2)
    one = make_individual("One", children=1)
    none = make_individual("None", children=0)
    make_individual("Outside", children=5)
    enrol(plan, two)
    enrol(plan, one)
    enrol(plan, none, status="ACTIVE")
    return plan


def beneficiaries(gql, user, plan, args=""):
    return gql(user).data(f'{{ beneficiary(benefitPlan_Id: "{plan.id}", isDeleted: false {args}) '
                          f'{{ totalCount {NODE} }} }}')["beneficiary"]


def totals(fetch, gql, user, plan, name_filter):
    """Total counts: all, filtered by name, custom-filtered on fewer than 2 children, on 2 or more."""
    return [fetch(gql, user, plan, args)["totalCount"] for args in (
        "", name_filter, ', customFilters: ["number_of_children__lt__integer=2"]',
        ', customFilters: ["number_of_children__gte__integer=2"]')]


def test_beneficiary_upstream_behaviours(gql, admin_user, plan_with_beneficiaries):
    plan = plan_with_beneficiaries
    data = beneficiaries(gql, admin_user, plan)
    assert {e["node"]["isEligible"] for e in data["edges"]} == {None}
    assert totals(beneficiaries, gql, admin_user, plan, ', individual_FirstName_Icontains: "no"') == [3, 1, 2, 1]
    potential = beneficiaries(gql, admin_user, plan, ", status: POTENTIAL")
    assert potential["totalCount"] == 2
    eligibility = {e["node"]["individual"]["firstName"]: e["node"]["isEligible"] for e in potential["edges"]}
    assert eligibility == {"Two": True, "One": False}
    eligible = beneficiaries(gql, admin_user, plan, ", status: POTENTIAL, isEligible: true")
    assert eligible["totalCount"] == 1
    assert eligible["edges"][0]["node"]["individual"]["firstName"] == "Two"
    assert beneficiaries(gql, admin_user, plan, ", status: POTENTIAL, isEligible: false")["totalCount"] == 1
    # no criteria for ACTIVE: eligibility stays null
    active = beneficiaries(gql, admin_user, plan, ", status: ACTIVE")
    assert [e["node"]["isEligible"] for e in active["edges"]] == [None]


@pytest.fixture
def group_plan(make_plan, make_individual, make_group, enrol):
    plan = make_plan(code="GRP", type="GROUP", criteria=CRITERIA)
    # the 2-children group also has two 0-children members, each added as HEAD (the head moves to the last)
    g2 = make_group("G2", [(make_individual(name, children=children), "HEAD")
                           for name, children in (("A", 2), ("B", 0), ("C", 0))])
    g1 = make_group("G1", [(make_individual("D", children=1), "HEAD")])
    g0 = make_group("G0", [(make_individual("E", children=0), "HEAD")])
    make_group("OUT", [(make_individual("F", children=3), "HEAD")])
    enrol(plan, group=g2)
    enrol(plan, group=g1)
    enrol(plan, group=g0, status="ACTIVE")
    return plan


def group_beneficiaries(gql, user, plan, args=""):
    return gql(user).data(f'{{ groupBeneficiary(benefitPlan_Id: "{plan.id}", isDeleted: false {args}) '
                          '{ totalCount edges { node { id status isEligible group { id code head { uuid } } } } } }'
                          )["groupBeneficiary"]


def test_group_beneficiary_upstream_behaviours(gql, admin_user, group_plan):
    plan = group_plan
    # any member's attributes match (spec §2.3)
    assert totals(group_beneficiaries, gql, admin_user, plan, ', group_Code_Icontains: "g2"') == [3, 1, 3, 1]
    potential = group_beneficiaries(gql, admin_user, plan, ", status: POTENTIAL")
    assert potential["totalCount"] == 2
    assert {e["node"]["group"]["code"]: e["node"]["isEligible"] for e in potential["edges"]} == {"G2": True,
                                                                                                 "G1": False}
    assert group_beneficiaries(gql, admin_user, plan, ", status: POTENTIAL, isEligible: true")["totalCount"] == 1
    assert group_beneficiaries(gql, admin_user, plan, ", status: POTENTIAL, isEligible: false")["totalCount"] == 1


def test_benefit_plan_query_and_filters(gql, admin_user, make_plan, make_individual, make_group, enrol):
    plan = make_plan(code="CASH", name="Cash transfer")
    other = make_plan(code="FOOD", name="Food basket", type="GROUP")
    person = make_individual("Member")
    enrol(plan, person, status="ACTIVE")
    group = make_group("HH", [(person, "HEAD")])
    enrol(other, group=group)
    client = gql(admin_user)
    fields = ("{ totalCount edges { node { uuid code type hasPaymentPlans beneficiaryDataSchema jsonExt "
              "userUpdated { username } } } }")

    def codes(args):
        data = client.data(f"{{ benefitPlan({args}) {fields} }}")["benefitPlan"]
        return sorted(e["node"]["code"] for e in data["edges"])

    assert codes("isDeleted: false") == ["CASH", "FOOD"]
    assert codes('search: "cash"') == ["CASH"]
    assert codes("type: GROUP") == ["FOOD"]
    assert codes(f'individualId: "{person.id}"') == ["CASH", "FOOD"]
    assert codes(f'individualId: "{person.id}", beneficiaryStatus: "ACTIVE"') == ["CASH"]
    assert codes(f'groupId: "{group.id}"') == ["FOOD"]
    assert codes("applyDefaultValidityFilter: true") == ["CASH", "FOOD"]
    node = client.data(f'{{ benefitPlan(id: "{plan.id}") {fields} }}')["benefitPlan"]["edges"][0]["node"]
    assert node["hasPaymentPlans"] is False and json.loads(node["beneficiaryDataSchema"])["properties"]


def test_schema_fields_hidden_without_schema_right(gql, make_user, plan_with_beneficiaries):
    user = make_user("viewer", rights=[160001, 170001])
    node = gql(user).data("{ benefitPlan { edges { node { code beneficiaryDataSchema jsonExt } } } }")[
        "benefitPlan"]["edges"][0]["node"]
    assert node["beneficiaryDataSchema"] is None and node["jsonExt"] is None
    data = beneficiaries(gql, user, plan_with_beneficiaries)
    assert {e["node"]["jsonExt"] for e in data["edges"]} == {None}


def test_benefit_plan_history(gql, admin_user, make_plan):
    plan = make_plan()
    plan.name = "Changed"
    plan.save(user=admin_user)
    data = gql(admin_user).data(f'{{ benefitPlanHistory(isDeleted: false, id: "{plan.id}", orderBy: ["-version"]) '
                                '{ totalCount edges { node { uuid name version userUpdated { username } } } } }')
    nodes = [e["node"] for e in data["benefitPlanHistory"]["edges"]]
    assert [n["version"] for n in nodes] == [2, 1]
    assert nodes[0]["name"] == "Changed" and nodes[0]["uuid"] == str(plan.id)


def test_validity_queries(gql, admin_user, make_plan):
    make_plan(code="TAKEN", name="Taken name")
    client = gql(admin_user)
    data = client.data('{ c: bfCodeValidity(bfCode: "TAKEN") { isValid errorMessage } '
                       'f: bfCodeValidity(bfCode: "FREE") { isValid } '
                       'n: bfNameValidity(bfName: "Taken name") { isValid errorMessage } '
                       's: bfSchemaValidity(bfSchema: "{\\"properties\\": {\\"a\\": {\\"type\\": 5}}}") '
                       '{ isValid errorMessage } '
                       'j: bfSchemaValidity(bfSchema: "nope") { isValid errorMessage } '
                       'ok: bfSchemaValidity(bfSchema: "{\\"type\\": \\"object\\"}") { isValid } }')
    assert data["c"] == {"isValid": False, "errorMessage": "BenefitPlan code TAKEN already exists"}
    assert data["f"]["isValid"] is True
    assert data["n"]["errorMessage"] == "BenefitPlan name Taken name already exists"
    assert data["s"]["isValid"] is False and data["s"]["errorMessage"].startswith("Schema is not valid")
    assert data["j"]["errorMessage"].startswith("Schema json is not valid")
    assert data["ok"]["isValid"] is True


def test_schema_field_query(gql, admin_user, make_plan):
    make_plan()
    make_plan(code="G", type="GROUP", schema={"properties": {"household_size": {"type": "integer"}}})
    client = gql(admin_user)
    assert client.data("{ benefitPlanSchemaField { schemaFields } }")["benefitPlanSchemaField"]["schemaFields"] == [
        "json_ext__educated_level", "json_ext__household_size", "json_ext__number_of_children"]
    data = client.data("{ benefitPlanSchemaField(bfType: GROUP) { schemaFields } }")
    assert data["benefitPlanSchemaField"]["schemaFields"] == ["json_ext__household_size"]


def test_custom_filter_definitions(gql, admin_user, make_plan):
    plan = make_plan()
    data = gql(admin_user).data(
        f'{{ customFilters(moduleName: "social_protection", objectTypeName: "BenefitPlan", uuidOfObject: "{plan.id}")'
        ' { type possibleFilters { field filter type } } }')
    filters = {(f["field"], f["filter"]) for f in data["customFilters"][0]["possibleFilters"]}
    assert ("number_of_children", "gt") in filters and ("educated_level", "icontains") in filters


def test_upload_history_query(gql, admin_user, make_plan, make_individual):
    from social_protection.services import EnrollmentService
    from individual.models import Individual

    plan = make_plan()
    make_individual(children=3)
    EnrollmentService(admin_user).enroll_individuals(Individual.objects.all(), plan.id, "POTENTIAL",
                                                     maker_checker=True)
    data = gql(admin_user).data(
        f'{{ beneficiaryDataUploadHistory(benefitPlan_Id: "{plan.id}", orderBy: ["-dateCreated"]) {{ totalCount '
        'edges { node { id uuid workflow dataUpload { uuid sourceName sourceType status userCreated { username } } '
        '} } } }')["beneficiaryDataUploadHistory"]
    assert data["totalCount"] == 1
    node = data["edges"][0]["node"]
    assert node["workflow"] == "Enrollment" and node["dataUpload"]["status"] == "WAITING_FOR_VERIFICATION"


LIST_QUERIES = [
    ("benefitPlan", "{ benefitPlan { totalCount } }", "Unauthorized"),
    ("benefitPlanHistory", "{ benefitPlanHistory { totalCount } }", "Unauthorized"),
    ("beneficiary", "{ beneficiary { totalCount } }", "Unauthorized"),
    ("groupBeneficiary", "{ groupBeneficiary { totalCount } }", "Unauthorized"),
    ("beneficiaryDataUploadHistory", "{ beneficiaryDataUploadHistory { totalCount } }", "Unauthorized"),
    ("beneficiaryExport", '{ beneficiaryExport(fields: ["id"]) }', "Unauthorized"),
    ("groupBeneficiaryExport", '{ groupBeneficiaryExport(fields: ["id"]) }', "Unauthorized"),
    ("bfCodeValidity", '{ bfCodeValidity(bfCode: "X") { isValid } }', "unauthorized"),
    ("bfNameValidity", '{ bfNameValidity(bfName: "X") { isValid } }', "unauthorized"),
    ("bfSchemaValidity", '{ bfSchemaValidity(bfSchema: "{}") { isValid } }', "unauthorized"),
    ("benefitPlanSchemaField", "{ benefitPlanSchemaField { schemaFields } }", "unauthorized"),
]


@pytest.mark.parametrize("name, query, message", LIST_QUERIES, ids=[q[0] for q in LIST_QUERIES])
@pytest.mark.parametrize("who", ["anonymous", "no_rights"])
def test_query_denied(gql, no_rights_user, name, query, message, who):
    user = None if who == "anonymous" else no_rights_user
    content = gql(user).query(query)
    assert content["errors"], content
    assert content["errors"][0]["message"] in (message, "unauthorized"), content
    if who == "no_rights":
        assert content["errors"][0]["message"] == message
    assert not (content.get("data") or {}).get(name)


def test_rights_come_from_config(gql, make_user, make_plan):
    make_plan()
    plan_reader = make_user("reader", rights=[int(Cfg.gql_benefit_plan_search_perms[0])])
    assert gql(plan_reader).data("{ benefitPlan { totalCount } }")["benefitPlan"]["totalCount"] == 1
    assert gql(plan_reader).query("{ beneficiary { totalCount } }")["errors"][0]["message"] == "Unauthorized"


def _fetch_export(user, name):
    from graphql_jwt.shortcuts import get_token

    response = Client().get(f"/api/core/fetch_export?export={name}",
                            HTTP_AUTHORIZATION=f"Bearer {get_token(user)}")
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"))))


def test_beneficiary_export_content(gql, admin_user, make_plan, make_individual, enrol):
    plan = make_plan()
    enrol(plan, make_individual("=cmd|' /C calc'!A0", "Doe", children=2, educated_level="@primary"))
    enrol(plan, make_individual("Plain", "Person", children=0))
    columns = json.dumps({"id": "ID", "individual__first_name": "export.firstName",
                          "individual__last_name": "export.lastName", "individual__dob": "export.dob"})
    query = ('{ beneficiaryExport(benefitPlan_Id: "%s", isDeleted: false, fileFormat: "csv", '
             'fields: ["id","individual.first_name","individual.last_name","individual.dob","json_ext"], '
             'fieldsColumns: %s) }' % (plan.id, json.dumps(columns)))
    name = gql(admin_user).data(query)["beneficiaryExport"]
    rows = _fetch_export(admin_user, name)
    header = rows[0]
    assert header[:4] == ["ID", "export.firstName", "export.lastName", "export.dob"]
    assert set(header[4:]) == {"number_of_children", "educated_level"}
    by_name = {row[2]: dict(zip(header, row)) for row in rows[1:]}
    assert by_name["Doe"]["export.firstName"].startswith("'=")  # formula neutralised
    assert by_name["Doe"]["educated_level"] == "'@primary"
    assert by_name["Person"]["number_of_children"] == "0"
    assert len(rows) == 3


def test_beneficiary_export_respects_custom_filters(gql, admin_user, make_plan, make_individual, enrol):
    plan = make_plan()
    enrol(plan, make_individual("Many", children=4))
    enrol(plan, make_individual("Few", children=0))
    name = gql(admin_user).data(
        '{ beneficiaryExport(benefitPlan_Id: "%s", customFilters: ["number_of_children__gt__integer=1"], '
        'fields: ["individual.first_name"]) }' % plan.id)["beneficiaryExport"]
    assert _fetch_export(admin_user, name)[1:] == [["Many"]]


def test_group_beneficiary_export(gql, admin_user, group_plan):
    name = gql(admin_user).data('{ groupBeneficiaryExport(benefitPlan_Id: "%s", status: POTENTIAL, '
                                'fields: ["group.code", "status"]) }' % group_plan.id)["groupBeneficiaryExport"]
    rows = _fetch_export(admin_user, name)
    assert rows[0] == ["group.code", "status"]
    assert sorted(r[0] for r in rows[1:]) == ["G1", "G2"]


def test_has_payment_plans_comes_from_the_payment_module(gql, admin_user, make_plan, make_individual, enrol,
                                                         monkeypatch):
    """A payment module registers its live payment plans (``register_payment_plans``); without one, no plan has
    any. Stand-in here: the live beneficiaries, which carry a ``benefit_plan_id`` as payment plans do."""
    from social_protection import services

    paid = make_plan(code="PAID")
    make_plan(code="UNPAID")
    enrol(paid, make_individual())
    query = "{ benefitPlan(orderBy: [\"code\"]) { edges { node { code hasPaymentPlans } } } }"

    def answer():
        edges = gql(admin_user).data(query)["benefitPlan"]["edges"]
        return {edge["node"]["code"]: edge["node"]["hasPaymentPlans"] for edge in edges}

    assert answer() == {"PAID": False, "UNPAID": False}
    monkeypatch.setattr(services, "_payment_plans", lambda: services.Beneficiary.objects.filter(is_deleted=False))
    assert answer() == {"PAID": True, "UNPAID": False}
