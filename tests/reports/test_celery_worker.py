"""End to end (CI, ``celery_worker``): the scheduled jobs of reports, sent as beat sends them, run by a real celery
worker on Redis: the monthly programme report is stored, the summary tables are refreshed."""
import pytest

from core.scheduling import collect_beat_schedule
from reports.models import MonthlyProgrammeReport, SummaryRefresh
from reports.monthly import previous_month

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def run_in_worker(job):
    from openimis_be.celery import app

    entry = collect_beat_schedule(settings_jobs=[])[job]
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        return app.send_task(entry["task"], args=entry["args"], kwargs=entry["kwargs"]).get(timeout=120)
    finally:
        app.conf.task_always_eager = eager


def test_the_monthly_report_and_the_summary_refresh_run_in_a_worker(superuser):
    report_id = run_in_worker("reports_monthly_programme_report")
    stored = MonthlyProgrammeReport.objects.get(id=report_id)
    assert stored.month == previous_month().replace(day=1)
    assert bytes(stored.pdf).startswith(b"%PDF") and stored.payload["reports"]
    refreshed = run_in_worker("reports_refresh_summaries")
    assert set(refreshed) and SummaryRefresh.objects.count() == len(refreshed)
