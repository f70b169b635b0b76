"""Django for a benchmark script, run as ``python bench/<name>.py``: the project on the import path, settings from
the environment (``DATABASE_URL``), only the modules the benchmark needs, and quiet logs so the figures read well.

    import _setup
    _setup.django(modules=["core", "individual"])   # before any import of the project
"""
import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django(modules=None, log_level=logging.WARNING):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openimis_be.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    if modules:
        os.environ.setdefault("OPENIMIS_MODULES", ",".join(modules))
    import django as django_package

    django_package.setup()
    if log_level is not None:
        logging.disable(log_level)
