"""Settings for every way abonent runs, read from environment variables.

The embedded default (nothing set) runs on SQLite under ``var/`` with jobs in-process and
messages in the outbox. ``ABONENT_ENV=production`` turns on the hardened profile, which
passes ``manage.py check --deploy`` with no warnings.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from abonent.config.env import env_bool, env_int, env_list, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent  # src/abonent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(env_str("ABONENT_VAR_DIR", str(PROJECT_DIR / "var")))

ABONENT_ENV = env_str("ABONENT_ENV", "development")
if ABONENT_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"ABONENT_ENV={ABONENT_ENV!r}: expected development, test or production")
PRODUCTION = ABONENT_ENV == "production"

SECRET_KEY = secret_key(var_dir=VAR_DIR, production=PRODUCTION)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when ABONENT_ENV=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when ABONENT_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The reverse proxies in front of the app servers (CIDR, e.g. 10.0.0.5/32,127.0.0.1/32): the
# client's address of their requests is read from X-Forwarded-For (abonent.core.proxy).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
try:
    for _cidr in TRUSTED_PROXIES:
        ipaddress.ip_network(_cidr, strict=False)
except ValueError as _exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_exc}; expected networks such as 10.0.0.5/32") from None
# Old keys still accepted for sessions, password-reset links and signed values while a new
# SECRET_KEY goes out (rotation: deploy/README.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "abonent.cli",  # before whitenoise and staticfiles: its runserver also runs the embedded beat
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_prometheus",
    "ninja",
    "abonent.core",
    "abonent.notifications",
    "abonent.identity",
    "abonent.customers",
    "abonent.metering",
    "abonent.ledger",
    "abonent.billing",
    "abonent.payments",
    "abonent.documents",
    "abonent.appeals",
    "abonent.reminders",
    "abonent.web",
    "abonent.backoffice",
]

MIDDLEWARE = [
    "abonent.core.proxy.ForwardedForMiddleware",  # the client's address behind TRUSTED_PROXIES
    "abonent.core.observability.RequestIdMiddleware",  # first: its access line covers the whole request
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "abonent.web.middleware.AuthSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "abonent.api.middleware.ProblemJsonMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "abonent.config.urls"
WSGI_APPLICATION = "abonent.config.wsgi.application"
ASGI_APPLICATION = "abonent.config.asgi.application"

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
                "django.template.context_processors.i18n",
                "abonent.web.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'abonent.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    if _db["NAME"] not in {":memory:", ""}:
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {})
else:
    raise ImproperlyConfigured(f"DATABASE_URL: only sqlite:// and postgres:// are supported, not {_db['ENGINE']}")
_db["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs ------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL  # the embedded default runs jobs in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# A worker that loses the broker stops the jobs it is running: they are not acknowledged yet
# (acks late), so the broker gives them out again and they run once more, from the start.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the LOGGING below formats the workers' lines too
CELERY_WORKER_SEND_TASK_EVENTS = False
# A job taken by a worker that then vanished (killed, its machine lost) goes back to the queue
# when it has not been acknowledged for this long. Longer than the longest job: a job still
# running past it would be given to a second worker as well (the jobs are idempotent, so it
# costs time, not correctness).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # look for such jobs every 10 s (kombu's default looks every 100 s)
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
    "health_check_interval": 30,
}
# Sending a job waits up to about 5 s for the broker to come back (a Redis restart).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 10, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# Queues per kind of work, so a month's billing or bills cannot hold up a payment's message:
# a worker is started for some of them (celery worker -Q billing,bills) or for all.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "abonent.billing.tasks.*": {"queue": "billing"},
    "abonent.documents.tasks.bills_*": {"queue": "bills"},
    "abonent.notifications.tasks.*": {"queue": "notifications"},
    "abonent.reminders.tasks.*": {"queue": "notifications"},
}
CELERY_BEAT_SCHEDULE = {
    # The delivery log: attempt again the e-mails and SMS whose retry is due.
    "deliveries-retry-due": {"task": "abonent.notifications.tasks.deliveries_retry_due", "schedule": 60.0},
    # Payments still pending after PAYMENT_RECONCILE_AFTER minutes: asked from the gateway.
    "payments-reconcile": {"task": "abonent.payments.tasks.payments_reconcile_task", "schedule": 300.0},
    # The day's reminders: each supplier once a local day, in its sending hours (every hour
    # at :05 finds the suppliers whose 10:00 has come).
    "reminders-run-due": {"task": "abonent.reminders.tasks.reminders_run_due", "schedule": crontab(minute=5)},
    # Billing and bill runs whose lease ran out with chunks not done: taken over by a new run.
    "billing-runs-resume": {"task": "abonent.billing.tasks.billing_runs_resume_task", "schedule": 60.0},
    "bills-runs-resume": {"task": "abonent.documents.tasks.bills_runs_resume_task", "schedule": 60.0},
}
# Without a broker (the embedded default) `abonent runserver` runs the schedule above in a
# thread of its own process; off, nothing periodic runs there.
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", not PRODUCTION)

# --- Shared cache -----------------------------------------------------------------------
# REDIS_URL (redis://host:6379/1) gives every app server one cache, and sessions kept in the
# database are read through it. Without it each process has a cache of its own, which is
# right for one process (the embedded default). Redis being away is a cache miss, not an
# error: sessions are still read from the database.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r}: expected a redis://, rediss:// or unix:// address")
CACHES = {
    "default": {
        "BACKEND": "abonent.core.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "abonent",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "retry_on_timeout": False},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"

# --- Auth and sessions ----------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
PASSWORD_HASHERS = [
    "abonent.identity.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"  # the account to start with, the list, or the link assistant
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6.0's default, adopted now
SESSION_COOKIE_AGE = 12 * 60 * 60  # 12 hours absolute
PASSWORD_RESET_TIMEOUT = 60 * 60  # an e-mailed recovery link works for 1 hour (identity.policy)
CSRF_FAILURE_VIEW = "abonent.config.handlers.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"  # for the back office; every supplier has its own zone
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # served from the apps' folders; the root only has to exist
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Messages: e-mail and SMS ---------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 15)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "abonent <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "abonent.notifications.providers.outbox.EmailBackend"
)
# Every message goes through the delivery log (notifications.Delivery) and is retried there.
SMS_PROVIDER = env_str("SMS_PROVIDER", "outbox")
if SMS_PROVIDER not in {"outbox", "smsru"}:
    raise ImproperlyConfigured(f"SMS_PROVIDER={SMS_PROVIDER!r}: expected outbox or smsru")
SMSRU_URL = env_str("SMSRU_URL", "https://sms.ru")
SMSRU_API_ID = env_str("SMSRU_API_ID")
SMSRU_FROM = env_str("SMSRU_FROM")  # a sender name approved by SMS.ru; empty: the account's default
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10)  # seconds to wait for the SMS provider's answer
if SMS_PROVIDER == "smsru" and not SMSRU_API_ID:
    raise ImproperlyConfigured(
        "SMS_PROVIDER=smsru needs SMSRU_API_ID: the api_id from the SMS.ru account (Настройки → API)"
    )
if not SMSRU_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"SMSRU_URL={SMSRU_URL!r}: expected an http:// or https:// address")
if SMS_TIMEOUT < 1:
    raise ImproperlyConfigured(f"SMS_TIMEOUT={SMS_TIMEOUT}: expected at least 1 second")
# Push notifications to the mobile apps: outbox (the embedded default: kept, not sent) or
# fcm (Firebase Cloud Messaging HTTP v1 with the project's service account key file).
PUSH_PROVIDER = env_str("PUSH_PROVIDER", "outbox")
if PUSH_PROVIDER not in {"outbox", "fcm"}:
    raise ImproperlyConfigured(f"PUSH_PROVIDER={PUSH_PROVIDER!r}: expected outbox or fcm")
FCM_CREDENTIALS = env_str("FCM_CREDENTIALS")  # path to the service account's JSON key
FCM_API_URL = env_str("FCM_API_URL", "https://fcm.googleapis.com")
PUSH_TIMEOUT = env_int("PUSH_TIMEOUT", 10)
if PUSH_PROVIDER == "fcm" and not FCM_CREDENTIALS:
    raise ImproperlyConfigured(
        "PUSH_PROVIDER=fcm needs FCM_CREDENTIALS: the path to the Firebase service account's JSON key"
    )
# The portal's address as messages give it to subscribers.
PORTAL_URL = env_str("PORTAL_URL", "http://127.0.0.1:8000/")
# The outbox page of the demo (messages that were "sent") is shown only where it is on.
DEMO_OUTBOX_PAGE = env_bool("DEMO_OUTBOX_PAGE", not PRODUCTION)

# --- Payments ---------------------------------------------------------------------------
# sandbox: the built-in gateway (its own payment page); yookassa: the YooKassa API v3, a shop
# per supplier: YOOKASSA_SHOPS="stolgaz=<shop id>:<secret key>,yantargaz=<shop id>:<secret key>"
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "sandbox")
if PAYMENT_GATEWAY not in {"sandbox", "yookassa"}:
    raise ImproperlyConfigured(f"PAYMENT_GATEWAY={PAYMENT_GATEWAY!r}: expected sandbox or yookassa")
PAYMENT_MAX_AMOUNT = env_str("PAYMENT_MAX_AMOUNT", "500000.00")  # rubles, one payment
PAYMENT_RECONCILE_AFTER = env_int("PAYMENT_RECONCILE_AFTER", 15)  # minutes a payment may stay pending unasked
PAYMENT_HTTP_TIMEOUT = env_int("PAYMENT_HTTP_TIMEOUT", 15)
# the receipt's VAT code as the gateway numbers it (YooKassa: 1 without VAT … 4 20 %, 11 22 %)
PAYMENT_RECEIPT_VAT_CODE = env_int("PAYMENT_RECEIPT_VAT_CODE", 1)
# bank registries: formats besides the built-in "default", as JSON (see payments/registry_format.py):
# {"agent": {"columns": ["reference", "date", "account", "", "amount"], "delimiter": ",", "channel": "agent"}}
PAYMENT_REGISTRY_PROFILES = env_str("PAYMENT_REGISTRY_PROFILES")
PAYMENT_REGISTRY_MAX_MB = env_int("PAYMENT_REGISTRY_MAX_MB", 256)
YOOKASSA_API_URL = env_str("YOOKASSA_API_URL", "https://api.yookassa.ru/v3")
YOOKASSA_SHOPS = env_list("YOOKASSA_SHOPS", [])
# where notifications may come from (YooKassa publishes its addresses); the sandbox's own
# notifications come from this server
YOOKASSA_NOTIFY_NETWORKS = env_list(
    "YOOKASSA_NOTIFY_NETWORKS",
    ["185.71.76.0/27", "185.71.77.0/27", "77.75.153.0/25", "77.75.156.11/32", "77.75.156.35/32",
     "77.75.154.128/25", "2a02:5180::/32"],
)  # fmt: skip
SANDBOX_NOTIFY_NETWORKS = env_list("SANDBOX_NOTIFY_NETWORKS", ["127.0.0.0/8", "::1/128"])
# the sandbox posts its notifications here (the API's endpoint of this server); empty: it
# hands them to the same service in-process, as the embedded default does
SANDBOX_NOTIFY_URL = env_str("SANDBOX_NOTIFY_URL")
if PAYMENT_GATEWAY == "yookassa" and not YOOKASSA_SHOPS:
    raise ImproperlyConfigured("PAYMENT_GATEWAY=yookassa needs YOOKASSA_SHOPS: supplier=shop_id:secret_key, …")
if PRODUCTION and PAYMENT_GATEWAY == "sandbox":
    raise ImproperlyConfigured("PAYMENT_GATEWAY=sandbox takes no real money: set yookassa when ABONENT_ENV=production")

# --- Personal account PINs ------------------------------------------------------------
# PINs are short; they are stored as a keyed hash so a copy of the database alone does not
# give them away. Changing the key invalidates every stored PIN.
PIN_HASH_KEY = env_str("PIN_HASH_KEY") or SECRET_KEY

# --- Security -------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
    },
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_HTTPONLY = True
    LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Logging --------------------------------------------------------------------------
# LOG_FORMAT: plain (a readable line; the default) or json (one JSON object a line with the
# request id, the job, the process role (APP_SERVER or the worker's name) and the fields given
# in extra=; the default when ABONENT_ENV=production). Each request is logged once on
# "abonent.request" (/healthz and /metrics at DEBUG only).
# WORKER_METRICS_PORT: a Celery worker serves its Prometheus metrics on this port ([address:]port,
# all interfaces without an address); with PROMETHEUS_MULTIPROC_DIR (a directory of its own per
# worker, emptied before it starts) the processes of its pool are summed. Empty: not served.
LOG_FORMAT = env_str("LOG_FORMAT") or ("json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected plain or json")
WORKER_METRICS_PORT = env_str("WORKER_METRICS_PORT").strip()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "abonent.core.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pikepdf": {"level": "WARNING"},  # it says at INFO that it was imported, in every process that loads the URLs
    },
}

PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Login with Госуслуги (ЕСИА) ------------------------------------------------------
# "Войти через Госуслуги" (abonent.identity.oidc, abonent.identity.external): the OpenID
# Connect authorization code flow with PKCE, state and nonce. Off unless ESIA_ENABLED. It
# works with ЕСИА (ESIA_PROTOCOL=esia: ЕСИА's extra parameters, a ГОСТ-signed client_secret
# made by an outside signing service; the differences are listed in the docstring of
# abonent.identity.oidc) and with any standards-compliant OpenID provider (ESIA_PROTOCOL=oidc,
# as in the tests).
#   ESIA_ISSUER             the provider's issuer, exactly as its ID tokens name it in "iss"; its
#                           discovery document is read unless the three endpoints below are set
#   ESIA_DISCOVERY_URL      the discovery document, when not at <issuer>/.well-known/openid-configuration
#   ESIA_AUTHORIZATION_URL  explicit endpoints, winning over discovered ones. ЕСИА has no
#   ESIA_TOKEN_URL          discovery: https://esia.gosuslugi.ru/aas/oauth2/v3/ac and …/v3/te,
#   ESIA_JWKS_URL           the JWKS of its signing key, and its REST API for the person's data
#   ESIA_USERINFO_URL       (https://esia.gosuslugi.ru/rs/prns)
#   ESIA_USE_USERINFO       read the userinfo (ЕСИА: the REST API) after the ID token; default on
#   ESIA_CLIENT_ID          the client id (ЕСИА: the mnemonic of the registered system)
#   ESIA_REDIRECT_URI       the portal's callback, absolute: https://lk.example.ru/auth/esia/callback/
#   ESIA_APP_REDIRECT_URIS  comma-separated return addresses of the mobile apps (API flow)
#   ESIA_SCOPES             space-separated; default "openid profile email phone" (oidc),
#                           "openid fullname mobile email" (esia)
#   ESIA_TOKEN_AUTH_METHOD  client_secret_post (default) or client_secret_basic
#   ESIA_SIGNER             who makes client_secret: static (ESIA_CLIENT_SECRET, the default for
#                           oidc) or external (the signing service, the default for esia)
#   ESIA_CLIENT_SECRET      the secret for the static signer
#   ESIA_SIGNER_URL         the signing service: POST {"data": base64} → {"signature": base64}
#                           (contract in abonent.identity.oidc.signers)
#   ESIA_SIGNER_AUTHORIZATION  the Authorization header sent to it, e.g. "Bearer …"
#   ESIA_SIGNED_FIELDS      what is signed, in order; default scope,timestamp,client_id,state
#   ESIA_CERTIFICATE_HASH   client_certificate_hash for ЕСИА's v3 endpoints
#   ESIA_ID_TOKEN_ALGORITHMS  comma-separated signature algorithms accepted; default RS256,ES256
#   ESIA_CLOCK_LEEWAY       seconds of clock difference allowed on the ID token's times; 60
#   ESIA_HTTP_TIMEOUT       seconds to wait for the provider and the signing service; 10
#   ESIA_CA_FILE            a CA bundle for them (e.g. with the Russian Trusted Root CA)
ESIA_ENABLED = env_bool("ESIA_ENABLED", False)
ESIA_PROTOCOL = env_str("ESIA_PROTOCOL", "oidc")
ESIA_ISSUER = env_str("ESIA_ISSUER")
ESIA_DISCOVERY_URL = env_str("ESIA_DISCOVERY_URL")
ESIA_AUTHORIZATION_URL = env_str("ESIA_AUTHORIZATION_URL")
ESIA_TOKEN_URL = env_str("ESIA_TOKEN_URL")
ESIA_JWKS_URL = env_str("ESIA_JWKS_URL")
ESIA_USERINFO_URL = env_str("ESIA_USERINFO_URL")
ESIA_USE_USERINFO = env_bool("ESIA_USE_USERINFO", True)
ESIA_CLIENT_ID = env_str("ESIA_CLIENT_ID")
ESIA_REDIRECT_URI = env_str("ESIA_REDIRECT_URI")
ESIA_APP_REDIRECT_URIS = env_list("ESIA_APP_REDIRECT_URIS", [])
ESIA_SCOPES = env_str(
    "ESIA_SCOPES", "openid fullname mobile email" if ESIA_PROTOCOL == "esia" else "openid profile email phone"
).split()
ESIA_TOKEN_AUTH_METHOD = env_str("ESIA_TOKEN_AUTH_METHOD", "client_secret_post")
ESIA_SIGNER = env_str("ESIA_SIGNER", "external" if ESIA_PROTOCOL == "esia" else "static")
ESIA_CLIENT_SECRET = env_str("ESIA_CLIENT_SECRET")
ESIA_SIGNER_URL = env_str("ESIA_SIGNER_URL")
ESIA_SIGNER_AUTHORIZATION = env_str("ESIA_SIGNER_AUTHORIZATION")
ESIA_SIGNED_FIELDS = env_list("ESIA_SIGNED_FIELDS", ["scope", "timestamp", "client_id", "state"])
ESIA_CERTIFICATE_HASH = env_str("ESIA_CERTIFICATE_HASH")
ESIA_ID_TOKEN_ALGORITHMS = env_list("ESIA_ID_TOKEN_ALGORITHMS", ["RS256", "ES256"])
ESIA_CLOCK_LEEWAY = env_int("ESIA_CLOCK_LEEWAY", 60)
ESIA_HTTP_TIMEOUT = env_int("ESIA_HTTP_TIMEOUT", 10)
ESIA_CA_FILE = env_str("ESIA_CA_FILE")
_ESIA_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
_ESIA_URLS = ["ESIA_DISCOVERY_URL", "ESIA_AUTHORIZATION_URL", "ESIA_TOKEN_URL", "ESIA_JWKS_URL"]
_ESIA_URLS += ["ESIA_USERINFO_URL", "ESIA_REDIRECT_URI", "ESIA_SIGNER_URL"]
if not ((ESIA_AUTHORIZATION_URL and ESIA_TOKEN_URL and ESIA_JWKS_URL) or ESIA_DISCOVERY_URL):
    _ESIA_URLS.append("ESIA_ISSUER")  # discovery is read from it
if ESIA_ENABLED:
    _esia_problems = []
    if ESIA_PROTOCOL not in {"oidc", "esia"}:
        _esia_problems.append(f"ESIA_PROTOCOL={ESIA_PROTOCOL!r}: expected oidc or esia")
    if not ESIA_CLIENT_ID:
        _esia_problems.append("ESIA_CLIENT_ID is required")
    if not ESIA_REDIRECT_URI:
        _esia_problems.append("ESIA_REDIRECT_URI is required: the absolute address of /auth/esia/callback/")
    if not (ESIA_ISSUER or ESIA_DISCOVERY_URL):
        _esia_problems.append("ESIA_ISSUER is required: the issuer its ID tokens name (and where discovery is read)")
    if ESIA_TOKEN_AUTH_METHOD not in {"client_secret_post", "client_secret_basic"}:
        _esia_problems.append(f"ESIA_TOKEN_AUTH_METHOD={ESIA_TOKEN_AUTH_METHOD!r}: expected client_secret_post/basic")
    if ESIA_SIGNER == "static" and not ESIA_CLIENT_SECRET:
        _esia_problems.append("ESIA_SIGNER=static needs ESIA_CLIENT_SECRET")
    elif ESIA_SIGNER == "external" and not ESIA_SIGNER_URL:
        _esia_problems.append("ESIA_SIGNER=external needs ESIA_SIGNER_URL: the address of the signing service")
    elif ESIA_SIGNER not in {"static", "external"}:
        _esia_problems.append(f"ESIA_SIGNER={ESIA_SIGNER!r}: expected static or external")
    if not ESIA_SIGNED_FIELDS or set(ESIA_SIGNED_FIELDS) - {"client_id", "scope", "timestamp", "state", "redirect_uri"}:
        _esia_problems.append("ESIA_SIGNED_FIELDS: some of client_id, scope, timestamp, state, redirect_uri")
    if not ESIA_ID_TOKEN_ALGORITHMS or set(ESIA_ID_TOKEN_ALGORITHMS) - _ESIA_ALGORITHMS:
        _esia_problems.append("ESIA_ID_TOKEN_ALGORITHMS: RSA or ECDSA algorithms only (RS256, PS256, ES256, …)")
    if not 0 <= ESIA_CLOCK_LEEWAY <= 300:
        _esia_problems.append(f"ESIA_CLOCK_LEEWAY={ESIA_CLOCK_LEEWAY}: expected 0 to 300 seconds")
    if ESIA_HTTP_TIMEOUT < 1:
        _esia_problems.append(f"ESIA_HTTP_TIMEOUT={ESIA_HTTP_TIMEOUT}: expected at least 1 second")
    if PRODUCTION:
        _esia_problems += [
            f"{name} must be an https:// address when ABONENT_ENV=production"
            for name in _ESIA_URLS
            if globals()[name] and not globals()[name].startswith("https://")
        ]
    if _esia_problems:
        raise ImproperlyConfigured("Login with Госуслуги (ESIA_ENABLED): " + "; ".join(_esia_problems))
