"""Chronicle's settings, read from the environment.

Without any variable set, Chronicle runs on its embedded default: SQLite, a Celery
worker on the filesystem broker under var/, email written to var/mail/. See README.md.
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .environment import (
    WEEKDAYS,
    cache_config,
    database_config,
    digest_schedule,
    email_config,
    env,
    env_bool,
    env_int,
    env_list,
)

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env("CHRONICLE_VAR_DIR", str(BASE_DIR / "var")))

# Off unless asked for: bin/run turns it on for the embedded demo.
DEBUG = env_bool("DEBUG", False)
# Public in this file, so anyone could sign links with it: never with DEBUG off.
DEVELOPMENT_SECRET_KEY = "embedded-development-key-not-for-production"  # noqa: S105 (DEBUG only)
SECRET_KEY = env("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off (or set SECRET_KEY_FILE).")
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
elif SECRET_KEY == DEVELOPMENT_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY is the public development key; set a long random one.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off, e.g. chronicle.example.org.")

# How many reverse proxies in front of Chronicle add to X-Forwarded-For (nginx in
# docker-compose: 1; 2 with a TLS terminator in front of it). Decides the client address
# that rate limits count against.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES={TRUSTED_PROXIES} must be 0 or more (proxies in front of Chronicle).")

# The port `bin/run` serves on (runserver); every link Chronicle writes follows it unless
# SITE_URL names the public address.
PORT = env_int("PORT", 8000)
if not 0 < PORT < 65536:
    raise ImproperlyConfigured(f"PORT={PORT} must be a TCP port, 1 to 65535.")
SITE_URL = (env("SITE_URL") or f"http://127.0.0.1:{PORT}").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "chronicle.eventstore",
    "chronicle.developments",
    "chronicle.api",
    "chronicle.feeds",
    "chronicle.public",
    "chronicle.digests",
    "chronicle.exports",
    "chronicle.webhooks",
]

MIDDLEWARE = [
    "chronicle.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "chronicle.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "chronicle.database.DatabaseUnavailableMiddleware",
    "django.middleware.common.CommonMiddleware",
    "chronicle.api.answers.KeptAnswerMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "chronicle.twofactor.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "chronicle" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_config(env("DATABASE_URL") or "sqlite:///var/chronicle.sqlite3", BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A development at the domain's limits (100 sources, actors, amounts and places) posts
# about 2,300 fields from the admin; Django's default of 1,000 would refuse it.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Throttle counters (API, admin sign-in) must be shared by every web process: set
# CACHE_URL=redis://… in production. The default is per process.
CACHES = {"default": cache_config(env("CACHE_URL"))}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# -- Chronicle ---------------------------------------------------------------------------

# Four eyes: an editor may not publish, correct, update or schedule a revision they wrote.
# Retraction is deliberately not covered: taking down what should not be public must not
# wait for a second editor, and a retraction stays public with its reason.
CHRONICLE_FOUR_EYES = env_bool("CHRONICLE_FOUR_EYES", True)
FEEDS_ROOT = Path(env("FEEDS_ROOT") or VAR_DIR / "feeds")

# -- Feeds (chronicle.feeds) --------------------------------------------------------------

FEEDS_MAX_ENTRIES = env_int("FEEDS_MAX_ENTRIES", 50)
if FEEDS_MAX_ENTRIES < 1:
    raise ImproperlyConfigured(f"FEEDS_MAX_ENTRIES={FEEDS_MAX_ENTRIES} must be at least 1 (entries per feed).")
# How long readers and proxies may cache a feed file (seconds).
FEEDS_MAX_AGE = env_int("FEEDS_MAX_AGE", 300)
# A WebSub hub (e.g. https://pubsubhubbub.appspot.com/) announced in the feeds and pinged
# when they change; empty for none.
FEEDS_WEBSUB_HUB = env("FEEDS_WEBSUB_HUB") or ""
if FEEDS_WEBSUB_HUB and not FEEDS_WEBSUB_HUB.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"FEEDS_WEBSUB_HUB={FEEDS_WEBSUB_HUB!r} must be an http(s) URL of a WebSub hub.")

# -- Digests (chronicle.digests) ---------------------------------------------------------

# When the passes run (UTC): DIGEST_DAILY_AT=HH:MM, DIGEST_WEEKLY_AT="<weekday> HH:MM".
DIGEST_SCHEDULE = digest_schedule(env("DIGEST_DAILY_AT") or "06:00", env("DIGEST_WEEKLY_AT") or "mon 06:30")
DIGEST_BATCH_SIZE = env_int("DIGEST_BATCH_SIZE", 100)
# A claimed digest is taken over by another worker after this long; keep it well above
# the time one message can take (EMAIL_TIMEOUT), or a slow send could be repeated.
DIGEST_LEASE_SECONDS = env_int("DIGEST_LEASE_SECONDS", 600)
DIGEST_MAX_PERMANENT_FAILURES = env_int("DIGEST_MAX_PERMANENT_FAILURES", 3)
DIGEST_CONFIRMATION_INTERVAL = env_int("DIGEST_CONFIRMATION_INTERVAL", 3600)
DIGEST_CONFIRM_LINK_MAX_AGE = 3 * 86400
DIGEST_MANAGE_LINK_MAX_AGE = 90 * 86400
DIGEST_UNSUBSCRIBE_LINK_MAX_AGE = 365 * 86400
DIGEST_SUBSCRIBE_RATE = env("DIGEST_SUBSCRIBE_RATE") or "20/hour"


# -- Exports (chronicle.exports) ---------------------------------------------------------

EXPORTS_ROOT = Path(env("EXPORTS_ROOT") or VAR_DIR / "exports")
# Nightly packages older than this many days are removed (the latest is always kept).
EXPORTS_KEEP_DAYS = env_int("EXPORTS_KEEP_DAYS", 7)
if EXPORTS_KEEP_DAYS < 1:
    raise ImproperlyConfigured(f"EXPORTS_KEEP_DAYS={EXPORTS_KEEP_DAYS} must be at least 1 (days to keep packages).")
EXPORTS_NIGHTLY_AT = env("EXPORTS_NIGHTLY_AT") or "02:00"
try:
    _export_hour, _export_minute = (int(part) for part in EXPORTS_NIGHTLY_AT.split(":"))
    if not (0 <= _export_hour < 24 and 0 <= _export_minute < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(f"EXPORTS_NIGHTLY_AT={EXPORTS_NIGHTLY_AT!r}: use HH:MM (UTC), e.g. 02:00.") from None

# -- Webhooks (chronicle.webhooks) -------------------------------------------------------

# Endpoints on loopback, private and link-local addresses are refused unless this is on
# (for receivers inside the operator's own network; tests turn it on for loopback).
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 10)
# A worker's claim on an endpoint; another worker takes over after this (a crash). Each
# attempt renews it, so it must be well above the attempt's time limit.
WEBHOOKS_LEASE_SECONDS = env_int("WEBHOOKS_LEASE_SECONDS", 60)
WEBHOOKS_RETRY_BASE_SECONDS = env_int("WEBHOOKS_RETRY_BASE_SECONDS", 10)
WEBHOOKS_RETRY_MAX_SECONDS = env_int("WEBHOOKS_RETRY_MAX_SECONDS", 3600)
WEBHOOKS_DISABLE_AFTER_SECONDS = env_int("WEBHOOKS_DISABLE_AFTER_SECONDS", 86400)
WEBHOOKS_CONCURRENCY = env_int("WEBHOOKS_CONCURRENCY", 8)
# How long one pass may stay with one endpoint before handing over to the next pass.
WEBHOOKS_PASS_SECONDS = env_int("WEBHOOKS_PASS_SECONDS", 120)
WEBHOOKS_SWEEP_SECONDS = env_int("WEBHOOKS_SWEEP_SECONDS", 15)
# The Celery queue of delivery tasks: give them a worker of their own in production.
WEBHOOKS_QUEUE = env("WEBHOOKS_QUEUE") or "celery"
if WEBHOOKS_LEASE_SECONDS <= 2 * WEBHOOKS_TIMEOUT_SECONDS or WEBHOOKS_TIMEOUT_SECONDS < 1:
    raise ImproperlyConfigured(
        f"WEBHOOKS_LEASE_SECONDS={WEBHOOKS_LEASE_SECONDS} must be more than twice "
        f"WEBHOOKS_TIMEOUT_SECONDS={WEBHOOKS_TIMEOUT_SECONDS} (at least 1), or a slow attempt could be sent twice."
    )
if min(WEBHOOKS_RETRY_BASE_SECONDS, WEBHOOKS_RETRY_MAX_SECONDS, WEBHOOKS_CONCURRENCY, WEBHOOKS_PASS_SECONDS) < 1:
    raise ImproperlyConfigured(
        "WEBHOOKS_RETRY_BASE_SECONDS, WEBHOOKS_RETRY_MAX_SECONDS, WEBHOOKS_CONCURRENCY and WEBHOOKS_PASS_SECONDS "
        "must be at least 1."
    )
if WEBHOOKS_SWEEP_SECONDS < 1 or WEBHOOKS_DISABLE_AFTER_SECONDS < 1:
    raise ImproperlyConfigured("WEBHOOKS_SWEEP_SECONDS and WEBHOOKS_DISABLE_AFTER_SECONDS must be at least 1.")

# -- Email -------------------------------------------------------------------------------

vars().update(email_config(env("EMAIL_URL"), VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL") or "Chronicle <chronicle@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Date: in the process's time zone (TIME_ZONE, UTC) reads "+0000"; Django's default, "-0000",
# tells a receiver the sender does not know its zone.
EMAIL_USE_LOCALTIME = True

# -- Celery ------------------------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    # The filesystem transport has no host, but kombu warns at every start without one.
    CELERY_BROKER_URL = "filesystem://localhost/"
# Publishing must not hang when the broker is down: give up quickly, catch up later.
# Without socket timeouts a broker that accepts connections but never answers (hung, or
# gone behind a firewall that drops packets) would block publications and subscriptions.
REDIS_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"  # its folders are made by the Celery app (config/celery_app.py)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = REDIS_BROKER_TRANSPORT_OPTIONS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ROUTES = {"chronicle.webhooks.tasks.*": {"queue": WEBHOOKS_QUEUE}}
CELERY_BEAT_SCHEDULE: dict = {
    # The sealer follows the log from here, seconds behind it; appends never wait for it.
    "seal-events": {"task": "chronicle.eventstore.tasks.seal_pending_events", "schedule": 5.0},
    "release-scheduled-publications": {
        "task": "chronicle.developments.tasks.release_scheduled_publications",
        "schedule": 60.0,
    },
    # Safety nets for feeds: catch up on events whose regeneration was never queued (broker
    # down), and rewrite everything daily (files whose bytes are unchanged stay untouched).
    "publish-stale-feeds": {"task": "chronicle.feeds.tasks.publish_stale_feeds", "schedule": 60.0},
    "publish-all-feeds": {"task": "chronicle.feeds.tasks.publish_all_feeds", "schedule": 24 * 3600.0},
    "digests-daily": {
        "task": "chronicle.digests.tasks.start_digest_pass",
        "schedule": crontab(hour=DIGEST_SCHEDULE.daily_hour, minute=DIGEST_SCHEDULE.daily_minute),
        "args": ("daily",),
    },
    "digests-weekly": {
        "task": "chronicle.digests.tasks.start_digest_pass",
        "schedule": crontab(
            day_of_week=WEEKDAYS[DIGEST_SCHEDULE.weekday],
            hour=DIGEST_SCHEDULE.weekly_hour,
            minute=DIGEST_SCHEDULE.weekly_minute,
        ),
        "args": ("weekly",),
    },
    "digests-resume": {"task": "chronicle.digests.tasks.resume_digests", "schedule": 300.0},
    # A pass whose message beat could not send (broker down) starts late from here.
    "digests-missed": {"task": "chronicle.digests.tasks.start_missed_digest_passes", "schedule": 300.0},
    # Safety net for webhooks: retries that came due, passes whose message was lost.
    "webhooks-deliver": {
        "task": "chronicle.webhooks.tasks.deliver_webhooks",
        "schedule": float(WEBHOOKS_SWEEP_SECONDS),
    },
    "exports-nightly": {
        "task": "chronicle.exports.tasks.write_nightly_package",
        "schedule": crontab(hour=_export_hour, minute=_export_minute),
    },
    # Confirmation requests that could not be queued (broker down) go out from here.
    "digests-unsent-confirmations": {
        "task": "chronicle.digests.tasks.send_unsent_confirmations",
        "schedule": 60.0,
    },
}

# -- REST framework ----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "chronicle.api.authentication.ApiKeyAuthentication",
        "chronicle.twofactor.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "chronicle.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # One JSON error shape for every DRF view: {"error": {"code", "message", "fields"}}.
    "EXCEPTION_HANDLER": "chronicle.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "anonymous": env("API_RATE_ANONYMOUS") or "60/minute",
        "partner": env("API_RATE_PARTNER") or "1200/minute",
    },
    # The client's address is the one the last TRUSTED_PROXIES proxies saw (X-Forwarded-For);
    # with none, the peer's address. A client cannot choose its identity by sending the header.
    "NUM_PROXIES": TRUSTED_PROXIES,
}
# API answers are cached by their ETag, which changes with every public event; this only
# bounds how long an answer no one asks for again keeps its place.
API_BODY_CACHE_SECONDS = env_int("API_BODY_CACHE_SECONDS", 600)
# A key's lookup is reused this long: a key revoked in another process, or whose owner
# was deactivated, is refused at the latest this many seconds later.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 5)
SPECTACULAR_SETTINGS = {
    "TITLE": "Chronicle API",
    "DESCRIPTION": "Cooperation developments, their history and the public change stream.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "chronicle.api.docs.describe_api",
    ],
}

# -- Security ----------------------------------------------------------------------------

# Django's defaults, stated: every response carries these (ContentSecurityPolicyMiddleware
# adds a content security policy to pages).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Admin sign-in is refused for a while after this many failures for one username (four
# times as many from one address) within ADMIN_LOGIN_LOCKOUT_SECONDS.
ADMIN_LOGIN_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
ADMIN_LOGIN_LOCKOUT_SECONDS = env_int("ADMIN_LOGIN_LOCKOUT_SECONDS", 900)
if ADMIN_LOGIN_FAILURE_LIMIT < 1 or ADMIN_LOGIN_LOCKOUT_SECONDS < 1:
    raise ImproperlyConfigured("ADMIN_LOGIN_FAILURE_LIMIT and ADMIN_LOGIN_LOCKOUT_SECONDS must be at least 1.")

# Every staff account signs in to the admin with a password and a code from an authenticator
# app (chronicle.twofactor); on by default unless DEBUG (bin/run's demo). With it off, only
# those who set it up give a code.
ADMIN_REQUIRE_TWO_FACTOR = env_bool("ADMIN_REQUIRE_TWO_FACTOR", not DEBUG)
OTP_TOTP_ISSUER = "Chronicle"
# The admin must not show anyone's authenticator key or backup codes, even to a superuser.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL") or "INFO"},
    "loggers": {
        # Django's own console handler would print every line the root handler prints too.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "WARNING"},
    },
}
