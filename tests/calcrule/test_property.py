"""Property: for random parameters (Decimals of 3 places: half-up matters) and random enrolment attributes, the
amounts the database computes equal the pure-Python reference (``reference_amount``) to the cent, and so do
the approval flag and the breakdown."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from calcrule_social_protection.calculation_rule import reference_amount
from core.custom_filters import LOOKUPS_BY_TYPE
from tests.calcrule.helpers import run_rule, selection_rows
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.payment_cycle.factories import PaymentPlanFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory

pytestmark = pytest.mark.django_db

ENROLLED = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
WORDS = ["North", "north", "NORTHEAST", "South", "east", "Lake Side"]
money_3 = st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False, allow_infinity=False)
small_number = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
dates = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2030, 12, 31))


def quoted(text):
    return st.sampled_from([text, f'"{text}"'])


def conditions():
    integer = st.tuples(st.sampled_from(LOOKUPS_BY_TYPE["integer"]), st.integers(-20, 20)).map(
        lambda t: f"children__{t[0]}__integer={t[1]}")
    decimal = st.tuples(st.sampled_from(LOOKUPS_BY_TYPE["decimal"]), st.sampled_from(["decimal", "numeric", "number"]),
                        small_number).map(lambda t: f"income__{t[0]}__{t[1]}={t[2]}")
    boolean = st.sampled_from(["True", "False", "true", '"false"']).map(lambda v: f"able_bodied__exact__boolean={v}")
    string = st.tuples(st.sampled_from(LOOKUPS_BY_TYPE["string"]),
                       st.sampled_from(["north", "NORTH", "nor", "east", "side", "South"])).flatmap(
        lambda t: quoted(t[1]).map(lambda v: f"district__{t[0]}__string={v}"))
    date = st.tuples(st.sampled_from(LOOKUPS_BY_TYPE["date"]), dates).flatmap(
        lambda t: quoted(t[1].isoformat()).map(lambda v: f"registered__{t[0]}__date={v}"))
    return st.one_of(integer, decimal, boolean, string, date)


attributes = st.fixed_dictionaries({}, optional={
    "children": st.integers(-20, 20),
    "income": small_number.map(float),
    "able_bodied": st.booleans(),
    "district": st.sampled_from(WORDS),
    "registered": dates.map(datetime.date.isoformat),
})
criteria = st.lists(st.fixed_dictionaries({"custom_filter_condition": conditions(), "amount": money_3.map(str),
                                           "count_to_max": st.booleans()}), max_size=4)
parameters = st.fixed_dictionaries({"fixed_batch": money_3.map(str)}, optional={
    "limit_per_single_transaction": st.one_of(st.just(0), money_3.map(str)),
    "amount_per_member": money_3.map(str),
    "max_members_counted": st.integers(0, 4),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(plan_type=st.sampled_from(["INDIVIDUAL", "GROUP"]), params=parameters, advanced=criteria,
       enrolments=st.lists(st.tuples(attributes, st.integers(1, 5)), min_size=1, max_size=5))
def test_sql_amounts_equal_the_python_reference(admin_user, plan_type, params, advanced, enrolments):
    benefit_plan = BenefitPlanFactory(type=plan_type, acting_user=admin_user)
    payment_plan = PaymentPlanFactory(benefit_plan=benefit_plan, acting_user=admin_user,
                                      json_ext={"calculation_rule": params, "advanced_criteria": advanced})
    expected = {}
    for json_ext, size in enrolments:
        if plan_type == "GROUP":
            group = GroupFactory(acting_user=admin_user)
            for index in range(size):
                GroupIndividualFactory(group=group, individual=IndividualFactory(acting_user=admin_user),
                                       role="HEAD" if index == 0 else None, acting_user=admin_user)
            enrolment = GroupBeneficiaryFactory(group=group, benefit_plan=benefit_plan, status="ACTIVE",
                                                json_ext=json_ext, date_valid_from=ENROLLED, acting_user=admin_user)
        else:
            enrolment = BeneficiaryFactory(benefit_plan=benefit_plan, status="ACTIVE", json_ext=json_ext,
                                           date_valid_from=ENROLLED, acting_user=admin_user)
        expected[enrolment.id] = reference_amount(params, advanced, json_ext,
                                                  members=size if plan_type == "GROUP" else None)
    rows = selection_rows(run_rule(payment_plan))
    assert set(rows) == set(expected)
    for enrolment_id, (amount, needs_approval, breakdown) in expected.items():
        row = rows[enrolment_id]
        assert row["amount"] == amount
        assert row["calc_amount_cents"] == int(amount * 100)
        assert row["calc_needs_approval"] is needs_approval
        assert row["calc_breakdown"] == breakdown
        event(f"criteria met: {len(breakdown['criteria'])}")


def test_reference_amount_rounds_every_parameter_half_up_first():
    amount, needs_approval, breakdown = reference_amount(
        {"fixed_batch": "0.005", "limit_per_single_transaction": "1.015", "amount_per_member": "0.125",
         "max_members_counted": 2},
        [{"custom_filter_condition": "children__gt__integer=1", "amount": "0.994"},
         {"custom_filter_condition": "district__iexact__string=north", "amount": "1"}],
        {"children": 2, "district": "South"}, members=3)
    # 0.01 + 0.99 + 2 × 0.13
    assert amount == Decimal("1.26")
    assert needs_approval is True  # over 1.02
    assert breakdown == {"base": "0.01", "criteria": [{"condition": "children__gt__integer=1", "amount": "0.99"}],
                         "per_member": "0.13", "members": 3, "limit": "1.02"}
