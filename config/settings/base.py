"""Settings shared by every environment.

Everything a deployment changes comes from the environment; every value has an embedded
default so that a fresh clone runs on SQLite and a broker that needs no server.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("BATON_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-baton-local-only-change-me")
DEBUG = env_bool("DEBUG", False)
# The demo (`make run` with seeded data): the 404 page says how to log in.
BATON_DEMO = env_bool("BATON_DEMO", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "reports.apps.BatonAdminConfig",  # django.contrib.admin with the report pages
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "leads.apps.LeadsConfig",
    "leads.learning.apps.LearningConfig",
    "campaigns.apps.CampaignsConfig",
    "crm.apps.CrmConfig",
    "reports.apps.ReportsConfig",
    "integrations.apps.IntegrationsConfig",
    "privacy.apps.PrivacyConfig",
    "devtools.apps.DevtoolsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.roles",
                "config.context_processors.demo",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'baton.sqlite3'}")
# Seconds a process keeps its database connection; workers benefit most (a new PostgreSQL
# connection per task costs more than a small hand-off).
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process, the worker and beat share one SQLite file: WAL lets readers run beside
    # the writer, IMMEDIATE transactions take the write lock up front instead of failing
    # half-way, and the timeout waits for the lock instead of raising "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The covering indexes' INCLUDE columns are a PostgreSQL speed-up; SQLite ignores them, and
    # the warning saying so on every command of `make run` only alarms a new user.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The search's typo tolerance: a term matches a name or company when its trigram word
    # similarity reaches this (pg_trgm's default 0.6 misses one wrong letter in an 8-letter word).
    SEARCH_WORD_SIMILARITY = float(os.environ.get("SEARCH_WORD_SIMILARITY", "0.5"))
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c pg_trgm.word_similarity_threshold={SEARCH_WORD_SIMILARITY}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Throttle counts (and anything else cached). Default: one in-memory cache per process; a
# redis:// URL shares the counts across processes and hosts.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Live pages (crm/live.py): seconds between polls of a visible page (a hidden one polls at a
# sixth of that rate) and how long the page's signed poll token is good for.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 5)
LIVE_TOKEN_MAX_AGE = env_int("LIVE_TOKEN_MAX_AGE", 24 * 3600)

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "baton@localhost")
# Where people reach this Baton: links in e-mails are absolute on it (an e-mail has no page
# to be relative to). `make run` serves http://127.0.0.1:8000.
BATON_BASE_URL = os.environ.get("BATON_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)  # seconds; the outbox row is locked while sending

# --- Sales ---------------------------------------------------------------------------------
# Calling hours in the lead's own time zone: the call list shows leads outside them last.
CALLING_HOURS_START = env_int("CALLING_HOURS_START", 9)
CALLING_HOURS_END = env_int("CALLING_HOURS_END", 20)
# A callback still open this long after its time ranks and reads as overdue on the call list.
CALLBACK_OVERDUE_AFTER_MINUTES = env_int("CALLBACK_OVERDUE_AFTER_MINUTES", 60)

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Personal tokens first: an unauthenticated request gets 401 with WWW-Authenticate: Bearer.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttles.WriteRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.BatonAutoSchema",
    "EXCEPTION_HANDLER": "config.api.errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "config.api.metadata.BatonMetadata",
    "DEFAULT_THROTTLE_RATES": {
        "capture": os.environ.get("CAPTURE_THROTTLE_RATE", "30/min"),  # per client IP
        "capture_form": os.environ.get("CAPTURE_FORM_THROTTLE_RATE", "600/min"),  # per capture form
        "write": os.environ.get("API_WRITE_THROTTLE_RATE", "120/min"),  # per API token (per user for a session)
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Baton API",
    "DESCRIPTION": "Marketing decides who to call; sales makes the call.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One schema name per choice set, whatever the field is called in each serializer.
    "ENUM_NAME_OVERRIDES": {
        "RejectReasonEnum": "crm.models.RejectReason",
        "LostReasonEnum": "crm.models.LostReason",
        "ObjectionCategoryEnum": "campaigns.models.ObjectionCategory",
        "LifecycleStageEnum": "leads.models.LifecycleStage",
        "LeadSourceEnum": "leads.models.LeadSource",
        "EngagementKindEnum": "leads.models.EngagementKind",
        "RuleKindEnum": "leads.models.RuleKind",
        "CampaignKindEnum": "campaigns.models.CampaignKind",
        "CampaignStatusEnum": "campaigns.models.CampaignStatus",
        "MemberStatusEnum": "campaigns.models.MemberStatus",
        "CollateralKindEnum": "campaigns.models.CollateralKind",
        "FunnelStageEnum": "campaigns.models.FunnelStage",
        "FeedbackSourceEnum": "campaigns.models.FeedbackSource",
        "AssignmentStatusEnum": "crm.models.AssignmentStatus",
        "RoutingStrategyEnum": "crm.models.RoutingStrategy",
        "SlaActionEnum": "crm.models.SlaAction",
        "CallOutcomeEnum": "crm.models.CallOutcome",
        "FollowUpKindEnum": "crm.models.FollowUpKind",
        "DealStageEnum": "crm.models.DealStage",
        "LearnedModelStatusEnum": "leads.learning.models.LearnedModelStatus",
    },
}

# --- Celery --------------------------------------------------------------------------------
# The embedded default is kombu's filesystem transport: messages are files under var/, so a
# task sent by the web process really crosses into the worker process with no server running.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(os.environ.get("BATON_BROKER_DIR", VAR_DIR / "broker"))
# The slowest task (a full re-score or a model training on a million leads) is bounded by
# CELERY_TASK_TIME_LIMIT; Redis must not redeliver an unacked task before that limit passes.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60)
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("out", "processed", "control", "tmp", "bad"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    # kombu's transport with atomic message files (config/broker.py): a worker never reads a
    # half-written message.
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
        "temp_folder": str(BROKER_DIR / "tmp"),
        "bad_folder": str(BROKER_DIR / "bad"),
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# After SIGTERM a worker lets running tasks finish for this long, then stops, re-queuing the
# acks_late tasks it still held (config/celery.py maps SIGTERM to this soft-then-cold path).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = float(os.environ.get("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", "4"))
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "sales"
CELERY_TASK_ROUTES = {
    "leads.*": {"queue": "marketing"},
    "campaigns.*": {"queue": "marketing"},
    # The recovery jobs (beat) have their own queue: a burst of hand-off messages must not
    # hold up the sweep that is there to catch what the burst missed.
    "crm.tasks.handoff_sweep_task": {"queue": "handoff_sweep"},
    "crm.tasks.sla_check_task": {"queue": "handoff_sweep"},
    "crm.tasks.sla_warn_task": {"queue": "handoff_sweep"},
    "crm.tasks.email_outbox_resend_task": {"queue": "handoff_sweep"},
    "crm.tasks.handoff*": {"queue": "handoff"},
    "crm.*": {"queue": "sales"},
    "reports.*": {"queue": "sales"},
    "privacy.*": {"queue": "marketing"},
    "integrations.*": {"queue": "webhooks"},
}
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict = {}
# The hand-off safety net and the SLA check (crm/tasks.py); both are idempotent, so an overlap
# of two runs is harmless.
CELERY_BEAT_SCHEDULE["crm-handoff-sweep"] = {"task": "crm.tasks.handoff_sweep_task", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["crm-sla-check"] = {"task": "crm.tasks.sla_check_task", "schedule": 60.0}
# The SLA warning (crm/services/handoff.py sla_warn): once per assignment, when this share of
# its first-touch SLA (assigned -> due, in per cent) has passed without a call.
CELERY_BEAT_SCHEDULE["crm-sla-warn"] = {"task": "crm.tasks.sla_warn_task", "schedule": 60.0}
SLA_WARNING_PERCENT = env_int("SLA_WARNING_PERCENT", 75)
# E-mail outbox (crm/services/notifications.py): the resend job sends unsent rows older than
# the grace period (their doorbell was lost) and retries failed sends with backoff (base
# seconds, doubling, capped) up to the maximum number of attempts.
CELERY_BEAT_SCHEDULE["crm-email-outbox-resend"] = {"task": "crm.tasks.email_outbox_resend_task", "schedule": 60.0}
EMAIL_OUTBOX_RESEND_GRACE_SECONDS = env_int("EMAIL_OUTBOX_RESEND_GRACE_SECONDS", 30)
EMAIL_OUTBOX_RESEND_BATCH = env_int("EMAIL_OUTBOX_RESEND_BATCH", 2000)
EMAIL_OUTBOX_RETRY_SECONDS = env_int("EMAIL_OUTBOX_RETRY_SECONDS", 60)
EMAIL_OUTBOX_RETRY_MAX_SECONDS = env_int("EMAIL_OUTBOX_RETRY_MAX_SECONDS", 3600)
EMAIL_OUTBOX_MAX_ATTEMPTS = env_int("EMAIL_OUTBOX_MAX_ATTEMPTS", 10)
# Leads per sweep transaction (rows stay locked that long) and per sweep run.
HANDOFF_SWEEP_BATCH_SIZE = env_int("HANDOFF_SWEEP_BATCH_SIZE", 50)
HANDOFF_SWEEP_MAX_LEADS = env_int("HANDOFF_SWEEP_MAX_LEADS", 20_000)
# Recently qualified leads an event task hands off after its own when a burst is waiting.
HANDOFF_BACKLOG_BATCH_SIZE = env_int("HANDOFF_BACKLOG_BATCH_SIZE", 100)

# The funnel report's stage counts come from a rollup rebuilt this often (beat); one older than
# the max age (beat stopped) is not shown, and the counts are computed live instead.
REPORTS_FUNNEL_ROLLUP_MINUTES = env_int("REPORTS_FUNNEL_ROLLUP_MINUTES", 15)
REPORTS_FUNNEL_ROLLUP_MAX_AGE_MINUTES = env_int("REPORTS_FUNNEL_ROLLUP_MAX_AGE_MINUTES", 120)
CELERY_BEAT_SCHEDULE["reports-funnel-rollup"] = {
    "task": "reports.tasks.funnel_rollup_refresh_task",
    "schedule": 60.0 * REPORTS_FUNNEL_ROLLUP_MINUTES,
}

# --- Privacy -------------------------------------------------------------------------------
# Unconverted leads (still with marketing, or disqualified) with no activity for this many days
# are anonymised by the daily retention job (privacy/services.py), at most a batch per run.
PRIVACY_RETENTION_DAYS = env_int("PRIVACY_RETENTION_DAYS", 730)
PRIVACY_RETENTION_BATCH = env_int("PRIVACY_RETENTION_BATCH", 2000)
CELERY_BEAT_SCHEDULE["privacy-retention"] = {"task": "privacy.tasks.retention_run_task", "schedule": 24 * 3600.0}

# --- Collateral library (campaigns) ---------------------------------------------------------
# Largest collateral upload, in bytes; items not shared for this many days count as stale.
COLLATERAL_MAX_UPLOAD_BYTES = env_int("COLLATERAL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
COLLATERAL_STALE_DAYS = env_int("COLLATERAL_STALE_DAYS", 90)

# --- Segments, scoring and intake (leads) ---------------------------------------------------
SEGMENT_MAX_DEPTH = env_int("SEGMENT_MAX_DEPTH", 8)  # levels of all/any/not groups in a rule tree
SEGMENT_MAX_CONDITIONS = env_int("SEGMENT_MAX_CONDITIONS", 100)
SEGMENT_PREVIEW_SAMPLE = env_int("SEGMENT_PREVIEW_SAMPLE", 10)  # leads shown beside a live count
# Duplicate leads (leads/duplicates.py): every lead checked once a night; capture and import
# check the leads they touch as they go.
CELERY_BEAT_SCHEDULE["leads-duplicates-nightly"] = {
    "task": "leads.tasks.duplicates_find_task",
    "schedule": crontab(hour=env_int("LEADS_DUPLICATES_HOUR", 3), minute=30),
}
# Nightly re-score: engagement decays with time even when nothing happens (hour in TIME_ZONE);
# the daily job re-scores what changed and moves the rest forward by decay alone.
CELERY_BEAT_SCHEDULE["leads-rescore-nightly"] = {
    "task": "leads.tasks.leads_rescore_daily_task",
    "schedule": crontab(hour=env_int("LEADS_RESCORE_HOUR", 2), minute=15),
}
# The qualification safety net: leads over the threshold that no task moved (a worker died
# with its message, a publish failed) become MQL within a minute. One indexed query when none.
CELERY_BEAT_SCHEDULE["leads-qualify-ready"] = {"task": "leads.tasks.leads_qualify_ready_task", "schedule": 60.0}
IMPORT_MAX_FIELD_CHARS = env_int("IMPORT_MAX_FIELD_CHARS", 2000)
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
EVENTS_MAX_BATCH = env_int("EVENTS_MAX_BATCH", 500)
LEADS_BULK_MAX = env_int("LEADS_BULK_MAX", 1000)  # leads per POST /api/leads/bulk/
# Weekly training of the learned model from the latest outcomes (leads/learning); a new version
# is kept for a marketer to compare and activate, never activated by itself.
CELERY_BEAT_SCHEDULE["learning-train-weekly"] = {
    "task": "leads.learning.tasks.learned_train_task",
    "schedule": crontab(
        day_of_week=env_int("LEARNING_TRAIN_WEEKDAY", 1), hour=env_int("LEARNING_TRAIN_HOUR", 3), minute=30
    ),
}

# --- Webhooks (integrations) -----------------------------------------------------------------
WEBHOOKS_REQUIRE_HTTPS = env_bool("WEBHOOKS_REQUIRE_HTTPS", not DEBUG)
# Production never sends to private, loopback or link-local addresses (checked on every send).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", DEBUG)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10)
# How long a worker holds a delivery it is sending; a worker killed mid-send lets go then.
WEBHOOKS_LEASE_SECONDS = env_int("WEBHOOKS_LEASE_SECONDS", WEBHOOKS_TIMEOUT_SECONDS + 30)
WEBHOOKS_RETRY_WINDOW_SECONDS = env_int("WEBHOOKS_RETRY_WINDOW_SECONDS", 24 * 60 * 60)
# Backoff: base * 2^(attempt-1), at most max, times a jitter of 0.5-1.5.
WEBHOOKS_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOKS_RETRY_BASE_SECONDS", "1"))
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 60 * 60)
# Retries sooner than this are sent with a countdown; later ones are rung by the sweep.
WEBHOOKS_RETRY_COUNTDOWN_MAX_SECONDS = env_int("WEBHOOKS_RETRY_COUNTDOWN_MAX_SECONDS", 300)
# A subscription failing every attempt this long and this many times in a row is disabled.
WEBHOOKS_DISABLE_AFTER_SECONDS = env_int("WEBHOOKS_DISABLE_AFTER_SECONDS", 24 * 60 * 60)
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 20)
WEBHOOKS_SWEEP_SECONDS = env_int("WEBHOOKS_SWEEP_SECONDS", 30)
WEBHOOKS_SWEEP_BATCH = env_int("WEBHOOKS_SWEEP_BATCH", 5000)
CELERY_BEAT_SCHEDULE["integrations-webhooks-sweep"] = {
    "task": "integrations.tasks.webhooks_sweep_task",
    "schedule": float(WEBHOOKS_SWEEP_SECONDS),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # interpret logs every boosting step at INFO (thousands of lines per training).
    "loggers": {"django.db.backends": {"level": "WARNING"}, "interpret": {"level": "WARNING"}},
}
