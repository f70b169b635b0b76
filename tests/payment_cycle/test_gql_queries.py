"""payment_cycle queries through the GraphQL endpoint: the frontend's own operations (compat/client_ops.jsonl),
filters, the ``PaymentCycleStatus`` enum, code validity, payment plans, entitlements with the registry's row
security, summaries, the deduplication summary, and the refusals an attacker would meet."""
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from graphql_relay import to_global_id

from core.models import MutationLog
from payment_cycle.models import EntitlementStatus, PaymentCycle
from tests.individual.factories import GroupFactory, IndividualFactory
from tests.payment_cycle.factories import (
    EntitlementFactory,
    PaymentCycleFactory,
    PaymentCycleMutationFactory,
    PaymentPlanFactory,
)
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

pytestmark = pytest.mark.django_db

OPS = Path(__file__).resolve().parents[2] / "compat" / "client_ops.jsonl"
ACTIVE, PENDING, SUSPENDED = (PaymentCycle.PaymentCycleStatus.ACTIVE, PaymentCycle.PaymentCycleStatus.PENDING,
                              PaymentCycle.PaymentCycleStatus.SUSPENDED)


def client_op(op_id):
    for line in OPS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            op = json.loads(line)
            if op["id"] == op_id:
                return op
    raise AssertionError(f"{op_id} not in {OPS}")


def nodes(data, name):
    return [edge["node"] for edge in data[name]["edges"]]


def refused(content, name, message="Unauthorized"):
    """The query answered no data and the error the spec names."""
    assert (content.get("data") or {}).get(name) in (None, []), content
    assert [e["message"] for e in content.get("errors", [])] == [message], content


@pytest.fixture
def cycles(admin_user):
    return {
        "march": PaymentCycleFactory(code="2025-March", start_date=datetime.date(2025, 3, 1),
                                     end_date=datetime.date(2025, 3, 31), status=ACTIVE, acting_user=admin_user),
        "april": PaymentCycleFactory(code="2025-April", start_date=datetime.date(2025, 4, 1),
                                     end_date=datetime.date(2025, 4, 30), status=PENDING, acting_user=admin_user),
        "may": PaymentCycleFactory(code="2025-May", start_date=datetime.date(2025, 5, 1),
                                   end_date=datetime.date(2025, 5, 31), status=SUSPENDED, acting_user=admin_user),
        "old": PaymentCycleFactory(code="2024-March", start_date=datetime.date(2024, 3, 1),
                                   end_date=datetime.date(2024, 3, 31), status=ACTIVE, is_deleted=True,
                                   acting_user=admin_user),
    }


# --- paymentCycle -------------------------------------------------------------------------------------------
def test_frontend_list_operation(gql, admin_user, cycles):
    content = gql(admin_user).query(client_op("payment_cycle/src/actions.js/fetchPaymentCycles")["document"])
    assert "errors" not in content, content
    data = content["data"]["paymentCycle"]
    assert data["totalCount"] == 4  # soft-deleted cycles are listed unless isDeleted: false is given (spec §4.1)
    assert data["pageInfo"]["hasNextPage"] is False and data["pageInfo"]["startCursor"]
    by_code = {node["code"]: node for node in nodes(content["data"], "paymentCycle")}
    assert by_code["2025-March"] == {"id": to_global_id("PaymentCycleGQLType", str(cycles["march"].id)),
                                     "code": "2025-March", "startDate": "2025-03-01", "endDate": "2025-03-31",
                                     "status": "ACTIVE"}
    assert by_code["2025-May"]["status"] == "SUSPENDED"


def test_frontend_picker_operation_with_status_variable(gql, admin_user, cycles):
    op = client_op("payment_cycle/src/pickers/PaymentCyclePicker.js/PaymentCyclePicker")
    client = gql(admin_user)
    data = client.data(op["document"], {"isDeleted": False, "status": "ACTIVE", "first": 10})
    assert [n["code"] for n in nodes(data, "paymentCycle")] == ["2025-March"]  # the deleted ACTIVE one is not
    data = client.data(op["document"], {**op["variables"], "search": "2025-a"})
    assert [n["code"] for n in nodes(data, "paymentCycle")] == ["2025-April"]
    assert set(nodes(data, "paymentCycle")[0]) == {"id", "code", "startDate", "endDate"}
    # an unknown status literal is refused by the schema, nothing is read
    content = client.query(op["document"], {"status": "CLOSED"})
    assert content.get("data") is None and "PaymentCycleStatus" in content["errors"][0]["message"]


def test_status_enum_is_named_by_the_contract(gql, admin_user):
    data = gql(admin_user).data("""{
      enum: __type(name: "PaymentCycleStatus") { kind enumValues { name } }
      node: __type(name: "PaymentCycleGQLType") { fields { name type { name kind ofType { name } } } }
      query: __schema { queryType { fields { name args { name type { name } } } } } }""")
    assert data["enum"]["kind"] == "ENUM"
    assert [v["name"] for v in data["enum"]["enumValues"]] == ["PENDING", "ACTIVE", "SUSPENDED"]
    status = next(f for f in data["node"]["fields"] if f["name"] == "status")
    assert (status["type"]["name"] or status["type"]["ofType"]["name"]) == "PaymentCycleStatus"
    field = next(f for f in data["query"]["queryType"]["fields"] if f["name"] == "paymentCycle")
    args = {a["name"]: a["type"]["name"] for a in field["args"]}
    assert args["status"] == "PaymentCycleStatus"
    # the generic openIMIS arguments and the frontend's filters are there
    assert {"search", "clientMutationId", "dateValidFrom_Gte", "dateValidTo_Lte", "applyDefaultValidityFilter",
            "code_Icontains", "startDate_Gte", "endDate_Lte", "type_Id", "isDeleted", "orderBy"} <= set(args)


@pytest.mark.parametrize("arguments, expected", [
    ('isDeleted: false, status: ACTIVE', ["2025-March"]),
    ('isDeleted: false, code_Icontains: "2025-"', ["2025-April", "2025-March", "2025-May"]),
    ('isDeleted: false, startDate_Gte: "2025-04-01"', ["2025-April", "2025-May"]),
    ('isDeleted: false, endDate_Lte: "2025-04-30"', ["2025-April", "2025-March"]),
    ('isDeleted: true', ["2024-March"]),
    ('code: "2025-May"', ["2025-May"]),
    ('search: "MARCH"', ["2024-March", "2025-March"]),
    ('status_Iexact: SUSPENDED', ["2025-May"]),
    # accepted and ignored (spec §4.1): a cycle has no validity dates
    ('isDeleted: false, dateValidFrom_Gte: "2030-01-01T00:00:00", dateValidTo_Lte: "2000-01-01T00:00:00", '
     'applyDefaultValidityFilter: true', ["2025-April", "2025-March", "2025-May"]),
])
def test_list_filters(gql, admin_user, cycles, arguments, expected):
    data = gql(admin_user).data("{ paymentCycle(%s) { totalCount edges { node { code } } } }" % arguments)
    assert sorted(n["code"] for n in nodes(data, "paymentCycle")) == expected
    assert data["paymentCycle"]["totalCount"] == len(expected)


def test_order_by_and_pages(gql, admin_user, cycles):
    client = gql(admin_user)
    data = client.data('{ paymentCycle(isDeleted: false, orderBy: ["-endDate"], first: 2) { totalCount '
                       'pageInfo { hasNextPage endCursor } edges { node { code } } } }')
    assert [n["code"] for n in nodes(data, "paymentCycle")] == ["2025-May", "2025-April"]
    assert data["paymentCycle"]["pageInfo"]["hasNextPage"] is True and data["paymentCycle"]["totalCount"] == 3
    after = data["paymentCycle"]["pageInfo"]["endCursor"]
    data = client.data('{ paymentCycle(isDeleted: false, orderBy: ["-endDate"], first: 2, after: "%s") '
                       '{ edges { node { code } } } }' % after)
    assert [n["code"] for n in nodes(data, "paymentCycle")] == ["2025-March"]
    data = client.data('{ paymentCycle(isDeleted: false, orderBy: ["startDate"], offset: 1, first: 1) '
                       '{ edges { node { code } } } }')
    assert [n["code"] for n in nodes(data, "paymentCycle")] == ["2025-April"]


def test_detail_page_by_id_and_processing_progress_in_json_ext(gql, admin_user, cycles):
    cycle = cycles["april"]
    cycle.json_ext = {"processing": {"state": "running", "plans_done": 1, "plans_total": 3}}
    cycle.save(user=admin_user)
    data = gql(admin_user).data('{ paymentCycle(id: "%s") { edges { node { id uuid code status jsonExt } } } }'
                                % cycle.id)
    [node] = nodes(data, "paymentCycle")
    assert node["uuid"] == str(cycle.id) and node["status"] == "PENDING"
    assert json.loads(node["jsonExt"])["processing"] == {"state": "running", "plans_done": 1, "plans_total": 3}


def test_client_mutation_id_finds_only_the_callers_own_mutation(gql, admin_user, make_user, cycles):
    other = make_user("other-officer", rights=[200001])
    log = MutationLog.objects.create(json_content="{}", user=admin_user, client_mutation_id="pc-cmid-1")
    PaymentCycleMutationFactory(payment_cycle=cycles["may"], mutation=log)
    query = '{ paymentCycle(clientMutationId: "pc-cmid-1") { totalCount edges { node { code } } } }'
    assert [n["code"] for n in nodes(gql(admin_user).data(query), "paymentCycle")] == ["2025-May"]
    # another user guessing (or replaying) the id finds nothing: the link is to the admin's mutation log
    assert gql(other).data(query)["paymentCycle"]["totalCount"] == 0


@pytest.mark.parametrize("who", ["anonymous", "no_rights", "plan_reader"])
def test_list_and_node_refused_without_the_right(gql, make_user, no_rights_user, cycles, who):
    user = {"anonymous": None, "no_rights": no_rights_user,
            "plan_reader": make_user("plan-reader", rights=[157101, 160001])}[who]
    client = gql(user)
    refused(client.query("{ paymentCycle { totalCount edges { node { code } } } }"), "paymentCycle",
            "Unauthorized")
    refused(client.query('{ paymentCycleCodeValidity(code: "X") { isValid } }'), "paymentCycleCodeValidity",
            "Unauthorized")
    node = client.query('{ node(id: "%s") { ... on PaymentCycleGQLType { code } } }'
                        % to_global_id("PaymentCycleGQLType", str(cycles["march"].id)))
    assert (node.get("data") or {}).get("node") is None


# --- paymentCycleCodeValidity -------------------------------------------------------------------------------
@pytest.mark.parametrize("code, valid, message", [
    ("2025-June", True, None),
    ("2025-March", False, "payment_cycle.validation.payment_cycle.code_exists"),
    ("2024-March", True, None),  # only live cycles count (ours, spec §2)
    (" 2025-June", False, "payment_cycle.validation.payment_cycle.code_whitespace"),
    ("2025-June ", False, "payment_cycle.validation.payment_cycle.code_whitespace"),
    ("", False, "payment_cycle.validation.payment_cycle.code_whitespace"),
    ("   ", False, "payment_cycle.validation.payment_cycle.code_whitespace"),
])
def test_code_validity_with_the_frontend_operation(gql, admin_user, cycles, code, valid, message):
    op = client_op("payment_cycle/src/actions.js/codeValidationCheck")
    result = gql(admin_user).data(op["document"], {"code": code})["paymentCycleCodeValidity"]
    assert result["isValid"] is valid
    assert result["errorMessage"] == message
    assert (result["errorCode"] is None) is valid


def test_code_validity_reports_existence_first(gql, admin_user):
    PaymentCycleFactory(code=" padded ", acting_user=admin_user)
    result = gql(admin_user).data('{ paymentCycleCodeValidity(code: " padded ") { isValid errorMessage } }')
    assert result["paymentCycleCodeValidity"] == {
        "isValid": False, "errorMessage": "payment_cycle.validation.payment_cycle.code_exists"}


# --- paymentPlan --------------------------------------------------------------------------------------------
@pytest.fixture
def payment_plans(admin_user):
    first, second = BenefitPlanFactory(code="BPA", acting_user=admin_user), BenefitPlanFactory(
        code="BPB", acting_user=admin_user)
    return {
        "monthly": PaymentPlanFactory(code="PP-M", name="Monthly cash", benefit_plan=first,
                                      date_valid_from=datetime.date(2024, 1, 1), acting_user=admin_user),
        "quarterly": PaymentPlanFactory(code="PP-Q", name="Quarterly top-up", benefit_plan=second, periodicity=3,
                                        date_valid_from=datetime.date(2025, 1, 1),
                                        date_valid_to=datetime.date(2025, 12, 31), acting_user=admin_user),
        "deleted": PaymentPlanFactory(code="PP-X", name="Old", benefit_plan=first, is_deleted=True,
                                      acting_user=admin_user),
    }


@pytest.mark.parametrize("arguments, expected", [
    ("isDeleted: false", ["PP-M", "PP-Q"]),
    ('code_Icontains: "pp-q"', ["PP-Q"]),
    ('name_Istartswith: "monthly"', ["PP-M"]),
    ("isDeleted: false, dateValidFrom_Gte: \"2025-01-01\"", ["PP-Q"]),
    ("dateValidTo_Lte: \"2025-12-31\"", ["PP-Q"]),
    ("isDeleted: true", ["PP-X"]),
    ('search: "top-up"', ["PP-Q"]),
])
def test_payment_plan_filters(gql, admin_user, payment_plans, arguments, expected):
    data = gql(admin_user).data("{ paymentPlan(%s) { totalCount edges { node { code } } } }" % arguments)
    assert sorted(n["code"] for n in nodes(data, "paymentPlan")) == expected


def test_payment_plan_by_benefit_plan_and_rule(gql, make_user, payment_plans):
    reader = make_user("plan-reader", rights=[157101])  # no benefit-plan right: the plan comes with the row
    plan = payment_plans["monthly"]
    data = gql(reader).data('{ paymentPlan(benefitPlan_Id: "%s", isDeleted: false, calculation: "%s") { edges '
                            '{ node { code periodicity calculation dateValidFrom dateValidTo jsonExt '
                            'benefitPlan { code } } } } }' % (plan.benefit_plan_id, plan.calculation))
    [node] = nodes(data, "paymentPlan")
    assert node["code"] == "PP-M" and node["periodicity"] == 1 and node["benefitPlan"] == {"code": "BPA"}
    assert node["calculation"] == str(plan.calculation) and node["dateValidTo"] is None
    assert json.loads(node["jsonExt"])["calculation_rule"]["fixed_batch"] == 1500


@pytest.mark.parametrize("who", ["anonymous", "no_rights", "cycle_reader"])
def test_payment_plan_refused_without_its_right(gql, make_user, no_rights_user, payment_plans, who):
    user = {"anonymous": None, "no_rights": no_rights_user,
            "cycle_reader": make_user("cycle-reader", rights=[200001])}[who]
    refused(gql(user).query("{ paymentPlan { totalCount } }"), "paymentPlan",
            "Unauthorized")


# --- entitlements -------------------------------------------------------------------------------------------
@pytest.fixture
def entitled(admin_user, districts):
    """An ACTIVE cycle paying two plans: three individual beneficiaries (two in district PCD1, one in PCD2) and a
    household; plus an entitlement of another cycle."""
    cycle = PaymentCycleFactory(code="2025-March", status=ACTIVE, acting_user=admin_user)
    plan = BenefitPlanFactory(code="BPI", acting_user=admin_user)
    payment_plan = PaymentPlanFactory(code="PPI", benefit_plan=plan, acting_user=admin_user)

    def person(name, village, level, children):
        return IndividualFactory(first_name=name, last_name="Tester", location=village, acting_user=admin_user,
                                 json_ext={"educated_level": level, "number_of_children": children})

    people = [person("Amina", districts["PCD1"], "primary", 2), person("Bashir", districts["PCD1"], "primary", 2),
              person("Chidi", districts["PCD2"], "primary", 2)]
    rows = {}
    for individual, amount, status in zip(people, ("1500.00", "1750.50", "2000.00"),
                                          (EntitlementStatus.ACCEPTED, EntitlementStatus.PENDING_APPROVAL,
                                           EntitlementStatus.ACCEPTED)):
        beneficiary = BeneficiaryFactory(individual=individual, benefit_plan=plan, status="ACTIVE",
                                         acting_user=admin_user)
        rows[individual.first_name] = EntitlementFactory(
            payment_cycle=cycle, payment_plan=payment_plan, beneficiary=beneficiary, amount=Decimal(amount),
            status=status, acting_user=admin_user)
    household = GroupFactory(code="HH-1", acting_user=admin_user)
    head = person("Dede", districts["PCD1"], "secondary", 5)
    group_plan = BenefitPlanFactory(code="BPG", type="GROUP", acting_user=admin_user)
    group_payment_plan = PaymentPlanFactory(code="PPG", benefit_plan=group_plan, acting_user=admin_user)
    group_beneficiary = GroupBeneficiaryFactory(group=household, benefit_plan=group_plan, status="ACTIVE",
                                                json_ext={"educated_level": "primary", "number_of_children": 2},
                                                acting_user=admin_user)
    rows["Dede"] = EntitlementFactory(
        payment_cycle=cycle, payment_plan=group_payment_plan, beneficiary=None, group_beneficiary=group_beneficiary,
        benefit_plan=group_plan, individual=head, group=household, amount=Decimal("99.99"), acting_user=admin_user)
    other_cycle = PaymentCycleFactory(code="2025-April", acting_user=admin_user)
    rows["other"] = EntitlementFactory(payment_cycle=other_cycle, amount=Decimal("10.00"), acting_user=admin_user)
    return cycle, rows


ENTITLEMENT_PAGE = """{ entitlement(%s) { totalCount edges { node { uuid code amount currency status dateDue
  periodStart periodEnd individual { firstName } group { code } benefitPlan { code } paymentPlan { code }
  paymentCycle { code status } } } } }"""


def test_entitlement_list_with_nested_rows(gql, admin_user, entitled):
    cycle, rows = entitled
    data = gql(admin_user).data(ENTITLEMENT_PAGE % f'paymentCycle_Id: "{cycle.id}", orderBy: ["amount"]')
    listed = nodes(data, "entitlement")
    assert data["entitlement"]["totalCount"] == 4
    assert [(n["individual"]["firstName"], n["amount"]) for n in listed] == [
        ("Dede", "99.99"), ("Amina", "1500.00"), ("Bashir", "1750.50"), ("Chidi", "2000.00")]
    dede = listed[0]
    assert dede["group"] == {"code": "HH-1"} and dede["benefitPlan"] == {"code": "BPG"}
    assert dede["paymentPlan"] == {"code": "PPG"} and dede["paymentCycle"] == {"code": "2025-March",
                                                                             "status": "ACTIVE"}
    assert listed[1]["status"] == "ACCEPTED" and listed[2]["status"] == "PENDING_APPROVAL"
    assert listed[1]["dateDue"] == str(cycle.end_date) and listed[1]["currency"] == "USD"


@pytest.mark.parametrize("arguments, expected", [
    ("status: PENDING_APPROVAL", ["Bashir"]),
    ('amount_Gte: "1750.50"', ["Bashir", "Chidi"]),
    ('amount_Lt: "1500"', ["Dede"]),
    ("group_Id_Isnull: false", ["Dede"]),
    ('individual_FirstName_Icontains: "ami"', ["Amina"]),
    ("isDeleted: false", ["Amina", "Bashir", "Chidi", "Dede"]),
])
def test_entitlement_filters(gql, admin_user, entitled, arguments, expected):
    cycle, _ = entitled
    data = gql(admin_user).data(ENTITLEMENT_PAGE % f'paymentCycle_Id: "{cycle.id}", {arguments}')
    assert sorted(n["individual"]["firstName"] for n in nodes(data, "entitlement")) == expected


def test_entitlement_filters_by_related_ids_and_code(gql, admin_user, entitled):
    cycle, rows = entitled
    client = gql(admin_user)
    for arguments, expected in [
        (f'individual_Id: "{rows["Amina"].individual_id}"', {rows["Amina"].code}),
        (f'group_Id: "{rows["Dede"].group_id}"', {rows["Dede"].code}),
        (f'benefitPlan_Id: "{rows["Dede"].benefit_plan_id}"', {rows["Dede"].code}),
        (f'paymentPlan_Id: "{rows["Amina"].payment_plan_id}"', {rows[n].code for n in ("Amina", "Bashir", "Chidi")}),
        (f'code: "{rows["Chidi"].code}"', {rows["Chidi"].code}),
        (f'paymentCycle_Id: "{rows["other"].payment_cycle_id}"', {rows["other"].code}),
    ]:
        data = client.data("{ entitlement(%s) { edges { node { code } } } }" % arguments)
        assert {n["code"] for n in nodes(data, "entitlement")} == expected, arguments


def test_entitlements_follow_the_registrys_row_security(gql, district_clerk, entitled):
    """A clerk of district PCD1 sees the entitlements of PCD1's individuals only: list, count, node and filters."""
    cycle, rows = entitled
    client = gql(district_clerk)
    data = client.data(ENTITLEMENT_PAGE % f'paymentCycle_Id: "{cycle.id}"')
    assert data["entitlement"]["totalCount"] == 3
    assert sorted(n["individual"]["firstName"] for n in nodes(data, "entitlement")) == ["Amina", "Bashir", "Dede"]
    # the PCD2 row is out of reach by id, by filter, by node
    chidi = rows["Chidi"]
    assert client.data('{ entitlement(id: "%s") { totalCount } }' % chidi.id)["entitlement"]["totalCount"] == 0
    assert client.data('{ entitlement(individual_Id: "%s") { totalCount } }'
                       % chidi.individual_id)["entitlement"]["totalCount"] == 0
    node = client.query('{ node(id: "%s") { ... on EntitlementGQLType { code } } }'
                        % to_global_id("EntitlementGQLType", str(chidi.id)))
    assert node["data"]["node"] is None
    visible = client.data('{ node(id: "%s") { ... on EntitlementGQLType { code } } }'
                          % to_global_id("EntitlementGQLType", str(rows["Amina"].id)))
    assert visible["node"] == {"code": rows["Amina"].code}


def test_the_enrolment_of_an_entitlement_needs_the_beneficiary_right(gql, make_user, admin_user, entitled):
    """``individual`` and ``group`` are read by the entitlement right; the enrolment rows are the beneficiary
    module's records: null without its right."""
    cycle, rows = entitled
    query = ('{ entitlement(paymentCycle_Id: "%s", orderBy: ["amount"]) { edges { node { individual { firstName } '
             "beneficiary { id } groupBeneficiary { id } } } } }" % cycle.id)
    reader = make_user("entitlement-reader", rights=[200001], districts=["PCD1", "PCD2"])
    listed = nodes(gql(reader).data(query), "entitlement")
    assert [n["individual"]["firstName"] for n in listed] == ["Dede", "Amina", "Bashir", "Chidi"]
    assert {(n["beneficiary"], n["groupBeneficiary"]) for n in listed} == {(None, None)}
    listed = nodes(gql(admin_user).data(query), "entitlement")
    assert listed[0]["groupBeneficiary"]["id"] and all(n["beneficiary"]["id"] for n in listed[1:])


@pytest.mark.parametrize("who", ["anonymous", "no_rights", "plan_reader"])
def test_entitlement_queries_refused_without_the_right(gql, make_user, no_rights_user, entitled, who):
    cycle, _ = entitled
    user = {"anonymous": None, "no_rights": no_rights_user,
            "plan_reader": make_user("plan-reader", rights=[157101, 170001, 159001])}[who]
    client = gql(user)
    message = "Unauthorized"
    refused(client.query("{ entitlement { totalCount edges { node { amount } } } }"), "entitlement", message)
    refused(client.query('{ entitlementSummary(paymentCycleId: "%s") { status count } }' % cycle.id),
            "entitlementSummary", message)
    refused(client.query('{ benefitDeduplicationSummary(columns: ["educated_level"], paymentCycleId: "%s") '
                         "{ rows { count } } }" % cycle.id), "benefitDeduplicationSummary", message)


# --- entitlementSummary -------------------------------------------------------------------------------------
SUMMARY = '{ entitlementSummary(paymentCycleId: "%s") { status count totalAmount } }'


def test_entitlement_summary_per_status(gql, admin_user, entitled):
    cycle, _ = entitled
    rows = gql(admin_user).data(SUMMARY % cycle.id)["entitlementSummary"]
    assert [r["status"] for r in rows] == list(EntitlementStatus.values)  # every status, zeros included
    assert {r["status"]: (r["count"], Decimal(r["totalAmount"])) for r in rows if r["count"]} == {
        "ACCEPTED": (3, Decimal("3599.99")), "PENDING_APPROVAL": (1, Decimal("1750.50"))}
    assert {r["totalAmount"] for r in rows if not r["count"]} == {"0.00"}


def test_entitlement_summary_follows_row_security(gql, district_clerk, entitled):
    cycle, _ = entitled
    rows = gql(district_clerk).data(SUMMARY % cycle.id)["entitlementSummary"]
    assert {r["status"]: (r["count"], Decimal(r["totalAmount"])) for r in rows if r["count"]} == {
        "ACCEPTED": (2, Decimal("1599.99")), "PENDING_APPROVAL": (1, Decimal("1750.50"))}


def test_entitlement_summary_of_a_relay_id_and_a_bad_id(gql, admin_user, entitled):
    cycle, _ = entitled
    client = gql(admin_user)
    relay = client.data(SUMMARY % to_global_id("PaymentCycleGQLType", str(cycle.id)))["entitlementSummary"]
    assert sum(r["count"] for r in relay) == 4
    content = client.query(SUMMARY % "not-a-cycle")
    assert content["data"]["entitlementSummary"] is None and "paymentCycleId" in content["errors"][0]["message"]


# --- benefitDeduplicationSummary ----------------------------------------------------------------------------
def test_deduplication_summary_with_the_frontend_operation(gql, admin_user, entitled):
    cycle, rows = entitled
    document = client_op("payment_cycle/src/actions.js/fetchDeduplicationSummary")["document"]
    document = document.replace("e8f7a6b5-c4d3-4e2f-9a1b-0c9d8e7f6a5b", str(cycle.id))
    result = gql(admin_user).data(document)["benefitDeduplicationSummary"]["rows"]
    # Amina, Bashir, Chidi and the household share (primary, 2); Dede's own enrolment is the household's
    [row] = result
    assert row["count"] == 4
    assert json.loads(row["columnValues"]) == {"educated_level": "primary", "number_of_children": "2"}
    expected = {str(rows[n].beneficiary_id) for n in ("Amina", "Bashir", "Chidi")} | {
        str(rows["Dede"].group_beneficiary_id)}
    assert set(row["ids"]) == expected


DEDUPLICATION = ('{ benefitDeduplicationSummary(columns: [%s], paymentCycleId: "%s") '
                 "{ rows { count ids columnValues } } }")


def test_deduplication_summary_follows_row_security(gql, district_clerk, entitled):
    cycle, rows = entitled
    result = gql(district_clerk).data(DEDUPLICATION % ('"number_of_children"', cycle.id))
    result = result["benefitDeduplicationSummary"]["rows"]
    assert [r["count"] for r in result] == [3]  # Chidi (district PCD2) is not counted
    assert str(rows["Chidi"].beneficiary_id) not in result[0]["ids"]
    assert json.loads(result[0]["columnValues"]) == {"number_of_children": "2"}


def test_deduplication_summary_refuses_a_masked_column(gql, district_clerk, entitled):
    """Grouping by an attribute the lists mask for the caller would reveal it: refused, nothing read."""
    cycle, _ = entitled
    content = gql(district_clerk).query(DEDUPLICATION % ('"number_of_children", "educated_level"', cycle.id))
    assert content["data"]["benefitDeduplicationSummary"] is None
    assert "masked attribute 'educated_level'" in content["errors"][0]["message"]


def test_deduplication_summary_without_duplicates_is_empty(gql, admin_user, entitled):
    cycle, rows = entitled
    result = gql(admin_user).data(DEDUPLICATION % ('"number_of_children"', rows["other"].payment_cycle_id))
    assert result["benefitDeduplicationSummary"]["rows"] == []


@pytest.mark.parametrize("columns", ['[]', '["educated_level\\" OR 1=1"]', '["a.b"]',
                                     "[%s]" % ",".join(f'"c{i}"' for i in range(11))])
def test_deduplication_summary_refuses_bad_columns(gql, admin_user, entitled, columns):
    cycle, _ = entitled
    content = gql(admin_user).query('{ benefitDeduplicationSummary(columns: %s, paymentCycleId: "%s") '
                                    "{ rows { count } } }" % (columns, cycle.id))
    assert content["data"]["benefitDeduplicationSummary"] is None and "columns" in content["errors"][0]["message"]


# --- the cost of a list -------------------------------------------------------------------------------------
PAGE_INFO = "pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}"
CYCLE_LIST = """{ paymentCycle(isDeleted: false, first: %d, orderBy: ["code"]) { totalCount %s edges { node {
  id,code,startDate,endDate,status,jsonExt } } } }"""
ENTITLEMENT_LIST = """{ entitlement(paymentCycle_Id: "%s", isDeleted: false, first: %d, orderBy: ["code"]) {
  totalCount %s edges { node { id code amount status individual { uuid firstName lastName } group { code }
  benefitPlan { code } paymentPlan { code } paymentCycle { code } } } } }"""


def _costs(client, query, *args):
    from core.test_helpers import request_cost

    client.data(query % (*args, 1, PAGE_INFO))  # the user's rights entry and the per-process caches
    pages = {}

    def read(size):
        pages[size] = next(iter(client.data(query % (*args, size, PAGE_INFO)).values()))

    small, large = request_cost(lambda: read(10)), request_cost(lambda: read(100))
    assert [len(pages[size]["edges"]) for size in (10, 100)] == [10, 100]
    return small, large, [edge["node"] for edge in pages[100]["edges"]]


def test_payment_cycle_list_cost_is_constant(gql, admin_user, make_user):
    for month in range(110):
        PaymentCycleFactory(code=f"C{month:03}", acting_user=admin_user)
    officer = make_user("cycle-reader", rights=[200001])
    for user in (admin_user, officer):
        small, large, listed = _costs(gql(user), CYCLE_LIST)
        # (statements, cache reads): the user with its token check (one statement), count, page; the rights generation and entry once per request
        assert small == large == (3, 2), (user, small, large)
        assert listed[0]["code"] == "C000" and {n["status"] for n in listed} == {"PENDING"}


def test_entitlement_list_cost_is_constant(gql, admin_user, make_user, districts):
    """110 entitlements with their individual (in a district), plan, cycle and, for every other one, a group;
    read by an administrator and by a clerk restricted to that district (row security: one more statement)."""
    cycle = PaymentCycleFactory(code="COST", status=ACTIVE, acting_user=admin_user)
    plan = BenefitPlanFactory(code="BPC", acting_user=admin_user)
    payment_plan = PaymentPlanFactory(code="PPC", benefit_plan=plan, acting_user=admin_user)
    household = GroupFactory(code="HH-COST", location=districts["PCD1"], acting_user=admin_user)
    for index in range(110):
        individual = IndividualFactory(location=districts["PCD1"], acting_user=admin_user)
        beneficiary = BeneficiaryFactory(individual=individual, benefit_plan=plan, acting_user=admin_user)
        EntitlementFactory(code=f"K{index:04}", payment_cycle=cycle, payment_plan=payment_plan,
                           beneficiary=beneficiary, group=household if index % 2 else None, acting_user=admin_user)
    clerk = make_user("cost-clerk", rights=[200001])
    from core.test_helpers import assign_user_districts

    assign_user_districts(clerk, ["PCD1"])
    costs = {}
    for user in (admin_user, clerk):
        small, large, listed = _costs(gql(user), ENTITLEMENT_LIST, cycle.id)
        assert small == large, (user, small, large)
        costs[user.username] = small
        assert all(n["individual"]["firstName"] and n["paymentCycle"]["code"] == "COST" for n in listed)
        assert {n["benefitPlan"]["code"] for n in listed} == {"BPC"} and {n["paymentPlan"]["code"] for n in
                                                                          listed} == {"PPC"}
        assert [n["group"] and n["group"]["code"] for n in listed[:2]] == [None, "HH-COST"]
    # the administrator: the user with its token check (one statement), count, page (joined with every relation); rights generation and entry
    assert costs["Admin"] == (3, 2), costs
    # the restricted clerk: plus which of the page's individuals and groups they may see (one statement each),
    # and their allowed locations (rights generation + entry, two cache reads, once per request)
    assert costs["cost-clerk"] == (5, 4), costs
