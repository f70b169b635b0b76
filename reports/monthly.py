"""The stored monthly programme report: every report, unrestricted, for one calendar month, as JSON and PDF.

Figures of the month: the reports with a period (registrations, graduations and suspensions, payments of the
cycles that started in the month, grievances and notifications created in it) use the month as their period; the
stock reports (registry by location, enrolments by status) are the state when the job ran. Running it again for
the same month replaces that month's report."""
import datetime
import time

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from reports import services
from reports.models import MonthlyProgrammeReport
from reports.pdf import render_pdf

STOCK_REPORTS = ("registry_by_location", "enrolment_by_status")


def previous_month(today=None):
    today = today or timezone.localdate()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def _month_bounds(month):
    first = month.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return first, last


def run_as_user():
    """The configured ``run_as_username``, else the first active superuser: the reports see everything."""
    config = type(apps.get_app_config("reports"))
    users = get_user_model().objects.filter(is_active=True)
    if config.run_as_username:
        return users.get(username=config.run_as_username)
    return users.filter(is_superuser=True).order_by("username").first()


def generate(month=None, user=None):
    month = datetime.datetime.strptime(month, "%Y-%m").date() if isinstance(month, str) else month
    first, last = _month_bounds(month or previous_month())
    user = user or run_as_user()
    started = time.perf_counter()
    results = []
    for found in services.available(user):
        period = (None, None) if found.name in STOCK_REPORTS or "period" not in found.filters else (first, last)
        filters = services.ReportFilters(level="D", date_from=period[0], date_to=period[1])
        results.append(services.run_report(found.name, user, filters))
    elapsed = (time.perf_counter() - started) * 1000
    payload = {"month": first.strftime("%Y-%m"), "reports": [r.as_json() for r in results]}
    pdf = render_pdf(results, title=f"Programme report {first:%B %Y}",
                     subtitle="Every location. Stock figures (registry, enrolments) as on the day it was generated.")
    with transaction.atomic():
        report, _created = MonthlyProgrammeReport.objects.update_or_create(
            month=first, defaults={"generated_at": timezone.now(), "elapsed_ms": elapsed, "payload": payload,
                                   "pdf": pdf})
        keep = int(type(apps.get_app_config("reports")).monthly_report_keep_months or 0)
        if keep:
            oldest = first
            for _ in range(keep - 1):
                oldest = (oldest - datetime.timedelta(days=1)).replace(day=1)
            MonthlyProgrammeReport.objects.filter(month__lt=oldest).delete()
    return report
