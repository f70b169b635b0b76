"""Set-based: the statements a rule runs do not depend on how many enrolments a plan has (exact equality)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calcrule_social_protection.calculation_rule import FlatPerMemberCalculationRule
from core.calculation import SELECTION_COLUMNS
from payment_cycle.models import PaymentPlan
from tests.calcrule.helpers import run_rule

pytestmark = pytest.mark.django_db

CRITERIA = [("able_bodied__exact__boolean=False", 2000), ("children__gt__integer=2", "15.5"),
            ('district__icontains__string="north"', 3)]


def statements(payment_plan):
    """Statements of one computation, selection evaluated, from a fresh plan row (nothing cached)."""
    payment_plan = PaymentPlan.objects.get(pk=payment_plan.pk)
    connection.features.has_json_object_function  # SQLite probes JSON support once per connection: not ours
    with CaptureQueriesContext(connection) as captured:
        result = run_rule(payment_plan)
        rows = list(result.selection.values(*SELECTION_COLUMNS)) if result.set_based else result.rows
    return len(captured), len(rows), result.warnings


def grow(enrol, household, payment_plan, count, group):
    for index in range(count):
        attributes = {"able_bodied": index % 2 == 0, "children": index, "district": "North" if index % 3 else "x"}
        if group:
            # every third group lacks a head and a primary recipient (the warning's count statement runs)
            roles = ["HEAD", None] if index % 3 else []
            enrol(payment_plan, group=household(roles)[0], json_ext=attributes)
        else:
            enrol(payment_plan, json_ext=attributes)


@pytest.mark.parametrize("plan_type", ["INDIVIDUAL", "GROUP"])
def test_social_protection_rule_statement_count_is_independent_of_size(make_payment_plan, enrol, household,
                                                                       plan_type):
    group = plan_type == "GROUP"
    plan = make_payment_plan(type=plan_type, fixed_batch=1500, amount_per_member=10, max_members_counted=4,
                             limit_per_single_transaction=3000, criteria=CRITERIA)
    grow(enrol, household, plan, 3, group)
    small, small_rows, _ = statements(plan)
    grow(enrol, household, plan, 9, group)
    large, large_rows, warnings = statements(plan)
    assert (small_rows, large_rows) == ((2, 8) if group else (3, 12))
    assert small == large
    assert small == (3 if group else 2)  # plan's benefit plan, (group: warning count,) the selection
    assert bool(warnings) is group


@pytest.mark.parametrize("plan_type", ["INDIVIDUAL", "GROUP"])
def test_flat_rule_runs_one_aggregate_query(make_payment_plan, enrol, household, plan_type):
    group = plan_type == "GROUP"
    plan = make_payment_plan(type=plan_type, rule=FlatPerMemberCalculationRule, amount_per_member=10)
    grow(enrol, household, plan, 2, group)
    small, small_rows, _ = statements(plan)
    grow(enrol, household, plan, 7, group)
    large, large_rows, _ = statements(plan)
    assert large_rows > small_rows > 0
    assert small == large == 2  # the plan's benefit plan, then the one aggregate query
