"""Celery task of reports: the monthly programme report (``ReportsConfig.SCHEDULED_JOBS``: the 1st of each
month, 03:30, for the month that just ended)."""
from celery import shared_task


@shared_task(name="reports.tasks.generate_monthly_programme_report")
def generate_monthly_programme_report(month=None):
    """``month``: ``YYYY-MM`` (default: the previous calendar month). Answers the stored report's id."""
    from reports.monthly import generate

    return str(generate(month).id)


@shared_task(name="reports.tasks.refresh_summaries")
def refresh_summaries():
    """Refresh every summary table (PostgreSQL; nothing elsewhere). Answers ``{summary: milliseconds}``."""
    from reports.summaries import refresh

    return refresh()
