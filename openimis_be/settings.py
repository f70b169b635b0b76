"""Settings read from the environment (django-environ). Every variable is documented in README.md."""
import importlib.util
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if os.path.exists(env_file):
    environ.Env.read_env(env_file)

MODE = env.str("MODE", default="PROD").upper()
DEBUG = env.bool("DEBUG", default=MODE == "DEV")

_secret = env.str("SECRET_KEY", default="")
if not _secret and sys.argv[1:2] == ["graphql_schema"]:
    _secret = secrets.token_urlsafe(50)  # printing the schema signs nothing: a throwaway key will do
if not _secret:
    if not DEBUG and not env.bool("ALLOW_INSECURE_SECRET", default=False):
        raise environ.ImproperlyConfigured(
            "SECRET_KEY is not set: put SECRET_KEY=<a long random string> in .env or the environment for production"
            " (see .env.example), or set MODE=DEV for local development."
        )
    _secret = "insecure-dev-only-secret-key-change-me"
SECRET_KEY = _secret

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000")
SITE_ROOT = env.str("SITE_ROOT", default="api").strip("/")

ROW_SECURITY = env.bool("ROW_SECURITY", default=True)
ASYNC_MUTATIONS = env.bool("ASYNC_MUTATIONS", default=False)
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", default=DEBUG)
GRAPHIQL = env.bool("GRAPHIQL", default=DEBUG)
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=12)
LIST_COUNT_EXACT_LIMIT = env.int("LIST_COUNT_EXACT_LIMIT", default=10_000)  # beyond: PostgreSQL estimate
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", default=15)
# Transport caps, checked before any costly work (core/views.py): body bytes (larger bodies are refused unread, 413),
# then graphql-core's parser caps on lexical tokens and comments (400 while the document is read).
GRAPHQL_MAX_BODY_SIZE = env.int("GRAPHQL_MAX_BODY_SIZE", default=1024 * 1024)
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", default=5_000)
GRAPHQL_MAX_COMMENTS = env.int("GRAPHQL_MAX_COMMENTS", default=1_000)
# Uploaded tables (core/tabular.py): a file above UPLOAD_MAX_BYTES or with more than UPLOAD_MAX_ROWS data rows is
# refused as a whole; a CSV that is neither UTF-8 nor recognisably another encoding is read in UPLOAD_LEGACY_ENCODING.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=256 * 1024 * 1024)
UPLOAD_MAX_ROWS = env.int("UPLOAD_MAX_ROWS", default=2_000_000)
UPLOAD_LEGACY_ENCODING = env.str("UPLOAD_LEGACY_ENCODING", default="cp1252")

# The module list: each is a Django app that may contribute a schema, signals and demo data.
# Modules not present in this checkout are skipped, so the assembly always starts.
OPENIMIS_MODULES_ALL = [
    "core",
    "individual",
    "workflow",
    "tasks_management",
    "social_protection",
    "payment_cycle",
    "calcrule_social_protection",
    "grievance_social_protection",
    "policy_notification",
    "reports",
]
OPENIMIS_MODULES = [
    m for m in env.list("OPENIMIS_MODULES", default=OPENIMIS_MODULES_ALL)
    if importlib.util.find_spec(m) is not None
]

INSTALLED_APPS = [
    "core.admin_site.OpenIMISAdminConfig",  # django.contrib.admin with the programme-area index (core/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "graphene_django",
    "django_filters",
    "simple_history",
    "django_celery_beat",
    "axes",
    *OPENIMIS_MODULES,
    *env.list("EXTRA_INSTALLED_APPS", default=[]),
    "openimis_be",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.request_memo.RequestMemoMiddleware",  # rights, locations and masking decided once per request
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # a locked-out login answers HTTP 429 (core.throttle.lockout_response)
]

ROOT_URLCONF = "openimis_be.urls"
WSGI_APPLICATION = "openimis_be.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default must hold a small office's concurrent saves (20 at once, tests/security/
    # test_concurrent_creates.py). A transaction takes the write lock when it begins (IMMEDIATE), so a writer
    # waits its turn (busy timeout) instead of failing with "database is locked" when a transaction that read
    # first cannot upgrade its lock; WAL lets readers go on while one writes (synchronous=NORMAL is WAL's safe
    # setting: a crash may lose the last commits, never corrupt the file).
    _sqlite = DATABASES["default"].setdefault("OPTIONS", {})
    _sqlite.setdefault("timeout", env.int("SQLITE_BUSY_TIMEOUT", default=30))
    _sqlite.setdefault("transaction_mode", "IMMEDIATE")
    _sqlite.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")
else:
    # a server keeps its connections between requests (about a third of a small list request was the connect);
    # health checks drop one the server closed instead of failing the next request with it
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://openimis")}
# Rights and location caches are invalidated by a generation counter. With a shared cache (CACHE_URL: Redis) the
# counter lives there; with the per-process default (no Redis) it lives in the database, so a role change made
# in one gunicorn or celery worker reaches every other worker at its next request. "cache" with a per-process
# cache is refused by a system check (core.E002) when DEBUG is off.
_PER_PROCESS_CACHES = ("LocMemCache",)
CACHE_INVALIDATION = env.str(
    "CACHE_INVALIDATION",
    default="database" if CACHES["default"]["BACKEND"].endswith(_PER_PROCESS_CACHES) else "cache",
)
if CACHE_INVALIDATION not in ("cache", "database"):
    raise environ.ImproperlyConfigured("CACHE_INVALIDATION must be 'cache' or 'database'")

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "graphql_jwt.backends.JSONWebTokenBackend",  # a valid token never meets the login throttle
    "core.throttle.LoginThrottleBackend",  # django-axes: refuses locked-out usernames and clients
    "django.contrib.auth.backends.ModelBackend",
]

# --- Login throttle (django-axes) -------------------------------------------------------------
# Failed logins (every tokenAuth of a document, the admin login form) and resetPassword requests are counted in
# the database per username and per client address: past LOGIN_FAILURE_LIMIT within LOGIN_COOLOFF_MINUTES the
# username, or the client, is refused (HTTP 429) until LOGIN_COOLOFF_MINUTES after its last failure.
AXES_ENABLED = env.bool("LOGIN_THROTTLE", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # shared by every process, no Redis needed
AXES_LOCKOUT_CALLABLE = "core.throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.throttle.client_ip"
AXES_RESET_ON_SUCCESS = False  # a success of one account must not wipe the client's failures
AXES_VERBOSE = False
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0)  # trusted reverse proxies adding X-Forwarded-For
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=8)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
os.makedirs(STATIC_ROOT, exist_ok=True)  # whitenoise serves from here (admin assets after collectstatic)
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "/media/"

SESSION_COOKIE_SECURE = not DEBUG and env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if env.bool("BEHIND_TLS_PROXY", default=False):  # a TLS reverse proxy in front sets X-Forwarded-Proto (README)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- GraphQL -----------------------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "openimis_be.schema.schema",
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "SCHEMA_OUTPUT": "schema.graphql",
    "MIDDLEWARE": ["graphql_jwt.middleware.JSONWebTokenMiddleware"],
    "CAMELCASE_ERRORS": False,
}

GRAPHQL_JWT = {
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_EXPIRATION_DELTA": timedelta(seconds=env.int("JWT_EXPIRATION_SECONDS", default=24 * 3600)),
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "JWT_AUTH_HEADER_PREFIX": "Bearer",
    "JWT_COOKIE_NAME": "JWT",
    "JWT_REFRESH_TOKEN_COOKIE_NAME": "JWT-refresh-token",
    "JWT_COOKIE_SECURE": SESSION_COOKIE_SECURE,
    "JWT_COOKIE_SAMESITE": "Lax",
    "JWT_PAYLOAD_HANDLER": "core.jwt.jwt_payload",
    "JWT_DECODE_HANDLER": "core.jwt.jwt_decode",
    "JWT_GET_USER_BY_NATURAL_KEY_HANDLER": "core.jwt.get_user_by_natural_key",
    "JWT_ALLOW_ANY_CLASSES": [
        "core.schema.TokenAuth",
        "core.schema.VerifyToken",
        "core.schema.RefreshToken",
        "core.schema.RevokeToken",
        "core.schema.DeleteTokenCookie",
        "graphql_jwt.mutations.DeleteRefreshTokenCookie",
        "core.gql_mutations.ResetPasswordMutation",
        "core.gql_mutations.SetPasswordMutation",
    ],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.jwt.JWTCookieOrHeaderAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
# With no broker configured everything runs in-process, so the embedded default needs no Redis.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = CELERY_RESULT_BACKEND or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Periodic jobs are declared by each module (``SCHEDULED_JOBS`` on its AppConfig) and collected into
# CELERY_BEAT_SCHEDULE at start-up (openimis_be.apps); operators may add or override jobs here in upstream's
# shape (APScheduler cron keyword arguments), e.g.
# [{"method": "core.tasks.cleanup_expired_exports", "args": ["cron"], "kwargs": {"id": "core_cleanup_exports", "hour": 4}}]
SCHEDULER_JOBS = []
# or in celery's own shape: an entry here replaces the module's job of the same name
CELERY_BEAT_SCHEDULE = {}

# --- Workflows -------------------------------------------------------------------------------
# Bearer token of the OpenFn Lightning engine (workflow module, when lightning_enabled): from the environment only.
LIGHTNING_API_KEY = env.str("LIGHTNING_API_KEY", default="")

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # every process (web, worker, each management command) registers the workflows at start-up: nine lines
        # each time at INFO; a replaced workflow is still a WARNING
        "workflow.systems.python": {"level": env.str("WORKFLOW_LOG_LEVEL", default="WARNING")},
    },
}
