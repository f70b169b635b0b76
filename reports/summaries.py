"""Summary tables of the large reports (PostgreSQL): materialized views at the finest grain a report needs
(location id × plan × status …; a few thousand rows whatever the registry's size), refreshed as a whole by the
scheduled job ``reports_refresh_summaries`` (every ``summary_refresh_seconds``), by ``manage.py
refresh_report_summaries`` and by :func:`refresh_soon` (a module calls it after a bulk operation). Each refresh is
``REFRESH MATERIALIZED VIEW CONCURRENTLY``: readers are never blocked; its time and duration are stored
(``SummaryRefresh``) and every report read from a summary shows "as of <refresh time>".

A report reads its summary when the database is PostgreSQL, ``use_summaries`` is on and the summary has been
refreshed at least once; otherwise (SQLite, a filter the summary cannot answer exactly) it runs on the live
tables. The summaries read the BI views of migration 0003 (the same definitions)."""
import time

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import timezone

# name → (module whose tables it reads, SELECT)
SUMMARIES = {
    "reports_sum_individuals": ("individual", """
        SELECT location_id, extract(year FROM dob)::int AS birth_year, count(*) AS individuals
        FROM individual_individual WHERE NOT "isDeleted" GROUP BY 1, 2"""),
    "reports_sum_households": ("individual", """
        SELECT location_id, date_trunc('month', "DateCreated")::date AS month, count(*) AS households
        FROM individual_group WHERE NOT "isDeleted" GROUP BY 1, 2"""),
    "reports_sum_registrations": ("individual", """
        SELECT location_id, date_trunc('month', "DateCreated")::date AS month, count(*) AS individuals
        FROM individual_individual WHERE NOT "isDeleted" GROUP BY 1, 2"""),
    "reports_sum_enrolments": ("social_protection", """
        SELECT benefit_plan_id, location_id, status, enrolments FROM reports_enrolment_by_status"""),
    "reports_sum_enrolment_changes": ("social_protection", """
        SELECT month, benefit_plan_id, location_id, status, changes FROM reports_enrolment_changes"""),
    "reports_sum_payments": ("payment_cycle", """
        SELECT payment_cycle_id, payment_plan_id, benefit_plan_id, location_id, status, cycle_start, entitlements,
               amount, paid_amount, reconciled, failures FROM reports_payments"""),
}


def installed(modules=None):
    modules = settings.OPENIMIS_MODULES if modules is None else modules
    wanted = {"social_protection": ("social_protection", "individual"),
              "payment_cycle": ("payment_cycle", "individual")}
    return [name for name, (module, _sql) in SUMMARIES.items()
            if all(m in modules for m in wanted.get(module, (module,)))]


def create_statements(name):
    _module, select = SUMMARIES[name]
    return [f"CREATE MATERIALIZED VIEW IF NOT EXISTS {name} AS "
            f"SELECT row_number() OVER () AS row_key, s.* FROM ({select}) s",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {name}_key ON {name} (row_key)"]


def enabled():
    config = type(apps.get_app_config("reports"))
    return connection.vendor == "postgresql" and bool(getattr(config, "use_summaries", True))


def refreshed_at(name):
    """When summary ``name`` was refreshed (None: never, or summaries are off: read the live tables)."""
    if not enabled():
        return None
    from reports.models import SummaryRefresh

    from core.request_memo import memoized

    times = memoized(("reports-summary-times",),
                     lambda: dict(SummaryRefresh.objects.values_list("name", "refreshed_at")))
    return times.get(name)


def refresh(names=None):
    """Refresh the summaries (all installed ones by default); answers ``{name: milliseconds}``."""
    from reports.models import SummaryRefresh

    if connection.vendor != "postgresql":
        return {}
    done = {}
    for name in names or installed():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {name}")
        elapsed = (time.perf_counter() - started) * 1000
        SummaryRefresh.objects.update_or_create(name=name, defaults={"refreshed_at": timezone.now(),
                                                                     "elapsed_ms": elapsed})
        done[name] = elapsed
    from core.request_memo import forget

    forget()
    return done


def refresh_soon():
    """After a bulk operation: refresh the summaries once the current transaction commits (celery)."""
    from core.scheduling import enqueue_on_commit
    from reports.tasks import refresh_summaries

    if connection.vendor == "postgresql":
        enqueue_on_commit(refresh_summaries)


def rows(name, columns, where="", params=(), group_by=None):
    """``SELECT columns FROM summary WHERE where [GROUP BY …]`` as dicts."""
    sql = f"SELECT {', '.join(columns)} FROM {name}"
    if where:
        sql += f" WHERE {where}"
    if group_by:
        sql += f" GROUP BY {', '.join(group_by)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

