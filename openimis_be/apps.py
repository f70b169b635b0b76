import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class OpenimisBeConfig(AppConfig):
    """Last app: once every module is ready, bind each module's service signals (core registry)."""

    name = "openimis_be"
    verbose_name = "openIMIS assembly"

    def ready(self):
        from core.module_config import module_parts

        list(module_parts("services"))  # importing the services registers their service signals
        for _module, signals in module_parts("signals"):
            binder = getattr(signals, "bind_service_signals", None)
            if binder is not None:
                binder()
        # Importing the schema registers every mutation class (needed by async workers too).
        from openimis_be import schema  # noqa: F401

        # celery beat reads the schedule from the app: the modules' SCHEDULED_JOBS, collected once; an entry of
        # the same name in settings.CELERY_BEAT_SCHEDULE (an operator's) wins
        from core.scheduling import collect_beat_schedule
        from openimis_be.celery import app as celery_app

        schedule = {**collect_beat_schedule(), **(getattr(settings, "CELERY_BEAT_SCHEDULE", None) or {})}
        settings.CELERY_BEAT_SCHEDULE = celery_app.conf.beat_schedule = schedule

