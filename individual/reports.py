"""Registry reports (reports framework, ``reports.services``): individuals and households by location and age
band, new registrations per month. Right: ``gql_individual_search_perms``; row security by location
(core.location): an individual or a household counts at its own location (rows without one are visible to every
district user, as everywhere)."""
import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from individual.models import Group, Individual
from reports.services import ReportDefinition, by_location, register

RIGHTS = "individual.gql_individual_search_perms"
AGE_BANDS = (("age_0_17", 0, 17), ("age_18_59", 18, 59), ("age_60_plus", 60, None))


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _individuals(scope):
    """Live individuals of the period at the scope's locations (by their own location)."""
    return Individual.objects.filter(is_deleted=False).filter(
        scope.location_q("location"), scope.period_q("date_created", is_datetime=True))


def _groups(scope):
    return Group.objects.filter(is_deleted=False).filter(
        scope.location_q("location"), scope.period_q("date_created", is_datetime=True))


def _band_counts(day):
    counts = {}
    for name, low, high in AGE_BANDS:
        # born on or before (day - low years) and after (day - (high + 1) years)
        q = Q(dob__lte=_years_before(day, low))
        if high is not None:
            q &= Q(dob__gt=_years_before(day, high + 1))
        counts[name] = Count("id", filter=q)
    return counts


def _from_summaries(scope, day):
    """PostgreSQL summaries: individuals per (location, birth year), households per location. Whole birth years
    fall in one band; the three years a band boundary cuts (this year, 18 and 60 years ago) are counted on the
    live table (an index range on ``dob``)."""
    this_year, y18, y60 = day.year, _years_before(day, 18).year, _years_before(day, 60).year
    where, params = scope.summary_where()

    def band(condition, name):
        return f"sum(CASE WHEN {condition} THEN individuals ELSE 0 END)::bigint AS {name}"

    band_sql = ["sum(individuals)::bigint AS individuals",
                band(f"birth_year > {y18} AND birth_year < {this_year}", "age_0_17"),
                band(f"birth_year > {y60} AND birth_year < {y18}", "age_18_59"),
                band(f"birth_year < {y60}", "age_60_plus")]
    rows = scope.summary_rows("reports_sum_individuals", ["location_id", *band_sql], where, params, ["location_id"])
    cut = Q()
    for year in (this_year, y18, y60):
        cut |= Q(dob__gte=datetime.date(year, 1, 1), dob__lte=datetime.date(year, 12, 31))
    rows += [{**row, "individuals": 0} for row in _individuals(scope).filter(cut).values("location_id")
             .order_by("location_id").annotate(**_band_counts(day))]
    households = scope.summary_rows("reports_sum_households",
                                    ["location_id", "sum(households)::bigint AS households"], where, params,
                                    ["location_id"])
    return rows, households


def registry_by_location(scope):
    """Households and individuals per location at the chosen level; individuals by age band on the reference
    day (the period's end, else today). Two GROUP BY statements."""
    day = scope.date_to or scope.today
    if not (scope.date_from or scope.date_to) and scope.summary("reports_sum_individuals") \
            and scope.summary("reports_sum_households"):
        individuals, households = _from_summaries(scope, day)
    else:
        individuals = list(_individuals(scope).values("location_id").order_by("location_id")
                           .annotate(individuals=Count("id"), **_band_counts(day)))
        households = list(_groups(scope).values("location_id").order_by("location_id")
                          .annotate(households=Count("id")))
    rows = [{**row, "households": 0} for row in individuals] + \
           [{"location_id": row["location_id"], "households": int(row["households"]), "individuals": 0,
             **{name: 0 for name, _l, _h in AGE_BANDS}} for row in households]
    return by_location(scope, rows, ["households", "individuals", *[name for name, _l, _h in AGE_BANDS]])


def _month_aligned(scope):
    start_ok = scope.date_from is None or scope.date_from.day == 1
    end_ok = scope.date_to is None or (scope.date_to + datetime.timedelta(days=1)).day == 1
    return start_ok and end_ok


def _registrations_from_summaries(scope):
    where, params = scope.summary_where(period_column="month")
    return (scope.summary_rows("reports_sum_registrations", ["month", "sum(individuals)::bigint AS n"], where,
                               params, ["month"]),
            scope.summary_rows("reports_sum_households", ["month", "sum(households)::bigint AS n"], where, params,
                               ["month"]))


def registry_new_per_month(scope):
    """Individuals and households registered (created) per month."""
    if _month_aligned(scope) and scope.summary("reports_sum_registrations") \
            and scope.summary("reports_sum_households"):
        return _per_month(*_registrations_from_summaries(scope))
    individuals = (_individuals(scope).annotate(month=TruncMonth("date_created")).values("month").order_by("month")
                   .annotate(n=Count("id")))
    households = (_groups(scope).annotate(month=TruncMonth("date_created")).values("month").order_by("month")
                  .annotate(n=Count("id")))
    return _per_month(individuals, households)


def _per_month(individuals, households):
    months = {}
    for kind, found in (("individuals", individuals), ("households", households)):
        for row in found:
            month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
            key = month.strftime("%Y-%m")
            months.setdefault(key, {"month": key, "individuals": 0, "households": 0})[kind] += row["n"]
    return [months[k] for k in sorted(months)]


register(ReportDefinition(
    name="registry_by_location", app="individual", title="Registry by location", rights=RIGHTS,
    query=registry_by_location, order=10, filters=("location", "period"),
    columns=[("location", "Location"), ("households", "Households"), ("individuals", "Individuals"),
             ("age_0_17", "Aged 0-17"), ("age_18_59", "Aged 18-59"), ("age_60_plus", "Aged 60+")],
    chart={"kind": "bar", "label": "location", "values": ["households", "individuals"]},
    description="Live households (by the household's location) and individuals (by their own location) at the "
                "chosen level; age on the period's last day (today without a period). The registry has no sex "
                "attribute: no sex breakdown."))

register(ReportDefinition(
    name="registry_new_per_month", app="individual", title="New registrations per month", rights=RIGHTS,
    query=registry_new_per_month, order=11, filters=("location", "period"),
    columns=[("month", "Month"), ("individuals", "Individuals"), ("households", "Households")],
    chart={"kind": "line", "label": "month", "values": ["individuals", "households"]},
    description="Live individuals and households by the month they were registered."))
