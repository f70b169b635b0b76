"""Fixtures of the calculation-rule tests: plans, enrolments valid for the test period, and ``pay`` (run a
payment plan's rule for March 2025 and read the selection back as plain rows)."""
import pytest

from calcrule_social_protection.calculation_rule import SocialProtectionCalculationRule
from tests.calcrule.helpers import END, ENROLLED, START, run_rule, selection_rows
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.payment_cycle.factories import PaymentCycleFactory, PaymentPlanFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory, GroupBeneficiaryFactory


@pytest.fixture
def make_payment_plan(admin_user):
    """``make_payment_plan(fixed_batch=1500, criteria=[("able_bodied__exact__boolean=False", 2000)], type="GROUP",
    rule=SocialProtectionCalculationRule, **other calculation_rule values)``: a benefit plan and its payment plan."""

    def factory(criteria=(), type="INDIVIDUAL", rule=SocialProtectionCalculationRule, benefit_plan=None, **params):
        benefit_plan = benefit_plan or BenefitPlanFactory(type=type, acting_user=admin_user)
        advanced = [{"custom_filter_condition": condition, "amount": amount, "count_to_max": False}
                    for condition, amount in criteria]
        return PaymentPlanFactory(benefit_plan=benefit_plan, calculation=rule.uuid, acting_user=admin_user,
                                  json_ext={"calculation_rule": params, "advanced_criteria": advanced})

    return factory


@pytest.fixture
def enrol(admin_user):
    """``enrol(payment_plan, json_ext={...})``: an ACTIVE beneficiary of the payment plan's benefit plan, valid
    since 2024 (individual plan); ``enrol(payment_plan, group=g)`` for a group plan."""

    def factory(payment_plan, json_ext=None, group=None, individual=None, status="ACTIVE", **extra):
        common = {"benefit_plan": payment_plan.benefit_plan, "status": status, "json_ext": json_ext or {},
                  "date_valid_from": extra.pop("date_valid_from", ENROLLED), "acting_user": admin_user, **extra}
        if group is not None:
            return GroupBeneficiaryFactory(group=group, **common)
        return BeneficiaryFactory(individual=individual or IndividualFactory(acting_user=admin_user), **common)

    return factory


@pytest.fixture
def household(admin_user):
    """``household(roles=[None, "HEAD", None])``: a group with one live member per role given (the membership
    alignment makes the first member the PRIMARY recipient). Returns (group, [individuals])."""

    def factory(roles=(None, "HEAD")):
        group = GroupFactory(acting_user=admin_user)
        members = []
        for role in roles:
            individual = IndividualFactory(acting_user=admin_user)
            GroupIndividualFactory(group=group, individual=individual, role=role, acting_user=admin_user)
            members.append(individual)
        return group, members

    return factory


@pytest.fixture
def pay():
    """``pay(payment_plan, **calculate kwargs)`` → (rows by enrolment id, warnings)."""

    def run(payment_plan, **kwargs):
        result = run_rule(payment_plan, **kwargs)
        return selection_rows(result), result.warnings

    return run


@pytest.fixture
def cycle(admin_user):
    return PaymentCycleFactory(start_date=START, end_date=END, acting_user=admin_user)

