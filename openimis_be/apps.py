import importlib
import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class OpenimisBeConfig(AppConfig):
    """Last app: once every module is ready, bind each module's service signals (core registry)."""

    name = "openimis_be"
    verbose_name = "openIMIS assembly"

    def ready(self):
        for module in settings.OPENIMIS_MODULES:
            try:
                signals = importlib.import_module(f"{module}.signals")
            except ModuleNotFoundError as exc:
                if exc.name != f"{module}.signals":
                    raise
                continue
            binder = getattr(signals, "bind_service_signals", None)
            if binder is not None:
                binder()
        # Importing the schema registers every mutation class (needed by async workers too).
        from openimis_be import schema  # noqa: F401
