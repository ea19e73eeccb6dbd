"""Settings shared by every environment, read from the environment (CONTRACT.md "Commands").

Not used on its own: ``local`` (make run, manage.py), ``test`` (pytest) and
``production`` (gunicorn, docker-compose) import it and add what is theirs; only they set
``SECRET_KEY``. Embedded default: SQLite and Celery's filesystem broker, both under
``var/`` (``PORTAL_VAR_DIR``). ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to
PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
import whitenoise.compress
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
VAR_DIR = Path(env("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = False

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "portal",
    "billing",
    "licensing",
    "planchange",
    "webhooks",
    "simulation",
    "support",
    "graph",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Under /api/: a path no view answers is problem+json, DEBUG or not (before APPEND_SLASH).
    "portal.middleware.ApiNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.security.ContentSecurityPolicyMiddleware",
    # Last: turns a login refused for lockout into the lockout page (AXES_LOCKOUT_CALLABLE).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.shell",
                "portal.context_processors.kept",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker share the file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock when a transaction starts (no upgrade deadlocks),
    # and the busy timeout makes a writer wait instead of answering "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=30000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-portal.sqlite3")}
else:
    # Persistent connections, checked before reuse (with no round trip unless the server ended them: portal/postgresql):
    # a request or a worker's task doesn't start a new PostgreSQL backend each time (a few milliseconds each).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "portal.postgresql"
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- Login lockout (django-axes) -------------------------------------------
# Axes' backend first: it refuses a locked-out login before the password is checked, on the login page and the admin's.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After PORTAL_LOGIN_FAILURE_LIMIT wrong passwords for one username from one client
# address, that pair is locked out for PORTAL_LOGIN_COOLOFF_MINUTES (another attempt while
# locked starts the cool-off again); other users and other addresses are unaffected.
AXES_FAILURE_LIMIT = env.int("PORTAL_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("PORTAL_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.security.login_locked_out"
# The client address: REMOTE_ADDR, or behind PORTAL_PROXY_COUNT trusted proxies the one they saw (as NUM_PROXIES).
PORTAL_PROXY_COUNT = env.int("PORTAL_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "portal.security.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Languages: English (default) and Swedish, the article's language ------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("sv", "Svenska")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files from `collectstatic`, served by whitenoise (local.py, DEBUG on, serves the sources).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
# Source maps (the API docs' bundles') are for a developer's tools: compressing them twice cost most of collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*whitenoise.compress.Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Cache: the API throttles' counters --------------------------------------
# Per process by default; production sets DJANGO_CACHE_URL (redis://…): every web process counts to the same limits.
CACHES = {"default": env.cache_url("DJANGO_CACHE_URL", default="locmemcache://")}


def cache_is_shared(caches: dict) -> bool:
    """Whether every process reads the same default cache (not a local-memory one of its own)."""
    return not caches["default"]["BACKEND"].endswith((".LocMemCache", ".DummyCache"))


# Web processes keep a token's login, tenant and roles and the clock's offset between API requests, for as
# long as the default cache's stamp says they hold (portal/generation.py): only where every process shares
# that cache, so that a change any process makes reaches the others on their very next request.
PORTAL_API_KEEP = env.bool("PORTAL_API_KEEP", default=cache_is_shared(CACHES))

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The portal's API tokens (hashed, revocable, with expiry), behind the bad-token throttle
        # that answers 429 to an address after too many bad tokens.
        "portal.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Counts requests nobody was identified for (DRF would check permissions first).
        "portal.api.throttling.AnonymousRateLimit",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.UserRateThrottle"],
    # Requests per client address from anonymous callers, per signed-in user (token or
    # session), and bad tokens per client address; "N/second|minute|hour|day".
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("PORTAL_API_RATE_ANON", default="60/minute"),
        "user": env("PORTAL_API_RATE_USER", default="600/minute"),
        "token_failures": env("PORTAL_API_RATE_TOKEN_FAILURES", default="20/hour"),
    },
    # X-Forwarded-For is trusted only as far as PORTAL_PROXY_COUNT proxies added it; with
    # 0 the address is REMOTE_ADDR (a client can't escape a throttle by sending the header).
    "NUM_PROXIES": PORTAL_PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "portal.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.errors.problem_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Plan Change Portal API",
    "DESCRIPTION": (
        "Scriptable plan changes for a simulated Microsoft 365 for business admin center. "
        "Authenticate with `Authorization: Token <token>`."
    ),
    "VERSION": "1.0.0",
    # The schemes a client can use (AnonymousRateLimit authenticates nobody).
    "AUTHENTICATION_WHITELIST": [
        "portal.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # The API is on the portal that serves the schema (Redocly's no-empty-servers; a client sets its base URL).
    "SERVERS": [{"url": "/", "description": "this portal"}],
    "TAGS": [{"name": "v1", "description": "The REST API, version 1 (docs/api.md)"}],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "portal.api.schema.postprocess_schema"],
    # Request bodies are JSON (docs/api.md): the form parsers stay for what browsers send, but a form
    # can't say true, null or a list of 10,000, so the schema offers JSON only.
    "PARSER_WHITELIST": ["portal.api.parsers.JSONParser"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Served from the project: the machines have no internet, so no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionStatusEnum": "billing.models.SubscriptionStatus",
        "CreditCheckStatusEnum": "billing.models.CreditCheckStatus",
        "PaymentKindEnum": "billing.models.PaymentKind",
        "PlanChangeStatusEnum": "planchange.models.PlanChangeStatus",
        "StepStatusEnum": "planchange.models.PlanChangeStep.Status",
        "IncidentStatusEnum": "portal.models.IncidentStatus",
        "ApiTokenStatusEnum": "portal.models.ApiTokenStatus",
        "WebhookStatusEnum": "webhooks.models.Endpoint.Status",
        "DeliveryStatusEnum": "webhooks.models.Delivery.Status",
        "ClockMoveStatusEnum": "simulation.models.ClockMove.Status",
    },
}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_MAX_RETRY_DELAY = 600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem"):
    BROKER_DIR = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers an unacknowledged message after the visibility timeout; it must
    # be longer than any task's time limit plus its longest retry delay, or a slow task
    # would run twice at once.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Webhook deliveries wait on other people's servers (up to PORTAL_WEBHOOKS_TIMEOUT each, and a fan-out
# wakes hundreds at once): they have a queue and workers of their own (Procfile, docker-compose.yml), so
# a tenant's slow receiver never holds up anyone's plan change (found by probing, probe2).
# Support's clock moves too (simulation.clock_move): a ten-year move or previews never take plan changes' slots.
CELERY_TASK_ROUTES = {"webhooks.deliver": {"queue": "webhooks"}, "simulation.clock_move": {"queue": "clock"}}
CELERY_BEAT_SCHEDULE = {
    "simulation-sweep": {"task": "simulation.sweep", "schedule": 5.0},
    # Deliveries from events whose wake was lost, and retries that fell due (webhooks/services.py).
    "webhooks-fan-out": {"task": "webhooks.fan_out", "schedule": 30.0},
}
# Workers you can see (portal/workers.py): beat sends each queue a heartbeat task this often, so an idle
# worker answers too; the support console warns when no worker of a queue has answered for
# PORTAL_WORKER_SILENCE_SECONDS while work waits for it.
PORTAL_WORKER_BEAT_SECONDS = env.float("PORTAL_WORKER_BEAT_SECONDS", default=15.0)
PORTAL_WORKER_SILENCE_SECONDS = env.float("PORTAL_WORKER_SILENCE_SECONDS", default=60.0)
for _queue in ("celery", "webhooks", "clock"):
    CELERY_BEAT_SCHEDULE[f"worker-beat-{_queue}"] = {
        "task": "portal.worker_beat", "schedule": PORTAL_WORKER_BEAT_SECONDS,
        # Nobody to answer: the heartbeat is dropped rather than answered late by a worker that comes back.
        "options": {"queue": _queue, "expires": PORTAL_WORKER_BEAT_SECONDS * 2},
    }

# Seconds each plan-change workflow step pretends to take (0 in tests).
PLANCHANGE_STEP_DELAY = env.float("PLANCHANGE_STEP_DELAY", default=0.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="WARNING")},
}

# --- Browser security headers -------------------------------------------------
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles, fonts and fetches from the portal
# itself only. No inline <script>, <style>, style="" or on…="" in any template (the API
# docs use SpectacularSwaggerSplitView and the portal's own ReDoc page for that reason).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI and ReDoc draw some icons from data: URIs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# A queued change no worker claimed this many seconds after it was queued (or woken) is woken again by the sweep.
PLANCHANGE_UNCLAIMED_SECONDS = env.float("PLANCHANGE_UNCLAIMED_SECONDS", default=5.0)
# A claimed workflow step is another worker's to take over once its lease (real seconds) runs out.
PLANCHANGE_STEP_LEASE = env.float("PLANCHANGE_STEP_LEASE", default=120.0)
# Users moved per transaction in migrate_licenses, by benchmarks/bench_batch_size.py on PostgreSQL (20,000 seats, 2
# CPUs): 500 → 2.3 s, 1,000 → 2.0, 2,000 → 1.8, 5,000 → 1.2, 10,000 → 1.2 with transactions 0.5 → 0.7 s: 5,000.
PLANCHANGE_MIGRATE_BATCH = env.int("PLANCHANGE_MIGRATE_BATCH", default=5000)
# Scheduled changes run together (planchange.together) per transaction: 125 take some 0.7 s on 2 CPUs.
PLANCHANGE_TOGETHER_MOST = env.int("PLANCHANGE_TOGETHER_MOST", default=100)
# Fault injection for crash tests: "bill:5" sleeps 5 s inside the bill step's transaction.
PLANCHANGE_PAUSE_INSIDE = env("PLANCHANGE_PAUSE_INSIDE", default="")
# How long a quote stays binding (simulation minutes) and an Idempotency-Key is remembered.
PLANCHANGE_QUOTE_MINUTES = env.int("PLANCHANGE_QUOTE_MINUTES", default=30)
IDEMPOTENCY_KEY_HOURS = 24
# How long a new (or scenario-loaded) subscription takes to be set up, in simulation minutes; support
# staff can finish it sooner (DESIGN.md "Time and the subscription lifecycle").
PORTAL_PROVISIONING_MINUTES = env.int("PORTAL_PROVISIONING_MINUTES", default=5)

# --- Webhooks (webhooks/) ------------------------------------------------------
# Loopback, private and reserved targets are refused (SSRF) unless this is on: development, tests.
PORTAL_WEBHOOKS_ALLOW_PRIVATE = env.bool("PORTAL_WEBHOOKS_ALLOW_PRIVATE", default=False)
# Seconds a whole attempt may take (connect, send, the answer's status and headers); then it has failed.
PORTAL_WEBHOOKS_TIMEOUT = env.float("PORTAL_WEBHOOKS_TIMEOUT", default=5.0)
# Seconds before each retry after a failed attempt (Standard Webhooks'/Svix's schedule: 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h); after the last, the delivery has failed and its endpoint is failing.
PORTAL_WEBHOOKS_RETRY_SCHEDULE = env.list("PORTAL_WEBHOOKS_RETRY_SCHEDULE", cast=float,
                                          default=[5, 300, 1800, 7200, 18000, 36000, 36000])
# Audit events this recent are read again by each fan-out (a transaction may commit after a later one).
PORTAL_WEBHOOKS_LOOKBACK_SECONDS = env.int("PORTAL_WEBHOOKS_LOOKBACK_SECONDS", default=600)

# --- Hostile input (DESIGN.md "Integrity"; portal/middleware.py, portal/api/parsers.py) ----
# Bodies over this many bytes answer 413 (Django's default, stated because the API docs name it).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Refuses oversized bodies and NUL in paths, query strings, headers and form fields.
MIDDLEWARE = [*MIDDLEWARE, "portal.middleware.InputGuardMiddleware"]
# The API's JSON parser bounds size and depth and refuses NUL; form parsers as DRF's default.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = [
    "portal.api.parsers.JSONParser",
    "rest_framework.parsers.FormParser",
    "rest_framework.parsers.MultiPartParser",
]

# A request that moves the clock waits this many seconds for a worker to take the move up before it runs
# the move itself (no worker running, the broker down); the move is the same either way (simulation.moves).
CLOCK_MOVE_CLAIM_WAIT = env.float("CLOCK_MOVE_CLAIM_WAIT", default=2.0)
# Seconds a clock move's runner may go without renewing its lease (it renews it with every day it
# applies) before the sweep hands the move to another worker.
CLOCK_MOVE_LEASE = env.float("CLOCK_MOVE_LEASE", default=20.0)
# A day's billing: this many tenants in the day's first transaction, then as many as take half the seconds below at
# the last one's rate (at most twice as many, and the most), half as many after one over them (simulation.days.Pace).
CLOCK_DAY_TENANTS = env.int("CLOCK_DAY_TENANTS", default=100)
CLOCK_DAY_TENANTS_MOST = env.int("CLOCK_DAY_TENANTS_MOST", default=500)
CLOCK_DAY_TRANSACTION_SECONDS = env.float("CLOCK_DAY_TRANSACTION_SECONDS", default=0.5)
# The day loop asks whether the statistics of the tables it reads have gone stale (billing.daywork) when a move
# starts and again every this many happenings (a ten-year move over 1,000 tenants has some 370,000); 0: never.
CLOCK_STATISTICS_HAPPENINGS = env.int("CLOCK_STATISTICS_HAPPENINGS", default=10_000)

# --- Importing a tenant from a Graph export (docs/import.md; simulation/imports) ----
# The largest export an import reads (the command and the upload alike), and the most users: a 50,000-user
# export is about 15 MB. The pace (users a second, measured by benchmarks/bench_import.py) only says how long
# a refused file would have taken.
PORTAL_IMPORT_MAX_BYTES = env.int("PORTAL_IMPORT_MAX_BYTES", default=100_000_000)
PORTAL_IMPORT_MAX_USERS = env.int("PORTAL_IMPORT_MAX_USERS", default=200_000)
PORTAL_IMPORT_USERS_PER_SECOND = env.int("PORTAL_IMPORT_USERS_PER_SECOND", default=2_500)
# Paths whose bodies may be that large (the upload of an export), instead of DATA_UPLOAD_MAX_MEMORY_SIZE.
PORTAL_LARGE_BODY_PATHS = ("/api/v1/support/tenants/import/", "/support/tenants/import/")
# An uploaded export stays in memory, never in a temporary file (an anonymized import keeps no name anywhere,
# not even for the length of a request); only the import's paths take bodies this large.
FILE_UPLOAD_MAX_MEMORY_SIZE = PORTAL_IMPORT_MAX_BYTES + 1_000_000
