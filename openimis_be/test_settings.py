"""Settings for the test suite: the real settings with test-safe defaults (same env variables apply)."""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ROW_SECURITY", "True")
os.environ.setdefault("ASYNC_MUTATIONS", "False")

from openimis_be.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: tests create many users
if not os.environ.get("CELERY_WORKER_TEST"):
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_BROKER_URL = "memory://"
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT", "/tmp/openimis-test-media")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
# One process: the counters may stay in the local cache (the suite's query counts assume it); the two-process
# tests (tests/security/test_rights_cache.py) start their workers with CACHE_INVALIDATION=database.
CACHE_INVALIDATION = os.environ.get("CACHE_INVALIDATION", "cache")
GRAPHQL_INTROSPECTION = True

# Test-only Django apps: every tests/<module>/test_app package with an apps.py is installed for the suite
# (tiny models used to exercise generic machinery such as maker-checker end to end).
from pathlib import Path as _Path  # noqa: E402

for _apps_py in sorted((_Path(BASE_DIR) / "tests").glob("*/test_app/apps.py")):  # noqa: F405
    INSTALLED_APPS.insert(INSTALLED_APPS.index("openimis_be"), f"tests.{_apps_py.parent.parent.name}.test_app")  # noqa: F405
# The module written from docs/DEVELOPING.md alone is a full module of the suite's assembly: stitched into the
# schema, its demo, rights and jobs collected, swept by the denial and node(id:) tests.
OPENIMIS_MODULES = [*OPENIMIS_MODULES, "tests.guide.test_app"]  # noqa: F405
SILENCED_SYSTEM_CHECKS = ["core.W001", "core.W003"]  # tests run introspection on and a local cache
