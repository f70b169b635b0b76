"""Payment reports (reports framework): per cycle and payment plan, entitlements, amounts, paid against
reconciled, failures; and amounts by status. Right: ``gql_query_payment_cycle_perms``. An entitlement's location
is its household's (group plans) or its individual's; the period is the cycle's start date."""
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from payment_cycle.models import Entitlement, EntitlementStatus, PaymentCycle, PaymentPlan
from reports.services import ReportDefinition, register

RIGHTS = "payment_cycle.gql_query_payment_cycle_perms"
ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=18, decimal_places=2))
PAID = EntitlementStatus.PAID
CENT = Decimal("0.01")


def _entitlements(scope):
    rows = Entitlement.objects.filter(is_deleted=False).filter(scope.plan_q())
    if scope.location_ids is not None:
        rows = rows.filter((Q(group__isnull=False) & scope.location_q("group__location"))
                           | (Q(group__isnull=True) & scope.location_q("individual__location")))
    if scope.date_from or scope.date_to:
        cycles = PaymentCycle.objects.filter(is_deleted=False).filter(scope.period_q("start_date"))
        rows = rows.filter(payment_cycle_id__in=cycles.values("id"))
    return rows


def _labels(rows):
    cycles = {c.id: (c.code, c.start_date) for c in
              PaymentCycle.objects.filter(id__in={r["payment_cycle_id"] for r in rows})}
    plans = {p.id: p.code for p in PaymentPlan.objects.filter(id__in={r["payment_plan_id"] for r in rows})}
    for row in rows:
        code, start = cycles.get(row["payment_cycle_id"], (str(row["payment_cycle_id"]), None))
        row["payment_cycle"], row["cycle_start"] = code, start
        row["payment_plan"] = plans.get(row["payment_plan_id"], str(row["payment_plan_id"]))
    rows.sort(key=lambda r: (r["cycle_start"] is None, r["cycle_start"] or 0, r["payment_cycle"], r["payment_plan"]))
    return rows


def _renamed(rows):
    """Aggregates cannot carry a model field's name in the query: ``amount_sum`` → ``amount`` …"""
    for row in rows:
        for key in [k for k in row if k.endswith("_sum")]:
            row[key[:-4]] = Decimal(row.pop(key)).quantize(CENT)
    return rows


def _summary_where(scope):
    return scope.summary_where(plan_column="benefit_plan_id", period_column="cycle_start")


def _paid(column):
    return f"sum(CASE WHEN status = '{PAID}' THEN {column} ELSE 0 END)"


def payments_by_cycle(scope):
    """One row per (cycle, payment plan): one GROUP BY on the (cycle, plan, status) index (or its summary)."""
    if scope.summary("reports_sum_payments"):
        where, params = _summary_where(scope)
        rows = scope.summary_rows("reports_sum_payments", [
            "payment_cycle_id", "payment_plan_id", "sum(entitlements)::bigint AS entitlements",
            "COALESCE(sum(amount), 0) AS amount_sum",
            "sum(CASE WHEN status = 'APPROVE_FOR_PAYMENT' THEN entitlements ELSE 0 END)::bigint "
            "AS approved_for_payment",
            f"{_paid('entitlements')}::bigint AS paid", f"COALESCE({_paid('amount')}, 0) AS paid_amount_sum",
            f"{_paid('reconciled')}::bigint AS reconciled",
            f"COALESCE({_paid('COALESCE(paid_amount, 0)')}, 0) AS reconciled_amount_sum",
            "sum(failures)::bigint AS failures"], where, params, ["payment_cycle_id", "payment_plan_id"])
        return _labels(_renamed(rows))
    rows = list(_entitlements(scope).values("payment_cycle_id", "payment_plan_id").order_by().annotate(
        entitlements=Count("id"),
        amount_sum=Coalesce(Sum("amount"), ZERO),
        approved_for_payment=Count("id", filter=Q(status=EntitlementStatus.APPROVE_FOR_PAYMENT)),
        paid=Count("id", filter=Q(status=PAID)),
        paid_amount_sum=Coalesce(Sum("amount", filter=Q(status=PAID)), ZERO),
        reconciled=Count("id", filter=Q(status=PAID, paid_amount__isnull=False)),
        reconciled_amount=Coalesce(Sum("paid_amount", filter=Q(status=PAID)), ZERO),
        failures=Count("id", filter=~Q(status=PAID) & Q(failure_reason__isnull=False) & ~Q(failure_reason="")),
    ))
    return _labels(_renamed(rows))


def payments_by_status(scope):
    if scope.summary("reports_sum_payments"):
        where, params = _summary_where(scope)
        rows = scope.summary_rows("reports_sum_payments", [
            "payment_cycle_id", "payment_plan_id", "status", "sum(entitlements)::bigint AS entitlements",
            "COALESCE(sum(amount), 0) AS amount_sum"], where, params,
            ["payment_cycle_id", "payment_plan_id", "status"])
    else:
        rows = list(_entitlements(scope).values("payment_cycle_id", "payment_plan_id", "status").order_by()
                    .annotate(entitlements=Count("id"), amount_sum=Coalesce(Sum("amount"), ZERO)))
    rows = _renamed(rows)
    order = [s.value for s in EntitlementStatus]
    rows = _labels(rows)
    rows.sort(key=lambda r: (r["cycle_start"] is None, r["cycle_start"] or 0, r["payment_cycle"], r["payment_plan"],
                             order.index(r["status"]) if r["status"] in order else 99))
    return rows


register(ReportDefinition(
    name="payments_by_cycle", app="payment_cycle", title="Payments per cycle and payment plan", rights=RIGHTS,
    query=payments_by_cycle, order=30,
    columns=[("payment_cycle", "Cycle"), ("cycle_start", "Cycle start"), ("payment_plan", "Payment plan"),
             ("entitlements", "Entitlements"), ("amount", "Amount"),
             ("approved_for_payment", "Approved for payment"), ("paid", "Paid"), ("paid_amount", "Paid amount"),
             ("reconciled", "Reconciled"), ("reconciled_amount", "Reconciled amount"), ("failures", "Failures")],
    chart={"kind": "bar", "label": "payment_cycle", "values": ["amount", "paid_amount", "reconciled_amount"]},
    description="Live entitlements. Paid: status PAID; reconciled: paid with the provider's paid amount recorded; "
                "failures: not paid with a failure reason from the provider's answer."))

register(ReportDefinition(
    name="payments_by_status", app="payment_cycle", title="Entitlements by status", rights=RIGHTS,
    query=payments_by_status, order=31,
    columns=[("payment_cycle", "Cycle"), ("payment_plan", "Payment plan"), ("status", "Status"),
             ("entitlements", "Entitlements"), ("amount", "Amount")],
    chart={"kind": "bar", "label": "status", "values": ["entitlements"]},
    description="Live entitlements and their amounts per cycle, payment plan and status."))
