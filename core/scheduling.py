"""Periodic jobs declared by the modules themselves, and celery work started by a write.

Each module lists its jobs on its AppConfig::

    class ThingConfig(ModuleAppConfig):
        SCHEDULED_JOBS = [{"name": "thing_daily_digest", "task": "thing.tasks.daily_digest",
                           "cron": {"hour": 6, "minute": 0}}]           # or "every": <seconds>

At start-up the assembly collects them (plus upstream-shaped ``settings.SCHEDULER_JOBS``, APScheduler cron
keyword arguments, for operators) into celery beat's schedule; django-celery-beat copies them into its
tables when beat starts, where they can be edited in the admin. Exactly one beat runs.
"""
from django.db import transaction

CRON_KEYS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
APS_TO_CELERY = {"day": "day_of_month", "month": "month_of_year", "day_of_week": "day_of_week"}


def _entry(task, cron=None, every=None, args=(), kwargs=None):
    from celery.schedules import crontab

    if every is not None:
        schedule = float(every)
    else:
        schedule = crontab(**{key: str(value) for key, value in (cron or {}).items()})
    return {"task": task, "schedule": schedule, "args": tuple(args), "kwargs": dict(kwargs or {})}


def beat_schedule_from_jobs(jobs):
    """Upstream's ``SCHEDULER_JOBS`` (``{"method", "args": ["cron"], "kwargs": {id, hour, …}}``) → beat entries."""
    schedule = {}
    for job in jobs or []:
        kwargs = dict(job.get("kwargs", {}))
        name = kwargs.pop("id", job["method"])
        cron = {APS_TO_CELERY.get(k, k): v for k, v in kwargs.items() if APS_TO_CELERY.get(k, k) in CRON_KEYS}
        schedule[name] = _entry(job["method"], cron=cron)
    return schedule


def module_jobs():
    """Beat entries of every installed module's ``SCHEDULED_JOBS``."""
    from core.module_config import openimis_app_configs

    schedule = {}
    for config in openimis_app_configs():
        for job in getattr(config, "SCHEDULED_JOBS", ()):
            if job["name"] in schedule:
                raise ValueError(f"Scheduled job {job['name']} is declared twice")
            schedule[job["name"]] = _entry(job["task"], cron=job.get("cron"), every=job.get("every"),
                                           args=job.get("args", ()), kwargs=job.get("kwargs"))
    return schedule


def collect_beat_schedule(settings_jobs=None):
    """The modules' jobs, then the settings' upstream-shaped jobs (which may override one by name)."""
    from django.conf import settings

    jobs = settings.SCHEDULER_JOBS if settings_jobs is None else settings_jobs
    return {**module_jobs(), **beat_schedule_from_jobs(jobs)}


def enqueue_on_commit(task, *args, **kwargs):
    """Queue ``task`` once the current transaction commits (never for a write that rolls back; the worker
    always sees the committed rows). Outside a transaction it is queued at once."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
