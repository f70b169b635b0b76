"""Reads of payment_cycle shared by GraphQL, REST and reports."""
from django.db.models import Count, Sum

from core.calculation import money
from payment_cycle.models import Entitlement, EntitlementStatus


def live_entitlements(payment_cycle_id):
    return Entitlement.objects.filter(payment_cycle_id=payment_cycle_id, is_deleted=False)


def entitlement_summary(payment_cycle_id, queryset=None):
    """``[{status, count, total_amount}]`` of a cycle's live entitlements, one entry per status (zeros
    included, in the order of the statuses), from one GROUP BY statement."""
    queryset = live_entitlements(payment_cycle_id) if queryset is None else queryset.filter(
        payment_cycle_id=payment_cycle_id, is_deleted=False)
    found = {row["status"]: row for row in queryset.order_by().values("status").annotate(
        count=Count("id"), total=Sum("amount"))}
    return [{"status": status, "count": found.get(status, {}).get("count", 0),
             "total_amount": money(found.get(status, {}).get("total") or 0)} for status in EntitlementStatus.values]
