"""Helpers of the calculation-rule tests: the test period and reading a rule's answer back."""
import datetime
from decimal import Decimal

from core.calculation import SELECTION_COLUMNS, CalculationRuleRegistry

START, END = datetime.date(2025, 3, 1), datetime.date(2025, 3, 31)
ENROLLED = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)  # valid long before the period


def run_rule(payment_plan, **kwargs):
    rule = CalculationRuleRegistry.get(payment_plan.calculation)
    kwargs.setdefault("start_date", START)
    kwargs.setdefault("end_date", END)
    return rule.calculate_if_active_for_object(payment_plan, user=kwargs.pop("user", None),
                                               payment_cycle=kwargs.pop("payment_cycle", None), **kwargs)


def selection_rows(result):
    """The selection as dicts keyed by enrolment id, amounts as Decimal."""
    rows = {}
    for row in result.selection.values("id", *SELECTION_COLUMNS):
        row["amount"] = Decimal(row["calc_amount_cents"]) / 100
        rows[row.pop("id")] = row
    return rows
