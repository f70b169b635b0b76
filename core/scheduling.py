"""Translate upstream-shaped SCHEDULER_JOBS (APScheduler cron kwargs) into a celery beat schedule."""

CRON_KEYS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
APS_TO_CELERY = {"day": "day_of_month", "month": "month_of_year", "day_of_week": "day_of_week"}


def beat_schedule_from_jobs(jobs):
    from celery.schedules import crontab

    schedule = {}
    for job in jobs or []:
        kwargs = dict(job.get("kwargs", {}))
        name = kwargs.pop("id", job["method"])
        kwargs.pop("replace_existing", None)
        cron = {}
        for key, value in kwargs.items():
            key = APS_TO_CELERY.get(key, key)
            if key in CRON_KEYS:
                cron[key] = str(value)
        schedule[name] = {"task": job["method"], "schedule": crontab(**cron)}
    return schedule
