import logging

from django.apps import AppConfig

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

