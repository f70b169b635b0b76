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
GRAPHQL_INTROSPECTION = True
