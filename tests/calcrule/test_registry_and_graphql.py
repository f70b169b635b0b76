"""Rule registry and metadata (calcrule §1-§3) and the calculation GraphQL of core (§3.4, right 153001), over HTTP;
the Beneficiary / GroupBeneficiary custom filter wizards (§7.5)."""
import json
import uuid

import pytest

from calcrule_social_protection.calculation_rule import (
    RULES,
    FlatPerMemberCalculationRule,
    SocialProtectionCalculationRule,
)
from core.calculation import CalculationRuleRegistry, get_calculation_object
from core.custom_filters import CustomFilterRegistryPoint
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory

pytestmark = pytest.mark.django_db

SP_UUID = "32d96b58-898a-460a-b357-5fd4b95cd87c"
RULE_FIELDS = "calculationClassName status description uuid classParam dateValidFrom dateValidTo"
PARAM_FIELDS = ("type name label { en fr } rights { read write update replace } optionSet { value label { en fr } } "
                "defaultValue")
SP_PARAMS = ["fixed_batch", "limit_per_single_transaction", "amount_per_member", "max_members_counted"]


# --- registry and rule metadata ------------------------------------------------------------------------------------
def test_rules_are_registered_and_found_by_uuid_in_any_form():
    assert RULES == [SocialProtectionCalculationRule, FlatPerMemberCalculationRule]
    assert get_calculation_object(SP_UUID) is SocialProtectionCalculationRule
    assert get_calculation_object(SP_UUID.upper()) is SocialProtectionCalculationRule
    assert get_calculation_object(uuid.UUID(SP_UUID)) is SocialProtectionCalculationRule
    assert get_calculation_object(str(uuid.uuid4())) is None
    assert get_calculation_object("not a uuid") is None
    assert FlatPerMemberCalculationRule.uuid != SP_UUID
    assert set(CalculationRuleRegistry.for_class("PaymentPlan")) >= set(RULES)


def test_social_protection_rule_identity_and_parameters():
    rule = SocialProtectionCalculationRule
    assert (rule.calculation_rule_name, rule.version, rule.type, rule.sub_type, rule.status) == (
        "Calculation rule: social protection", 1, "social_protection", "benefit_plan", "active")
    assert rule.CLASS_NAME_CHECK == ["PaymentPlan"]
    params = rule.parameters_for("PaymentPlan")
    assert [p["name"] for p in params] == SP_PARAMS
    assert params[0]["label"]["en"] == "Fixed amount"
    assert {p["type"] for p in params} == {"number", "integer"}
    for param in params:
        assert param["rights"] == {"read": "157101", "write": "157102", "update": "157103", "replace": "157206"}
        assert (param["condition"], param["relevance"], param["default"]) == ("INPUT>=0", "True", "0")
    assert rule.get_linked_class(class_name="PaymentPlan") == ["Calculation"]
    assert rule.get_rule_name(class_name="PaymentPlan") is rule
    assert rule.get_rule_name(class_name="Individual") is None
    assert rule.parameter_value({}, "fixed_batch") == "0"


def test_declared_parameters_validate_as_the_payment_plan_service_checks_them():
    rule = SocialProtectionCalculationRule
    assert rule.validate_parameters({"fixed_batch": 1500, "limit_per_single_transaction": "100000.50",
                                     "amount_per_member": "12.5", "max_members_counted": 4}) == []
    assert rule.validate_parameters({}) == []
    problems = rule.validate_parameters({"fixed_batch": -1, "max_members_counted": 2.5, "bonus": 1})
    assert len(problems) == 3
    assert any("fixed_batch" in p for p in problems) and any("max_members_counted" in p for p in problems)


def test_parameters_for_a_payment_plan_or_for_the_rule_itself(make_payment_plan):
    plan = make_payment_plan(fixed_batch=1)
    assert [p["name"] for p in SocialProtectionCalculationRule.get_parameters(
        class_name="PaymentPlan", instance=plan)] == SP_PARAMS
    assert FlatPerMemberCalculationRule.get_parameters(class_name="PaymentPlan", instance=plan) is None
    assert SocialProtectionCalculationRule.get_parameters(
        class_name="PaymentPlan", instance=FlatPerMemberCalculationRule) is None
    assert [p["name"] for p in FlatPerMemberCalculationRule.get_parameters(
        class_name="PaymentPlan", instance=FlatPerMemberCalculationRule)] == [
        "amount_per_member", "limit_per_single_transaction"]


def test_rules_keep_the_six_signals_connected():
    plan_class_name = "PaymentPlan"
    replies = SocialProtectionCalculationRule.signal_get_param.send(
        sender=plan_class_name, class_name=plan_class_name, instance=SocialProtectionCalculationRule)
    assert [[p["name"] for p in reply] for _, reply in replies] == [SP_PARAMS]
    linked = FlatPerMemberCalculationRule.signal_get_linked_class.send(sender="None", class_name=None)
    assert [reply for _, reply in linked] == [["Calculation"]]


def test_payment_cycle_parameters_are_extracted(admin_user, cycle):
    assert SocialProtectionCalculationRule.get_payment_cycle_parameters(
        user=admin_user, start_date=cycle.start_date, end_date=cycle.end_date, payment_cycle=cycle) == (
        admin_user.id, cycle.start_date, cycle.end_date, cycle)


# --- GraphQL ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def reader(make_user):
    return make_user("calc-reader", rights=[153001])


def test_calculation_rules_lists_every_registered_rule(gql, reader):
    data = gql(reader).data(f"{{ calculationRules {{ calculationRules {{ {RULE_FIELDS} }} }} }}")
    rules = {r["uuid"]: r for r in data["calculationRules"]["calculationRules"]}
    assert set(rules) >= {SP_UUID, FlatPerMemberCalculationRule.uuid}
    sp = rules[SP_UUID]
    assert sp["calculationClassName"] == "Calculation rule: social protection"
    assert (sp["status"], sp["dateValidFrom"], sp["dateValidTo"]) == ("active", "2000-01-01", None)
    class_param = json.loads(sp["classParam"])
    assert class_param[0]["class"] == "PaymentPlan"
    assert [p["name"] for p in class_param[0]["parameters"]] == SP_PARAMS


def test_calculation_rules_by_class_name(gql, reader):
    query = '{{ calculationRulesByClassName(className: "{}") {{ calculationRules {{ uuid }} }} }}'
    data = gql(reader).data(query.format("PaymentPlan"))
    uuids = {r["uuid"] for r in data["calculationRulesByClassName"]["calculationRules"]}
    assert uuids >= {SP_UUID, FlatPerMemberCalculationRule.uuid}
    assert gql(reader).data(query.format("Individual"))["calculationRulesByClassName"]["calculationRules"] == []


def params_query(class_name, instance_id, instance_class_name):
    return (f'{{ calculationParams(className: "{class_name}", instanceId: "{instance_id}", '
            f'instanceClassName: "{instance_class_name}") {{ calculationParams {{ {PARAM_FIELDS} }} }} }}')


def test_calculation_params_of_a_payment_plan(gql, reader, make_payment_plan):
    plan = make_payment_plan(fixed_batch=1500)
    data = gql(reader).data(params_query("PaymentPlan", plan.id, "PaymentPlan"))
    params = data["calculationParams"]["calculationParams"]
    assert [p["name"] for p in params] == SP_PARAMS
    assert params[0] == {"type": "number", "name": "fixed_batch", "label": {"en": "Fixed amount", "fr": "Lot fixe"},
                         "rights": {"read": "157101", "write": "157102", "update": "157103", "replace": "157206"},
                         "optionSet": [], "defaultValue": "0"}
    assert params[3]["type"] == "integer"
    flat_plan = make_payment_plan(rule=FlatPerMemberCalculationRule, amount_per_member=3)
    data = gql(reader).data(params_query("PaymentPlan", flat_plan.id, "PaymentPlan"))
    assert [p["name"] for p in data["calculationParams"]["calculationParams"]] == [
        "amount_per_member", "limit_per_single_transaction"]


def test_calculation_params_of_a_rule_and_of_nothing(gql, reader):
    data = gql(reader).data(params_query("PaymentPlan", SP_UUID, "Calculation"))
    assert [p["name"] for p in data["calculationParams"]["calculationParams"]] == SP_PARAMS
    for instance_id, class_name in ((uuid.uuid4(), "PaymentPlan"), ("nope", "PaymentPlan"),
                                    (uuid.uuid4(), "Calculation")):
        data = gql(reader).data(params_query("PaymentPlan", instance_id, class_name))
        assert data["calculationParams"]["calculationParams"] == []
    content = gql(reader).query(params_query("PaymentPlan", uuid.uuid4(), "Individual"))
    assert "not a class that selects a calculation rule" in content["errors"][0]["message"]


def test_linked_class(gql, reader):
    data = gql(reader).data('{ linkedClass { linkedClasses } }')
    assert data["linkedClass"]["linkedClasses"] == ["Calculation"]
    data = gql(reader).data('{ linkedClass(classNameList: ["PaymentPlan", "Individual"]) { linkedClasses } }')
    assert data["linkedClass"]["linkedClasses"] == ["Calculation"]


@pytest.mark.parametrize("query", [
    f"{{ calculationRules {{ calculationRules {{ {RULE_FIELDS} }} }} }}",
    '{ calculationRulesByClassName(className: "PaymentPlan") { calculationRules { uuid } } }',
    params_query("PaymentPlan", SP_UUID, "Calculation"),
    "{ linkedClass { linkedClasses } }",
])
def test_calculation_queries_need_right_153001(gql, make_user, query):
    name = query.split("(")[0].split("{")[1].strip()
    payment_reader = make_user("payment-reader", rights=[157101, 200001])
    for user in (None, payment_reader):
        content = gql(user).query(query)
        assert content["data"][name] is None
        assert content["errors"][0]["message"].lower() == "unauthorized"


# --- custom filter wizards -------------------------------------------------------------------------------------------
CUSTOM_FILTERS = ('{{ customFilters(moduleName: "social_protection", objectTypeName: "{kind}"{args}) '
                  '{{ type code objectClassName possibleFilters {{ field filter type }} }} }}')


def test_beneficiary_custom_filters_come_from_the_plan_schema(gql, make_user, admin_user):
    plan = BenefitPlanFactory(beneficiary_data_schema={"properties": {
        "able_bodied": {"type": "boolean"}, "income": {"type": "number"}, "registered": {"type": "string",
                                                                                          "format": "date"}}})
    BenefitPlanFactory(type="GROUP", beneficiary_data_schema={"properties": {"vulnerable": {"type": "boolean"}}})
    user = make_user("clerk", rights=[170001])
    data = gql(user).data(CUSTOM_FILTERS.format(kind="Beneficiary", args=f', uuidOfObject: "{plan.id}"'))
    [definition] = data["customFilters"]
    assert (definition["type"], definition["code"], definition["objectClassName"]) == ("Beneficiary",) * 3
    filters = {(f["field"], f["filter"], f["type"]) for f in definition["possibleFilters"]}
    assert ("able_bodied", "exact", "boolean") in filters
    assert {("income", lookup, "numeric") for lookup in ("exact", "lt", "lte", "gt", "gte")} <= filters
    assert ("registered", "gte", "date") in filters
    assert {f[0] for f in filters} == {"able_bodied", "income", "registered"}
    # the same through additionalParams.benefitPlan
    data = gql(user).data(CUSTOM_FILTERS.format(
        kind="Beneficiary", args=', additionalParams: ' + json.dumps(json.dumps({"benefitPlan": str(plan.id)}))))
    assert {(f["field"], f["filter"], f["type"]) for f in data["customFilters"][0]["possibleFilters"]} == filters
    # without a plan: the fields of every live plan of the enrolment's type
    everything = gql(user).data(CUSTOM_FILTERS.format(kind="GroupBeneficiary", args=""))["customFilters"][0]
    assert "vulnerable" in {f["field"] for f in everything["possibleFilters"]}
    assert "able_bodied" not in {f["field"] for f in everything["possibleFilters"]}
    # anonymous callers get nothing
    assert gql(None).query(CUSTOM_FILTERS.format(kind="Beneficiary", args=""))["data"]["customFilters"] is None


def test_beneficiary_wizard_filters_the_enrolment_json(admin_user):
    [wizard] = CustomFilterRegistryPoint.wizards("social_protection", "Beneficiary")
    plan = BenefitPlanFactory()
    able = BeneficiaryFactory(benefit_plan=plan, json_ext={"able_bodied": True, "income": 10})
    BeneficiaryFactory(benefit_plan=plan, json_ext={"able_bodied": False, "income": 10})
    queryset = type(able).objects.filter(benefit_plan=plan)
    filtered = wizard().apply_filter_to_queryset(["able_bodied__exact__boolean=True", "income__lt__integer=20"],
                                                 queryset)
    assert list(filtered) == [able]
    assert CustomFilterRegistryPoint.wizards("social_protection", "GroupBeneficiary")
