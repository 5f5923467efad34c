"""Wan PWA settings: every value comes from the environment (documented in README.md).

Variables are read with environs, so a malformed value stops the process at start with a sentence
naming the variable (e.g. `Environment variable "DEBUG" invalid: Not a valid boolean.`). An empty
variable counts as unset and keeps its default, so `KEY=` in an env file is harmless.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import environs
from environs import validate


class Env(environs.Env):
    """environs' reader with one difference: an empty variable is read as unset."""

    # environs has no public switch for this; its lookup hook is the one place that sees every
    # read (tests/wan_pwa/test_settings.py fails if the hook stops being used).
    def _get_value(self, env_key: str, default: Any) -> Any:
        value = super()._get_value(env_key, default)
        return default if value == "" else value


env = Env()


@env.parser_for("names")
def _names(value: str) -> list[str]:
    """A comma-separated list; blanks around and between items are dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


# ---------------------------------------------------------------------------------------------
# Core: paths, debug, secret key, hosts.
# ---------------------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR: Path = env.path("DATA_DIR", BASE_DIR / ".data")

DEBUG = env.bool("DEBUG", False)

# The development key is refused by wan_pwa.checks outside DEBUG, so production must set one.
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production-use-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", DEV_SECRET_KEY)

ALLOWED_HOSTS: list[str] = env.names("ALLOWED_HOSTS", "127.0.0.1,localhost")
# A scheme is required: it decides the HTTPS defaults below, and Replicate's webhooks need it.
# A host name, not an IP address: passkeys (WebAuthn) take the page's host as their relying party
# and browsers refuse IP addresses there.
SITE_URL = env.str(
    "SITE_URL",
    "http://localhost:8000",
    validate=validate.URL(
        schemes={"http", "https"}, require_tld=False, error="must be an http:// or https:// URL"
    ),
).rstrip("/")
CSRF_TRUSTED_ORIGINS: list[str] = env.names("CSRF_TRUSTED_ORIGINS", SITE_URL)

# ---------------------------------------------------------------------------------------------
# Applications, middleware, templates (code, not configuration).
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks",
    "django_tasks_db",
    "wan_pwa",
    "credits",
    "generations",
    "webhooks",
]

MIDDLEWARE = [
    # First, so request latency includes every other middleware.
    "wan_pwa.metrics.RequestMetricsMiddleware",
    "wan_pwa.log_context.RequestLogContextMiddleware",
    "wan_pwa.middleware.RetryAfterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication: staff without a second factor are sent to set one up.
    "wan_pwa.accounts.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After the messages and htmx middleware: it reads both to append toasts to HTMX answers.
    "wan_pwa.middleware.HtmxExtrasMiddleware",
    "wan_pwa.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "wan_pwa.urls"
WSGI_APPLICATION = "wan_pwa.wsgi.application"

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
                "generations.context_processors.credit_balance",
                "wan_pwa.legal.footer_links",
            ],
            # Tag libraries outside an app's templatetags/ package, which Django would not find.
            "libraries": {
                "api_keys": "wan_pwa.accounts.templatetags",
                "account_data": "wan_pwa.accounts.account_data_tags",
                "webhook_endpoints": "wan_pwa.outgoing_webhooks.templatetags",
            },
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: SQLite by default (zero set-up), PostgreSQL with a postgres:// DATABASE_URL.
# ---------------------------------------------------------------------------------------------
DATABASES = {
    "default": env.dj_db_url(
        "DATABASE_URL",
        f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # IMMEDIATE makes write transactions take the lock up front, so they serialize instead of
    # failing with "database is locked" halfway through.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # A file, not the in-memory default: the live-server tests share it across threads, which
    # SQLite's shared-cache memory databases answer with "database schema is locked".
    DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}.test"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Accounts.
# ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "wan_pwa.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTHENTICATION_BACKENDS = [
    # Log-in by username or e-mail, with allauth's rate limits (wan_pwa/accounts/adapter.py).
    "allauth.account.auth_backends.AuthenticationBackend",
    # Kept so that sessions begun before allauth, which name this backend, stay valid.
    "django.contrib.auth.backends.ModelBackend",
]
# The sign-up bonus comes once an address is verified (credits/bonus.py), at most
# SIGNUP_BONUS_DAILY_BUDGET credits of bonuses a day for the whole site; past that, bonuses wait
# for the next day's budget.
SIGNUP_BONUS_CREDITS = env.int("SIGNUP_BONUS_CREDITS", 100, validate=validate.Range(min=0))
SIGNUP_BONUS_DAILY_BUDGET = env.int(
    "SIGNUP_BONUS_DAILY_BUDGET", 5000, validate=validate.Range(min=0)
)

# Accounts (django-allauth): sign-up with e-mail and username, log-in by either; the address is
# verified by a link before the sign-up bonus is granted, but the account can log in and look
# around before that.
ACCOUNT_ADAPTER = "wan_pwa.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "wan_pwa.accounts.forms.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
# "strict": a sign-up with an address another account uses looks exactly like any other sign-up
# (no "already exists"); only one account can ever verify an address, so the second one is an
# account with an unverified address, no bonus and no way to reset through that address.
ACCOUNT_PREVENT_ENUMERATION = "strict"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 2  # the current one and the one being changed to
ACCOUNT_CHANGE_EMAIL = True  # a new address is confirmed before it replaces the old one
ACCOUNT_EMAIL_NOTIFICATIONS = True  # the old address is told of the change (and of passwords)
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # e-mail changes ask for the password again
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this session stays; the others end
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Wan PWA] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https://") else "http"
# Limits that stop scripts, not people (counted in the default cache, shared by every worker):
# "<count>/<period>/<per>[,...]" per ip, key (the address or login typed) or user. Past a limit
# the answer is 429 and nothing is sent. The mail limits count mails asked for, whether or not an
# account has the address, so they say nothing about which addresses have accounts.
ACCOUNT_RATE_LIMITS = {
    "login": env.str("RATE_LIMIT_LOGIN", "30/m/ip"),
    # Wrong passwords: per client address, and per account typed (then even the right password
    # is refused until the window passes).
    "login_failed": env.str("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,30/h/ip,5/15m/key"),
    "signup": env.str("RATE_LIMIT_SIGNUP", "5/h/ip"),
    "reset_password": env.str("RATE_LIMIT_RESET_PASSWORD", "5/h/ip,3/h/key"),
    "reset_password_from_key": "20/m/ip",
    # Verification mails: one per address every 3 minutes (allauth's own), and ours per client
    # address (wan_pwa/accounts/adapter.py).
    "confirm_email": env.str("RATE_LIMIT_CONFIRM_EMAIL", "1/3m/key"),
    "confirm_email_ip": env.str("RATE_LIMIT_CONFIRM_EMAIL_IP", "10/h/ip"),
    "change_password": "5/m/user",
    "manage_email": "10/h/user",
    "reauthenticate": "10/m/user",
}
# Behind a reverse proxy, the client's address is the last but this many in X-Forwarded-For.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, validate=validate.Range(min=0))

# Two factors (allauth.mfa): TOTP with recovery codes, and passkeys that also sign in without a
# password. Staff need one of them to reach the admin and the dashboard.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Wan PWA"
# Only for http://localhost in development and tests: WebAuthn otherwise needs HTTPS, and
# `check --deploy` refuses it (wan_pwa/checks.py).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False)
# Terms and privacy (wan_pwa/legal.py): a folder whose terms.html and privacy.html replace the
# default pages; unset, the defaults describe what this software stores with these settings.
LEGAL_TEMPLATES_DIR = env.str("LEGAL_TEMPLATES_DIR", "")
# The service's status page, linked from every page's footer when set (https only).
_https_url = validate.URL(schemes={"https"}, error="must be an https:// URL")
STATUS_PAGE_URL = env.str("STATUS_PAGE_URL", "", validate=lambda url: not url or _https_url(url))
# Data exports (wan_pwa/accounts/data_export.py): days a ZIP is kept before it is deleted.
DATA_EXPORT_RETENTION_DAYS = env.int("DATA_EXPORT_RETENTION_DAYS", 7)

# ---------------------------------------------------------------------------------------------
# Cache and sessions: Redis when REDIS_URL is set (shared by every gunicorn worker), the
# database otherwise.
# ---------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    # Sessions read from Redis (written through to the database): one query less per request.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "wan_pwa_cache",
        }
    }

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------------------------
# Files. Static files are served by whitenoise; media (videos, posters, uploads) by Django's
# storage: the local disk, or an S3-compatible bucket when one is named.
# ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT: Path = env.path("STATIC_ROOT", DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = env.str("MEDIA_URL", "/media/")
MEDIA_ROOT: Path = env.path("MEDIA_ROOT", DATA_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# With a bucket named, uploads, videos and posters live in S3-compatible storage that every web
# server and worker shares (MEDIA_ROOT is then unused). Nothing in it is public: objects keep the
# bucket's private default and are reached only through presigned URLs that the access-checked
# views hand out, valid for AWS_QUERYSTRING_EXPIRE seconds. Unset credentials, endpoint and
# region fall back to boto3's own lookup (instance roles, ~/.aws, AWS itself).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", "")
_s3_options = {
    "bucket_name": AWS_STORAGE_BUCKET_NAME,
    "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", None),
    "access_key": env.str("AWS_ACCESS_KEY_ID", None),
    "secret_key": env.str("AWS_SECRET_ACCESS_KEY", None),
    "region_name": env.str("AWS_S3_REGION_NAME", None),
    "signature_version": "s3v4",
    "querystring_auth": True,
    "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", 60),
    "default_acl": None,
    "file_overwrite": False,
    # Reading an object spills to a temporary file past this size, never a whole video in memory
    # (the bulk ZIP download reads videos this way).
    "max_memory_size": FILE_UPLOAD_MAX_MEMORY_SIZE,
}
STORAGES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}
        if AWS_STORAGE_BUCKET_NAME
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ---------------------------------------------------------------------------------------------
# Email: console by default; SMTP when EMAIL_HOST is set.
# ---------------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "Wan PWA <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env.str("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env.int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", True)

# ---------------------------------------------------------------------------------------------
# Notifications when a generation ends: endings this close together make one message. Web Push
# is off until both VAPID keys are set (base64url, e.g. from `vapid --gen --applicationServerKey`).
# ---------------------------------------------------------------------------------------------
NOTIFICATION_BATCH_SECONDS = env.int("NOTIFICATION_BATCH_SECONDS", 20)
# While more of the user's videos run, the message waits for them, but no longer than this.
NOTIFICATION_MAX_HOLD_SECONDS = env.int("NOTIFICATION_MAX_HOLD_SECONDS", 600)
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", "")
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_CONTACT = env.str("WEBPUSH_CONTACT", "mailto:admin@localhost")

# ---------------------------------------------------------------------------------------------
# Outbound requests to addresses users give us (wan_pwa/outbound.py). Host names listed here may
# resolve to private addresses and use plain http: tests and local development only (a local
# push service or webhook receiver); `check --deploy` refuses it.
# ---------------------------------------------------------------------------------------------
OUTBOUND_ALLOWED_PRIVATE_HOSTS: list[str] = env.names("OUTBOUND_ALLOWED_PRIVATE_HOSTS", "")

# ---------------------------------------------------------------------------------------------
# Webhooks we send to API users (wan_pwa/outgoing_webhooks): endpoints per account, how long the
# delivery log is kept, and how long an endpoint may fail every delivery before it is disabled
# (its owner gets an e-mail).
# ---------------------------------------------------------------------------------------------
WEBHOOK_ENDPOINTS_PER_USER = env.int(
    "WEBHOOK_ENDPOINTS_PER_USER", 10, validate=validate.Range(min=1)
)
WEBHOOK_DELIVERY_RETENTION_DAYS = env.int(
    "WEBHOOK_DELIVERY_RETENTION_DAYS", 30, validate=validate.Range(min=1)
)
WEBHOOK_DISABLE_AFTER_DAYS = env.float(
    "WEBHOOK_DISABLE_AFTER_DAYS", 5.0, validate=validate.Range(min=0, min_inclusive=False)
)

# ---------------------------------------------------------------------------------------------
# Security: HTTPS redirects, secure cookies and HSTS follow SITE_URL's scheme unless set
# explicitly.
# ---------------------------------------------------------------------------------------------
HTTPS = SITE_URL.startswith("https://")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", HTTPS)
# Probes (and Prometheus) often come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# ---------------------------------------------------------------------------------------------
# Replicate. Without a token, `make run` points REPLICATE_BASE_URL at the local simulator.
# ---------------------------------------------------------------------------------------------
REPLICATE_API_TOKEN = env.str("REPLICATE_API_TOKEN", "")
REPLICATE_BASE_URL = env.str("REPLICATE_BASE_URL", "https://api.replicate.com")
REPLICATE_WEBHOOK_SECRET = env.str("REPLICATE_WEBHOOK_SECRET", "")
# How long a webhook signing key fetched from Replicate is kept (REPLICATE_WEBHOOK_SECRET unset).
WEBHOOK_SECRET_CACHE_SECONDS = env.int("WEBHOOK_SECRET_CACHE_SECONDS", 86400)

# Generation lifecycle on Replicate (generations/lifecycle/: submission.py, watchdog.py,
# output.py): every delay in seconds. Submitting retries timeouts, 429 and 5xx with doubling
# delays (at least the Retry-After Replicate asks for, at most the maximum); the watchdog asks
# Replicate about a generation whose webhooks have not finished it, with doubling delays, up to a
# number of checks and an age past which the generation fails and is refunded.
REPLICATE_TIMEOUT = env.int("REPLICATE_TIMEOUT", 30)
SUBMIT_MAX_ATTEMPTS = env.int("SUBMIT_MAX_ATTEMPTS", 5)
SUBMIT_RETRY_DELAY = env.int("SUBMIT_RETRY_DELAY", 2)
SUBMIT_RETRY_MAX_DELAY = env.int("SUBMIT_RETRY_MAX_DELAY", 120)
SUBMIT_GRACE_PERIOD = env.int("SUBMIT_GRACE_PERIOD", 600)  # no prediction by then: fail, refund
WATCHDOG_FIRST_DELAY = env.int("WATCHDOG_FIRST_DELAY", 90)
WATCHDOG_MAX_DELAY = env.int("WATCHDOG_MAX_DELAY", 300)
WATCHDOG_MAX_ATTEMPTS = env.int("WATCHDOG_MAX_ATTEMPTS", 12)
GENERATION_MAX_AGE = env.int("GENERATION_MAX_AGE", 1800)
OUTPUT_MAX_BYTES = env.int("OUTPUT_MAX_BYTES", 200 * 1024 * 1024)
OUTPUT_COPY_MAX_ATTEMPTS = env.int("OUTPUT_COPY_MAX_ATTEMPTS", 5)
OUTPUT_COPY_RETRY_DELAY = env.int("OUTPUT_COPY_RETRY_DELAY", 5)
# Replicate's Cancel-After for every prediction, in seconds (at least 5); 0 takes each model's and
# resolution's deadline from the catalog (generations/catalog.py).
REPLICATE_CANCEL_AFTER = env.int("REPLICATE_CANCEL_AFTER", 0)

# Catalog models turned off (keys of generations/catalog.py, comma-separated), read at each
# request: a model whose schema moved on Replicate (manage.py check_models) or whose price is not
# checked is refused until it is taken off the list, with no new code deployed.
DISABLED_MODELS: list[str] = env.list("DISABLED_MODELS", [])

# Submission limits for the pages and the API (generations/limits.py): counters in the cache,
# shared by all workers.
API_SUBMISSIONS_PER_MINUTE = env.int("API_SUBMISSIONS_PER_MINUTE", 10)
API_SUBMISSION_RATE_WINDOW = env.int("API_SUBMISSION_RATE_WINDOW", 60)  # seconds
MAX_IN_FLIGHT_PER_USER = env.int("MAX_IN_FLIGHT_PER_USER", 3)
# Credits all users together may spend per day; 0 stops every submission.
DAILY_CREDIT_SPEND_CAP = env.int("DAILY_CREDIT_SPEND_CAP", 20000)

# Storage lifecycle (generations/retention.py), in days after a generation ended; 0 keeps forever.
# A deletion date is shown to the owner at least STORAGE_EXPIRY_NOTICE_DAYS before it comes.
INPUT_IMAGE_RETENTION_DAYS = env.int("INPUT_IMAGE_RETENTION_DAYS", 30)
# Audio tracks are inputs too: kept as long as images unless told otherwise.
INPUT_AUDIO_RETENTION_DAYS = env.int("INPUT_AUDIO_RETENTION_DAYS", INPUT_IMAGE_RETENTION_DAYS)
VIDEO_RETENTION_DAYS = env.int("VIDEO_RETENTION_DAYS", 0)
STORAGE_EXPIRY_NOTICE_DAYS = env.int("STORAGE_EXPIRY_NOTICE_DAYS", 7)
# Stored files no row points at are deleted once this old (younger ones may be mid-commit).
ORPHAN_FILE_GRACE_HOURS = env.int("ORPHAN_FILE_GRACE_HOURS", 24)

# ---------------------------------------------------------------------------------------------
# Billing: Stripe Checkout for credit packs. Without a key, `make run` points STRIPE_API_BASE at
# the local Stripe simulator; a key without a webhook secret fails the deploy check.
# ---------------------------------------------------------------------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", "https://api.stripe.com").rstrip("/")
BILLING_CURRENCY = env.str("BILLING_CURRENCY", "usd").lower()
# Orders a user may have awaiting payment at once (each an open Checkout Session at Stripe);
# buying a pack they already have open reuses that order's session instead.
MAX_OPEN_CHECKOUTS = env.int("MAX_OPEN_CHECKOUTS", 3)

# ---------------------------------------------------------------------------------------------
# API.
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "wan_pwa.api.openapi.DocumentedAutoSchema",
    # API keys first, so a missing credential answers 401 with WWW-Authenticate: Bearer.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wan_pwa.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each API view declares the scope a key needs (wan_pwa/api/scopes.py).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "wan_pwa.api.scopes.HasScope",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "wan_pwa.api.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wan PWA API",
    "DESCRIPTION": (
        "Generate short videos with the Wan models on Replicate, paid with credits.\n\n"
        "Authenticate with an API key from the Settings page: `Authorization: Bearer <key>`. "
        "Each operation names the scope a key needs (`generations:read`, `generations:write`, "
        "`credits:read`, `billing`); a key without it gets 403 `insufficient_scope`.\n\n"
        'Every error has the shape `{"error": {"code", "message", "request_id", "doc_url", '
        '"fields"}}`; every code is explained at [/api/docs/errors/](/api/docs/errors/). '
        "Every answer carries `X-Request-ID`; 429 and 503 carry `Retry-After`, and submissions "
        "`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,  # separate request bodies, so uploads are binary
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the operations a generation and a model have.
    "ENUM_NAME_OVERRIDES": {"OperationEnum": "generations.operations.Operation"},
}

# ---------------------------------------------------------------------------------------------
# Logging and monitoring. LOG_FORMAT=json: one JSON object per line with request, user and
# generation ids (wan_pwa/log_context.py); text: readable lines.
# ---------------------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", "text", validate=validate.OneOf(["text", "json"]))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "wan_pwa.log_context.LogContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "wan_pwa.log_context.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.log_level("LOG_LEVEL", logging.INFO)},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# /readyz fails when no worker has beaten for this long, or a ready task has waited this long.
READYZ_WORKER_SILENCE = env.int("READYZ_WORKER_SILENCE", 60)
READYZ_MAX_TASK_WAIT = env.int("READYZ_MAX_TASK_WAIT", 300)
# /metrics answers a Bearer METRICS_TOKEN or a client in METRICS_ALLOWED_IPS; neither set: 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS: list[str] = env.names("METRICS_ALLOWED_IPS", "")

# ---------------------------------------------------------------------------------------------
# Background work: task rows in the same database, run by `manage.py run_worker`
# (wan_pwa/background/). Each worker beats a heartbeat every interval; a task left RUNNING by a
# worker silent for WORKER_LEASE seconds, or still running after TASK_TIME_LIMIT_SECONDS, runs
# again, or fails once it has been lost TASK_MAX_CLAIMS times.
# ---------------------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
WORKER_HEARTBEAT_INTERVAL = env.float("WORKER_HEARTBEAT_INTERVAL", 5.0)
WORKER_LEASE = env.float("WORKER_LEASE", 30.0)
TASK_MAX_CLAIMS = env.int("TASK_MAX_CLAIMS", 3)
# A task still running after this many seconds is stopped and given back like a lost one (it
# counts as a claim); 0 lets tasks run as long as they like.
TASK_TIME_LIMIT_SECONDS = env.float(
    "TASK_TIME_LIMIT_SECONDS", 900.0, validate=validate.Range(min=0)
)
TASK_RESULT_RETENTION_DAYS = env.int("TASK_RESULT_RETENTION_DAYS", 7)
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", 30)
# In-flight generations unchanged for this long are checked with Replicate by the reconcile job.
RECONCILE_OLDER_THAN = env.int("RECONCILE_OLDER_THAN", 600)
# Orders still pending this long after checkout are checked with Stripe by the reconcile job.
ORDER_RECONCILE_AFTER = env.int("ORDER_RECONCILE_AFTER", 900)
# The dashboard's hourly counts older than this are pruned by the roll-ups (never fewer than the
# dashboard's 30 days). 400: a year and a month, so a month compares with the same one last year;
# at a few thousand rows a month that history stays small.
ANALYTICS_RETENTION_DAYS = env.int("ANALYTICS_RETENTION_DAYS", 400)

# Periodic jobs run in the workers once per period (seconds, aligned to the epoch); each app
# registers its own with a default period. PERIODIC_JOB_PERIODS overrides periods (0 turns a job
# off): "reconcile_generations=60,audit_credits=0"; `check` refuses a name no app registers (the
# apps register their jobs after the settings are read).


@env.parser_for("job_periods")
def _job_periods(value: str) -> dict[str, int]:
    periods = {}
    for item in _names(value):
        name, _, period = (part.strip() for part in item.partition("="))
        if not name or not period.isdigit():
            raise environs.ValidationError(f"{item!r} is not <job>=<seconds>.")
        periods[name] = int(period)
    return periods


PERIODIC_JOB_PERIODS: dict[str, int] = env.job_periods("PERIODIC_JOB_PERIODS", "")

# Every variable is read above; nothing else may read one through this parser later.
env.seal()
