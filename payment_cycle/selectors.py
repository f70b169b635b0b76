"""Reads of payment_cycle shared by GraphQL, REST and reports."""
import uuid

from django.db.models import Aggregate, Count, Sum, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from core.calculation import money
from payment_cycle.models import Entitlement, EntitlementStatus


def live_entitlements(payment_cycle_id):
    return Entitlement.objects.filter(payment_cycle_id=payment_cycle_id, is_deleted=False)


def latest_accepted_amount(group=False, enrolment_ref="pk"):
    """Per (group) beneficiary row of the outer query (``enrolment_ref``): the amount of its latest live
    ``ACCEPTED`` entitlement, or NULL (a subquery expression)."""
    from django.db.models import OuterRef, Subquery

    field = "group_beneficiary_id" if group else "beneficiary_id"
    latest = (Entitlement.objects.filter(**{field: OuterRef(enrolment_ref)}, is_deleted=False,
                                         status=EntitlementStatus.ACCEPTED)
              .order_by("-date_created", "-code").values("amount")[:1])
    return Subquery(latest)


def entitlement_summary(payment_cycle_id, queryset=None):
    """``[{status, count, total_amount}]`` of a cycle's live entitlements, one entry per status (zeros
    included, in the order of the statuses), from one GROUP BY statement."""
    queryset = live_entitlements(payment_cycle_id) if queryset is None else queryset.filter(
        payment_cycle_id=payment_cycle_id, is_deleted=False)
    found = {row["status"]: row for row in queryset.order_by().values("status").annotate(
        count=Count("id"), total=Sum("amount"))}
    return [{"status": status, "count": found.get(status, {}).get("count", 0),
             "total_amount": money(found.get(status, {}).get("total") or 0)} for status in EntitlementStatus.values]


# --- deduplication summary ---------------------------------------------------------------------------
class _JoinedTexts(Aggregate):
    """The distinct values of a group joined by commas: ``GROUP_CONCAT`` (SQLite), ``STRING_AGG`` (PostgreSQL)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(distinct)s%(expressions)s)"
    allow_distinct = True
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG",
                           template="%(function)s(%(distinct)s(%(expressions)s)::text, ',')", **extra_context)



def _uuid_text(value):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def duplicate_enrolments(entitlements, columns):
    """Rows ``{count, ids, column_values}`` of the enrolments (beneficiaries or group beneficiaries) behind
    ``entitlements`` that share the values of every ``columns`` key of their ``json_ext``, for groups of more
    than one enrolment: one ``GROUP BY`` statement."""
    keys = {f"dedup_{index}": Coalesce(KeyTextTransform(column, "beneficiary__json_ext"),
                                       KeyTextTransform(column, "group_beneficiary__json_ext"),
                                       output_field=TextField())
            for index, column in enumerate(columns)}
    enrolment = Coalesce("beneficiary_id", "group_beneficiary_id")
    grouped = (entitlements.annotate(**keys).filter(**{f"{key}__isnull": False for key in keys})
               .values(*keys)
               .annotate(dedup_count=Count(enrolment, distinct=True), dedup_ids=_JoinedTexts(enrolment, distinct=True))
               .filter(dedup_count__gt=1)
               .order_by("-dedup_count", *keys))
    rows = []
    for row in grouped:
        values = {column: row[f"dedup_{index}"] for index, column in enumerate(columns)}
        ids = sorted(_uuid_text(i) for i in (row["dedup_ids"] or "").split(",") if i)
        rows.append({"count": row["dedup_count"], "ids": ids,
                     # texts on every database (SQLite's JSON_EXTRACT answers numbers as numbers, PostgreSQL's ->> texts)
                     "column_values": {k: (v if v is None or isinstance(v, str) else str(v)) for k, v in values.items()}})
    return rows
