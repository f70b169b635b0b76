"""FlatPerMemberCalculationRule: another registered rule a payment plan can select, answering Python rows."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from calcrule_social_protection.calculation_rule import FlatPerMemberCalculationRule
from core.calculation import CalculationRuleRegistry
from individual.models import GroupIndividual
from tests.calcrule.helpers import run_rule

pytestmark = pytest.mark.django_db


def test_individual_plan_rows(make_payment_plan, enrol):
    plan = make_payment_plan(rule=FlatPerMemberCalculationRule, amount_per_member="12.345",
                             limit_per_single_transaction=0)
    beneficiaries = [enrol(plan), enrol(plan)]
    enrol(plan, status="POTENTIAL")
    result = run_rule(plan)
    assert not result.set_based and result.warnings == []
    rows = {row["enrolment"]: row for row in result.rows}
    assert set(rows) == {b.id for b in beneficiaries}
    for beneficiary in beneficiaries:
        assert rows[beneficiary.id] == {
            "enrolment": beneficiary.id, "enrolment_field": "beneficiary", "individual": beneficiary.individual_id,
            "group": None, "amount": Decimal("12.35"), "needs_approval": False,
            "breakdown": {"per_member": "12.35", "members": 1, "limit": "0.00"}}
        assert isinstance(rows[beneficiary.id]["amount"], Decimal)


def test_group_plan_rows_limit_and_missing_recipient(make_payment_plan, enrol, household, admin_user):
    plan = make_payment_plan(type="GROUP", rule=FlatPerMemberCalculationRule, amount_per_member=100,
                             limit_per_single_transaction=250)
    three, (_, head, _) = household([None, "HEAD", None])
    two, (primary, _) = household([None, None])
    orphan, (only,) = household([None])
    loose = GroupIndividual.objects.get(group=orphan, individual=only)
    loose.role, loose.recipient_type = None, None
    loose.save(user=admin_user, align=False)
    big, small = enrol(plan, group=three), enrol(plan, group=two)
    enrol(plan, group=orphan)
    result = run_rule(plan)
    rows = {row["enrolment"]: row for row in result.rows}
    assert set(rows) == {big.id, small.id}
    assert rows[big.id]["individual"] == head.id and rows[big.id]["group"] == three.id
    assert rows[big.id]["enrolment_field"] == "group_beneficiary"
    assert (rows[big.id]["amount"], rows[big.id]["needs_approval"]) == (Decimal("300.00"), True)
    assert (rows[small.id]["amount"], rows[small.id]["needs_approval"]) == (Decimal("200.00"), False)
    assert rows[small.id]["individual"] == primary.id  # first member: PRIMARY and HEAD by the alignment
    assert len(result.warnings) == 1 and result.warnings[0].startswith("1 group(s)")


def test_flat_rule_is_selected_by_its_uuid_and_validates_its_own_parameters(make_payment_plan):
    assert CalculationRuleRegistry.get(FlatPerMemberCalculationRule.uuid) is FlatPerMemberCalculationRule
    assert [p["name"] for p in FlatPerMemberCalculationRule.parameters_for()] == [
        "amount_per_member", "limit_per_single_transaction"]
    assert FlatPerMemberCalculationRule.validate_parameters({"amount_per_member": "5"}) == []
    assert FlatPerMemberCalculationRule.validate_parameters({"fixed_batch": 5}) != []
    plan = make_payment_plan(rule=FlatPerMemberCalculationRule, amount_per_member=-3)
    with pytest.raises(ValidationError, match="amount_per_member"):
        run_rule(plan)
