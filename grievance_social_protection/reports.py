"""Grievance reports (reports framework): open and overdue tickets by category, channel, priority and location;
median time to resolution. Right: ``gql_query_tickets_perms``. A ticket's location is its reporter's: an
individual's location, a beneficiary's individual's; tickets reported by a user (or nobody) have none.

Open: not RESOLVED or CLOSED. Overdue: open with a due date before today. Resolution time: from the ticket's
creation to the first version of its history whose status is RESOLVED or CLOSED (in days, to the hour)."""
import statistics

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, CharField, Count, Func, IntegerField, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from grievance_social_protection.models import Ticket, TicketStatus
from individual.selectors import individuals
from reports.services import ReportDefinition, by_location, register
from social_protection.selectors import beneficiaries

RIGHTS = "grievance_social_protection.gql_query_tickets_perms"
CLOSED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
NO_LOCATION = -1


class ReporterKey(Func):
    """``reporter_id`` (text) in the database's UUID representation, so it can be compared with a UUID key:
    PostgreSQL casts it (NULL unless it looks like a UUID), SQLite stores UUIDs as 32 hex digits."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (f"(CASE WHEN {sql} ~* '^[0-9a-f]{{8}}-?[0-9a-f]{{4}}-?[0-9a-f]{{4}}-?[0-9a-f]{{4}}-?[0-9a-f]{{12}}$' "
                f"THEN ({sql})::uuid END)", params * 2)

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"LOWER(REPLACE({sql}, '-', ''))", params


def _with_location(scope):
    """Live tickets of the period annotated with their reporter's ``location_id`` (one correlated lookup per
    reporter kind), restricted to the scope's locations."""
    individual_type = ContentType.objects.get_for_model(individuals().model)
    beneficiary_type = ContentType.objects.get_for_model(beneficiaries().model)
    key = ReporterKey("reporter_id")
    of_individual = individuals().filter(id=OuterRef("reporter_key")).values("location_id")[:1]
    of_beneficiary = beneficiaries().filter(id=OuterRef("reporter_key")).values("individual__location_id")[:1]
    tickets = (Ticket.objects.filter(is_deleted=False).filter(scope.period_q("date_created", is_datetime=True))
               .annotate(reporter_key=key)
               .annotate(location_id=Case(
                   When(reporter_type_id=individual_type.id, then=Subquery(of_individual)),
                   When(reporter_type_id=beneficiary_type.id, then=Subquery(of_beneficiary)),
                   default=None, output_field=IntegerField())))
    if scope.location_ids is not None:
        # one evaluation of the reporter's location per ticket in the WHERE clause (an OR with IS NULL would run
        # the lookups twice): no location reads as -1, kept when the scope keeps unlocated rows
        wanted = sorted(scope.location_ids) + ([NO_LOCATION] if scope.include_unlocated else [])
        tickets = (tickets.alias(location_or_none=Coalesce("location_id", Value(NO_LOCATION)))
                   .filter(location_or_none__in=wanted))
    return tickets


def grievances_open(scope):
    open_q = ~Q(status__in=CLOSED_STATUSES)
    rows = list(_with_location(scope).filter(open_q)
                .values("category", "channel", "priority", "location_id").order_by()
                .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_date__lt=scope.today))))
    for row in rows:
        for key in ("category", "channel", "priority"):
            row[key] = row[key] or "-"
    return by_location(scope, rows, ["open", "overdue"], keys=("category", "channel", "priority"))


def grievance_resolution(scope):
    """Median days to resolution per category: the first resolved/closed version of each ticket (one GROUP BY
    on the history), then the median in Python over the tickets of the period."""
    history = Ticket.history.model
    resolved_at = (history.objects.filter(id=OuterRef("id"), status__in=CLOSED_STATUSES)
                   .order_by().values("id").annotate(first=Min("history_date")).values("first")[:1])
    found = (_with_location(scope).filter(status__in=CLOSED_STATUSES)
             .annotate(resolved_at=Subquery(resolved_at)).values_list("category", "date_created", "resolved_at"))
    per_category = {}
    for category, created, resolved in found:
        if resolved is None:
            continue
        days = max((resolved - created).total_seconds(), 0) / 86400
        per_category.setdefault(category or "-", []).append(days)
    return [{"category": category, "resolved": len(days), "median_days": round(statistics.median(days), 2)}
            for category, days in sorted(per_category.items())]


register(ReportDefinition(
    name="grievances_open", app="grievance_social_protection", title="Open and overdue grievances",
    rights=RIGHTS, query=grievances_open, order=40, filters=("location", "period"),
    columns=[("location", "Location"), ("category", "Category"), ("channel", "Channel"),
             ("priority", "Priority"), ("open", "Open"), ("overdue", "Overdue")],
    chart={"kind": "bar", "label": "category", "values": ["open", "overdue"]},
    description="Live tickets not resolved or closed, by category, channel, priority and the reporter's location; "
                "overdue: due date before today. Period: the ticket's creation date."))

register(ReportDefinition(
    name="grievance_resolution", app="grievance_social_protection", title="Time to resolution",
    rights=RIGHTS, query=grievance_resolution, order=41, filters=("location", "period"),
    columns=[("category", "Category"), ("resolved", "Resolved tickets"), ("median_days", "Median days")],
    chart={"kind": "bar", "label": "category", "values": ["median_days"]},
    description="Resolved or closed tickets of the period by category; median days from creation to the first "
                "resolved or closed version."))

