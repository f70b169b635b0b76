"""SocialProtectionCalculationRule on group plans: recipient, per-member amount and cap, groups left out."""
from decimal import Decimal

import pytest

from individual.models import GroupIndividual

pytestmark = pytest.mark.django_db


def without_alignment(membership, user, **changes):
    """Change a membership the way old or imported data can be (the alignment rules would repair it)."""
    for key, value in changes.items():
        setattr(membership, key, value)
    membership.save(user=user, align=False)


def membership(group, individual):
    return GroupIndividual.objects.get(group=group, individual=individual)


def test_head_is_the_recipient_and_members_are_paid_per_member(make_payment_plan, household, enrol, pay):
    plan = make_payment_plan(type="GROUP", fixed_batch=100, amount_per_member="7.505", limit_per_single_transaction=0)
    group, (primary, head, other) = household([None, "HEAD", None])
    assert membership(group, primary).recipient_type == "PRIMARY"
    enrolment = enrol(plan, group=group)
    rows, warnings = pay(plan)
    assert warnings == []
    row = rows[enrolment.id]
    assert row["calc_individual_id"] == head.id
    assert row["calc_group_id"] == group.id
    assert row["amount"] == Decimal("100.00") + 3 * Decimal("7.51")
    assert row["calc_breakdown"] == {"base": "100.00", "criteria": [], "per_member": "7.51", "members": 3,
                                     "limit": "0.00"}


def test_member_cap_and_deleted_members(make_payment_plan, household, enrol, pay, admin_user):
    plan = make_payment_plan(type="GROUP", fixed_batch=0, amount_per_member=10, max_members_counted=3)
    big, members = household(["HEAD", None, None, None, None])
    small, _ = household(["HEAD", None])
    shrinking, (_, gone, deleted_person) = household(["HEAD", None, None])
    without_alignment(membership(shrinking, gone), admin_user, is_deleted=True)
    deleted_person.is_deleted = True
    deleted_person.save(user=admin_user)
    enrolments = {name: enrol(plan, group=group) for name, group in
                  (("big", big), ("small", small), ("shrinking", shrinking))}
    rows, _ = pay(plan)
    assert rows[enrolments["big"].id]["amount"] == Decimal("30.00")  # 5 members, 3 counted
    assert rows[enrolments["big"].id]["calc_breakdown"]["members"] == 5
    assert rows[enrolments["small"].id]["amount"] == Decimal("20.00")
    assert rows[enrolments["shrinking"].id]["amount"] == Decimal("10.00")  # live members of live individuals
    assert rows[enrolments["shrinking"].id]["calc_breakdown"]["members"] == 1


def test_primary_recipient_when_there_is_no_head(make_payment_plan, household, enrol, pay, admin_user):
    plan = make_payment_plan(type="GROUP", fixed_batch=50)
    no_head, (primary, head) = household([None, "HEAD"])
    without_alignment(membership(no_head, head), admin_user, role=None)
    dead_head, (primary2, head2) = household([None, "HEAD"])
    head2.is_deleted = True
    head2.save(user=admin_user)
    first, second = enrol(plan, group=no_head), enrol(plan, group=dead_head)
    rows, warnings = pay(plan)
    assert warnings == []
    assert rows[first.id]["calc_individual_id"] == primary.id
    assert rows[second.id]["calc_individual_id"] == primary2.id


def test_groups_without_head_or_primary_are_left_out_with_a_warning(make_payment_plan, household, enrol, pay,
                                                                    admin_user):
    plan = make_payment_plan(type="GROUP", fixed_batch=50)
    paid_group, _ = household(["HEAD"])
    orphans = []
    for _ in range(2):
        group, (only,) = household([None])
        without_alignment(membership(group, only), admin_user, role="SON", recipient_type="SECONDARY")
        orphans.append(group)
    empty_group, _ = household([])
    paid = enrol(plan, group=paid_group)
    for group in orphans + [empty_group]:
        enrol(plan, group=group)
    rows, warnings = pay(plan)
    assert set(rows) == {paid.id}
    assert len(warnings) == 1 and warnings[0].startswith("3 group(s) have neither a head nor a primary recipient")


def test_group_criteria_read_the_group_enrolment_json(make_payment_plan, household, enrol, pay):
    plan = make_payment_plan(type="GROUP", fixed_batch=100, amount_per_member=1,
                             criteria=[("vulnerable__exact__boolean=true", 60)], limit_per_single_transaction=150)
    vulnerable_group, _ = household(["HEAD", None])
    other_group, _ = household(["HEAD"])
    vulnerable = enrol(plan, group=vulnerable_group, json_ext={"vulnerable": True})
    other = enrol(plan, group=other_group)
    rows, _ = pay(plan)
    assert rows[vulnerable.id]["amount"] == Decimal("162.00")
    assert rows[vulnerable.id]["calc_needs_approval"] is True
    assert rows[other.id]["amount"] == Decimal("101.00")
    assert rows[other.id]["calc_needs_approval"] is False


def test_amount_per_member_is_ignored_for_individual_plans(make_payment_plan, enrol, pay):
    plan = make_payment_plan(fixed_batch=5, amount_per_member=100, max_members_counted=2)
    beneficiary = enrol(plan)
    rows, _ = pay(plan)
    assert rows[beneficiary.id]["amount"] == Decimal("5.00")
    assert "members" not in rows[beneficiary.id]["calc_breakdown"]
