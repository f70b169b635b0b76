"""SocialProtectionCalculationRule on individual plans: the selection the database computes (calcrule §4.1, §7.3)."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from calcrule_social_protection.calculation_rule import SocialProtectionCalculationRule
from core.calculation import SELECTION_COLUMNS
from tests.calcrule.helpers import END, START, run_rule
from tests.social_protection.factories import BeneficiaryFactory

pytestmark = pytest.mark.django_db

ABLE_BODIED = "able_bodied__exact__boolean=False"


def amounts(rows):
    return sorted(row["amount"] for row in rows.values())


def test_fixed_amount_only_pays_every_active_enrolment_the_fixed_amount(make_payment_plan, enrol, pay):
    plan = make_payment_plan(fixed_batch=1500, limit_per_single_transaction=0)
    enrolled = [enrol(plan) for _ in range(3)]
    rows, warnings = pay(plan)
    assert warnings == []
    assert set(rows) == {b.id for b in enrolled}
    for beneficiary in enrolled:
        row = rows[beneficiary.id]
        assert row["calc_individual_id"] == beneficiary.individual_id
        assert row["calc_group_id"] is None
        assert row["calc_amount_cents"] == 150000
        assert row["calc_needs_approval"] is False
        assert row["calc_breakdown"] == {"base": "1500.00", "criteria": [], "limit": "0.00"}


def test_selection_has_exactly_the_contract_columns(make_payment_plan, enrol):
    plan = make_payment_plan(fixed_batch=10)
    enrol(plan)
    result = run_rule(plan)
    assert result.set_based and result.rows == []
    assert set(SELECTION_COLUMNS) <= set(result.selection.query.annotations)
    assert len(list(result.selection.values(*SELECTION_COLUMNS))) == 1


def test_upstream_example_individuals_without_the_key_get_the_fixed_amount(make_payment_plan, enrol, pay):
    """fixed_batch 1500, able_bodied__exact__boolean=False +2000: no able_bodied key → 1500 each."""
    plan = make_payment_plan(fixed_batch=1500, limit_per_single_transaction=100000, criteria=[(ABLE_BODIED, 2000)])
    without_key = [enrol(plan, {"number_of_children": 2}) for _ in range(2)]
    not_able = enrol(plan, {"able_bodied": False})
    able = enrol(plan, {"able_bodied": True})
    rows, _ = pay(plan)
    assert [rows[b.id]["amount"] for b in without_key] == [Decimal("1500.00")] * 2
    assert rows[able.id]["amount"] == Decimal("1500.00")
    assert rows[not_able.id]["amount"] == Decimal("3500.00")
    assert rows[not_able.id]["calc_breakdown"]["criteria"] == [{"condition": ABLE_BODIED, "amount": "2000.00"}]
    assert rows[able.id]["calc_breakdown"]["criteria"] == []
    assert not any(row["calc_needs_approval"] for row in rows.values())


def test_matched_criteria_are_listed_in_the_plan_order_with_their_amounts(make_payment_plan, enrol, pay):
    criteria = [("income__lt__integer=1000", "100.005"), ("district__iexact__string=North", 50),
                ("disabled__exact__boolean=true", "25.5")]
    plan = make_payment_plan(fixed_batch="10.125", criteria=criteria)
    all_three = enrol(plan, {"income": 999, "district": "NORTH", "disabled": True})
    two = enrol(plan, {"income": 999, "district": "South", "disabled": True})
    rows, _ = pay(plan)
    # every parameter is quantized half-up to cents first: 10.13 + 100.01 + 50.00 + 25.50
    assert rows[all_three.id]["amount"] == Decimal("185.64")
    assert rows[all_three.id]["calc_breakdown"]["criteria"] == [
        {"condition": "income__lt__integer=1000", "amount": "100.01"},
        {"condition": "district__iexact__string=North", "amount": "50.00"},
        {"condition": "disabled__exact__boolean=true", "amount": "25.50"}]
    assert rows[two.id]["amount"] == Decimal("135.64")
    assert [c["condition"] for c in rows[two.id]["calc_breakdown"]["criteria"]] == [
        "income__lt__integer=1000", "disabled__exact__boolean=true"]
    assert rows[two.id]["calc_breakdown"]["base"] == "10.13"


@pytest.mark.parametrize("condition, matching, not_matching", [
    # strings: quotes optional, case-insensitive lookups
    ('district__iexact__string="north"', {"district": "North"}, {"district": "Northern"}),
    ("district__iexact__string=north", {"district": "NORTH"}, {"district": "South"}),
    ("district__istartswith__string=nor", {"district": "Northern"}, {"district": "South North"}),
    ('district__icontains__string="ORT"', {"district": "a north b"}, {"district": "south"}),
    # integers
    ("children__exact__integer=3", {"children": 3}, {"children": 4}),
    ("children__gt__integer=2", {"children": 3}, {"children": 2}),
    ("children__lte__integer=2", {"children": 2}, {"children": 3}),
    ('children__gte__integer="2"', {"children": 2}, {"children": 1}),
    # decimals (all three type names), exact and ordered, integers and fractions alike
    ("income__lt__decimal=1000.50", {"income": 1000.49}, {"income": 1000.5}),
    ("income__gte__numeric=1000.5", {"income": 1000.5}, {"income": 1000}),
    ("income__exact__number=1500", {"income": 1500.0}, {"income": 1500.01}),
    ("income__gt__decimal=-0.25", {"income": 0}, {"income": -1}),
    # dates: ISO, compared as ISO text
    ("enrolled__lt__date=2020-06-01", {"enrolled": "2020-05-31"}, {"enrolled": "2020-06-01"}),
    ('enrolled__exact__date="2020-06-01"', {"enrolled": "2020-06-01"}, {"enrolled": "2020-06-02"}),
    ("enrolled__gte__date=2020-06-01", {"enrolled": "2021-01-01"}, {"enrolled": "2019-12-31"}),
    # booleans as upstream (non-word characters dropped, any case)
    ("able_bodied__exact__boolean=True", {"able_bodied": True}, {"able_bodied": False}),
    ('able_bodied__exact__boolean="false"', {"able_bodied": False}, {"able_bodied": True}),
])
def test_condition_types(make_payment_plan, enrol, pay, condition, matching, not_matching):
    plan = make_payment_plan(fixed_batch=100, criteria=[(condition, 5)])
    yes, no, missing = enrol(plan, matching), enrol(plan, not_matching), enrol(plan, {})
    rows, _ = pay(plan)
    assert rows[yes.id]["amount"] == Decimal("105.00")
    assert rows[no.id]["amount"] == Decimal("100.00")
    assert rows[missing.id]["amount"] == Decimal("100.00")


def test_nested_json_keys(make_payment_plan, enrol, pay):
    plan = make_payment_plan(fixed_batch=0, criteria=[("household__size__gt__integer=4", 40)])
    big, small = enrol(plan, {"household": {"size": 6}}), enrol(plan, {"household": {"size": 2}})
    rows, _ = pay(plan)
    assert (rows[big.id]["amount"], rows[small.id]["amount"]) == (Decimal("40.00"), Decimal("0.00"))


def test_limit_zero_or_missing_is_unlimited(make_payment_plan, enrol, pay):
    for params in ({"limit_per_single_transaction": 0}, {"limit_per_single_transaction": "0.00"}, {}):
        plan = make_payment_plan(fixed_batch=10 ** 9, **params)
        enrol(plan)
        rows, _ = pay(plan)
        assert [row["calc_needs_approval"] for row in rows.values()] == [False]
        assert [row["amount"] for row in rows.values()] == [Decimal(10 ** 9)]  # no 32-bit overflow either


def test_needs_approval_only_over_the_limit(make_payment_plan, enrol, pay):
    plan = make_payment_plan(fixed_batch=1500, limit_per_single_transaction="3500.00",
                             criteria=[(ABLE_BODIED, 2000), ("children__gt__integer=3", "0.01")])
    at_limit = enrol(plan, {"able_bodied": False})
    over = enrol(plan, {"able_bodied": False, "children": 5})
    under = enrol(plan, {})
    rows, _ = pay(plan)
    assert rows[at_limit.id]["amount"] == Decimal("3500.00") and rows[at_limit.id]["calc_needs_approval"] is False
    assert rows[over.id]["amount"] == Decimal("3500.01") and rows[over.id]["calc_needs_approval"] is True
    assert rows[under.id]["calc_needs_approval"] is False
    assert rows[over.id]["calc_breakdown"]["limit"] == "3500.00"


def test_missing_parameters_take_their_declared_defaults(make_payment_plan, enrol, pay):
    plan = make_payment_plan(criteria=[("children__gt__integer=0", "12.345")])
    with_children, without = enrol(plan, {"children": 1}), enrol(plan, {"children": 0})
    rows, _ = pay(plan)
    assert rows[with_children.id]["amount"] == Decimal("12.35")  # half-up
    assert rows[without.id]["amount"] == Decimal("0.00")
    assert rows[without.id]["calc_breakdown"] == {"base": "0.00", "criteria": [], "limit": "0.00"}


def test_only_active_live_enrolments_valid_in_the_period_are_selected(make_payment_plan, enrol, pay, admin_user):
    plan = make_payment_plan(fixed_batch=1)
    kept = [
        enrol(plan),
        enrol(plan, date_valid_to=datetime.datetime(2025, 3, 1, 0, 0, tzinfo=datetime.timezone.utc)),
        # valid from the last day of the period (end date is a whole day)
        enrol(plan, date_valid_from=datetime.datetime(2025, 3, 31, 23, 0, tzinfo=datetime.timezone.utc)),
    ]
    enrol(plan, status="POTENTIAL")
    enrol(plan, status="SUSPENDED")
    enrol(plan, is_deleted=True)
    enrol(plan, date_valid_from=datetime.datetime(2025, 4, 1, 0, 0, 1, tzinfo=datetime.timezone.utc))
    enrol(plan, date_valid_to=datetime.datetime(2025, 2, 28, 23, 0, tzinfo=datetime.timezone.utc))
    other_plan = make_payment_plan(fixed_batch=1)
    enrol(other_plan)
    rows, _ = pay(plan)
    assert set(rows) == {b.id for b in kept}


def test_period_comes_from_the_payment_cycle_when_no_dates_are_given(make_payment_plan, enrol, cycle):
    plan = make_payment_plan(fixed_batch=1)
    valid = enrol(plan)
    enrol(plan, date_valid_from=datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc))
    result = SocialProtectionCalculationRule.calculate_if_active_for_object(plan, user=None, payment_cycle=cycle)
    assert list(result.selection.values_list("id", flat=True)) == [valid.id]


def test_beneficiaries_queryset_restricts_and_an_empty_one_pays_nobody(make_payment_plan, enrol, pay):
    plan = make_payment_plan(fixed_batch=1500)
    first, second = enrol(plan), enrol(plan)
    enrol(plan)
    model = type(first)
    rows, _ = pay(plan, beneficiaries_queryset=model.objects.filter(id__in=[first.id, second.id]))
    assert set(rows) == {first.id, second.id}
    # an empty selection pays nobody (upstream fell back to everybody)
    assert pay(plan, beneficiaries_queryset=model.objects.filter(id__in=[]))[0] == {}
    empty = run_rule(plan, beneficiaries_queryset=model.objects.none())
    assert list(empty.selection.values(*SELECTION_COLUMNS)) == []
    str(empty.selection.query)  # still a compilable statement (INSERT … SELECT)
    # the given queryset cannot widen the selection: a POTENTIAL enrolment stays out
    potential = BeneficiaryFactory(benefit_plan=plan.benefit_plan, status="POTENTIAL")
    assert pay(plan, beneficiaries_queryset=model.objects.filter(id=potential.id))[0] == {}


def test_the_rule_only_answers_for_its_own_payment_plans(make_payment_plan, enrol):
    plan = make_payment_plan(fixed_batch=1500)
    enrol(plan)
    plan.calculation = "00000000-0000-4000-8000-000000000000"
    assert SocialProtectionCalculationRule.calculate_if_active_for_object(
        plan, user=None, start_date=START, end_date=END) is None
    assert SocialProtectionCalculationRule.run_calculation_rules(instance=plan.benefit_plan, user=None) is False


@pytest.mark.parametrize("condition, message", [
    ("able_bodied__exact__boolean=maybe", "able_bodied__exact__boolean=maybe"),
    ("children__between__integer=2", "children__between__integer=2"),
    ("children__gt__integer=two", "children__gt__integer=two"),
    ("income__lt__decimal=NaN", "income__lt__decimal=NaN"),
    ("enrolled__lt__date=2020-13-01", "enrolled__lt__date=2020-13-01"),
    ("no equals sign", "no equals sign"),
    ("district__iexact__colour=red", "district__iexact__colour=red"),
])
def test_an_unparsable_condition_raises_a_validation_error_naming_it(make_payment_plan, enrol, condition, message):
    plan = make_payment_plan(fixed_batch=1, criteria=[(condition, 5)])
    enrol(plan)
    with pytest.raises(ValidationError) as error:
        run_rule(plan)
    assert message in " ".join(error.value.messages)


def test_invalid_parameters_raise_a_validation_error(make_payment_plan, enrol):
    for params, text in (({"fixed_batch": "abc"}, "fixed_batch"), ({"fixed_batch": -1}, "fixed_batch"),
                         ({"max_members_counted": 1.5}, "max_members_counted")):
        plan = make_payment_plan(**params)
        with pytest.raises(ValidationError) as error:
            run_rule(plan)
        assert text in " ".join(error.value.messages)
    plan = make_payment_plan(criteria=[("children__gt__integer=1", "lots")])
    with pytest.raises(ValidationError, match="children__gt__integer=1"):
        run_rule(plan)
