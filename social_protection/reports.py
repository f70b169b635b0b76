"""Enrolment reports (reports framework): beneficiaries per plan by status and location; graduations and
suspensions per month, read from the enrolments' history. Right: ``gql_beneficiary_search_perms``. An
enrolment's location is its individual's (individual plans) or its household's (group plans)."""
import datetime

from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth

from reports.services import ReportDefinition, by_location, register
from social_protection.models import BeneficiaryStatus, BenefitPlan, Beneficiary, GroupBeneficiary

RIGHTS = "social_protection.gql_beneficiary_search_perms"
STATUSES = [s.value for s in BeneficiaryStatus]
# (model, path from the enrolment to its location)
ENROLMENTS = ((Beneficiary, "individual__location"), (GroupBeneficiary, "group__location"))


def _plan_labels(plan_ids):
    return {p.id: f"{p.code} {p.name}" for p in BenefitPlan.objects.filter(id__in=set(plan_ids))}


def enrolment_by_status(scope):
    """Live enrolments per plan and location, one column per status."""
    counts = {s.lower(): Count("id", filter=Q(status=s)) for s in STATUSES}
    if scope.summary("reports_sum_enrolments"):
        rows = _enrolments_from_summary(scope)
    else:
        rows = _live_enrolments(scope, counts)
    labels = _plan_labels(r["benefit_plan_id"] for r in rows)
    merged = by_location(scope, rows, ["total", *counts], keys=("benefit_plan_id",))
    for row in merged:
        row["benefit_plan"] = labels.get(row["benefit_plan_id"], str(row["benefit_plan_id"]))
    merged.sort(key=lambda r: (r["benefit_plan"], r["location_id"] is None, r["location"]))
    return merged


def _enrolments_from_summary(scope):
    where, params = scope.summary_where(plan_column="benefit_plan_id")
    found = scope.summary_rows("reports_sum_enrolments",
                               ["benefit_plan_id", "location_id", "status", "sum(enrolments)::bigint AS n"],
                               where, params, ["benefit_plan_id", "location_id", "status"])
    rows = []
    for row in found:
        entry = {"benefit_plan_id": row["benefit_plan_id"], "location_id": row["location_id"], "total": row["n"],
                 **{s.lower(): 0 for s in STATUSES}}
        if row["status"] in STATUSES:
            entry[row["status"].lower()] = row["n"]
        rows.append(entry)
    return rows


def _live_enrolments(scope, counts):
    rows = []
    for model, path in ENROLMENTS:
        found = (model.objects.filter(is_deleted=False).filter(scope.plan_q(), scope.location_q(path))
                 .values("benefit_plan_id").annotate(location_id=F(f"{path}_id"))
                 .values("benefit_plan_id", "location_id").order_by().annotate(total=Count("id"), **counts))
        rows.extend(found)
    return rows


def _changes(model, path, scope):
    """History rows where an enrolment's status became GRADUATED or SUSPENDED (the previous version of the same
    enrolment had another status), per month and plan."""
    history = model.history.model
    # the previous version: the highest history id below this one for the same enrolment (an aggregate over the
    # enrolment's few versions, found by its id index), then its status by primary key
    previous_id = (history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id")).order_by()
                   .values("id").annotate(last=Max("history_id")).values("last"))
    previous = history.objects.filter(history_id=OuterRef("previous_id")).values("status")
    return (history.objects.filter(status__in=[BeneficiaryStatus.GRADUATED, BeneficiaryStatus.SUSPENDED])
            .filter(scope.plan_q(), scope.location_q(path), scope.period_q("history_date", is_datetime=True))
            .annotate(previous_id=Subquery(previous_id)).annotate(previous=Subquery(previous))
            .filter(previous__isnull=False).exclude(previous=F("status"))
            .annotate(month=TruncMonth("history_date")).values("month", "benefit_plan_id").order_by()
            .annotate(graduations=Count("history_id", filter=Q(status=BeneficiaryStatus.GRADUATED)),
                      suspensions=Count("history_id", filter=Q(status=BeneficiaryStatus.SUSPENDED))))


def _month_aligned(scope):
    """The summary counts whole months: a period that cuts a month is answered from the live history."""
    start_ok = scope.date_from is None or scope.date_from.day == 1
    end_ok = scope.date_to is None or (scope.date_to + datetime.timedelta(days=1)).day == 1
    return start_ok and end_ok


def _changes_from_summary(scope):
    where, params = scope.summary_where(plan_column="benefit_plan_id", period_column="month")
    found = scope.summary_rows("reports_sum_enrolment_changes", [
        "month", "benefit_plan_id",
        f"sum(CASE WHEN status = '{BeneficiaryStatus.GRADUATED}' THEN changes ELSE 0 END)::bigint AS graduations",
        f"sum(CASE WHEN status = '{BeneficiaryStatus.SUSPENDED}' THEN changes ELSE 0 END)::bigint AS suspensions"],
        where, params, ["month", "benefit_plan_id"])
    return [found]


def enrolment_changes_per_month(scope):
    months = {}
    if _month_aligned(scope) and scope.summary("reports_sum_enrolment_changes"):
        sources = _changes_from_summary(scope)
    else:
        sources = [_changes(model, path, scope) for model, path in ENROLMENTS]
    for found in sources:
        for row in found:
            month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
            key = (month.strftime("%Y-%m"), row["benefit_plan_id"])
            target = months.setdefault(key, {"month": key[0], "benefit_plan_id": key[1], "graduations": 0,
                                             "suspensions": 0})
            target["graduations"] += row["graduations"]
            target["suspensions"] += row["suspensions"]
    labels = _plan_labels(plan for _m, plan in months)
    rows = [months[k] for k in sorted(months, key=lambda k: (k[0], labels.get(k[1], "")))]
    for row in rows:
        row["benefit_plan"] = labels.get(row["benefit_plan_id"], str(row["benefit_plan_id"]))
    return rows


register(ReportDefinition(
    name="enrolment_by_status", app="social_protection", title="Beneficiaries by plan, status and location",
    rights=RIGHTS, query=enrolment_by_status, order=20, filters=("location", "benefit_plan"),
    columns=[("benefit_plan", "Benefit plan"), ("location", "Location"), ("total", "Total"),
             *[(s.lower(), s.capitalize()) for s in STATUSES]],
    chart={"kind": "bar", "label": "location", "values": ["active", "potential", "graduated", "suspended"]},
    description="Live enrolments (individual and group plans) per plan and location at the chosen level."))

register(ReportDefinition(
    name="enrolment_changes_per_month", app="social_protection", title="Graduations and suspensions per month",
    rights=RIGHTS, query=enrolment_changes_per_month, order=21,
    columns=[("month", "Month"), ("benefit_plan", "Benefit plan"), ("graduations", "Graduations"),
             ("suspensions", "Suspensions")],
    chart={"kind": "line", "label": "month", "values": ["graduations", "suspensions"]},
    description="From the enrolments' history: each change of an enrolment's status to GRADUATED or SUSPENDED, "
                "in the month it was recorded (an enrolment created with that status is not a change)."))
