"""Settings for CRS Watch, read from the environment.

Secure by default: DEBUG is off unless the environment turns it on (the
development command ``./scripts/dev`` does), and a server with DEBUG off
refuses to start without its own SECRET_KEY (see ``patients/checks.py``).
With DEBUG off the production safety switches turn on and ALLOWED_HOSTS
must be given.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value in {"true", "1", "yes"}


def envint(name: str, default: str) -> int:
    return int(os.getenv(name, default))


DEBUG = envbool("DEBUG", "false")
# Public, in the repository: only ever used with DEBUG on. With DEBUG off a
# missing, empty or development key stops every server at start-up (the
# system check crs_watch.E001 and the WSGI/ASGI entry points), instead of
# starting and then failing every request.
DEV_SECRET_KEY = "dev-only-insecure-key-never-used-with-debug-off"
SECRET_KEY = os.getenv("SECRET_KEY", "").strip() or (DEV_SECRET_KEY if DEBUG else "")

ALLOWED_HOSTS = [
    h.strip() for h in os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_q",
    "patients",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the query string: NUL bytes are refused.
    "patients.middleware.HostileInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "patients.middleware.IdleTimeoutMiddleware",
    "patients.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crs_dashboard.urls"
WSGI_APPLICATION = "crs_dashboard.wsgi.application"

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
                "patients.context_processors.hospital_time",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", "60"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several nurses save at the top of the hour: wait for the write lock
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def release_fingerprint(base: Path = BASE_DIR) -> str:
    """Return a short hash of the templates and the code that renders them.

    Cached fragments are keyed on the data they show, not on how they are
    drawn: a new release whose templates or code differ gets new keys, so a
    shared cache never serves the previous release's markup (no manual
    CACHE_KEY_PREFIX change on deploy).
    """
    digest = hashlib.sha256()
    sources = [*(base / "templates").rglob("*.html"), *(base / "patients").rglob("*.py")]
    for path in sorted(p for p in sources if "tests" not in p.relative_to(base).parts):
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# Rendered fragments of the queue and patient page are cached here. Local
# memory by default (each process its own); several app servers share one
# Redis with CACHE_URL=redis://host:6379/0. KEY_PREFIX (by default the
# release's fingerprint) keeps one release's fragments from being served by
# the next one.
CACHE_URL = os.getenv("CACHE_URL", "")
CACHES = {
    "default": {
        "BACKEND": (
            "django.core.cache.backends.redis.RedisCache"
            if CACHE_URL.startswith(("redis://", "rediss://", "unix://"))
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": os.getenv("CACHE_KEY_PREFIX", "").strip() or release_fingerprint(),
    }
}
if CACHE_URL and CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    raise ValueError(f"CACHE_URL must be a redis:// address, not {CACHE_URL!r}")
if not CACHE_URL:
    # The patient page keeps its flag and escalation fragments per browser
    # session: Django's default of 300 entries would evict a busy ward's
    # pages within minutes. A fragment is a few kilobytes.
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": 5000}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, its users' permissions kept in the cache.
    "patients.access.CachedPermissionsBackend",
    # Sessions begun before the cached backend keep working (the cached one
    # answers first; this one reuses the set it read).
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "patients.security.CharacterVarietyValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "queue"
LOGOUT_REDIRECT_URL = "login"

# How many reverse proxies (load balancer, TLS terminator) the hospital
# runs in front of the app servers. 0: clients connect directly and the
# connecting address is the client's. N: the client is the address the
# outermost of the N proxies saw, read from X-Forwarded-For counting from
# the right, so addresses a client writes into the header itself are never
# believed. Lockout and the audit trail both use this address.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")

# Repeated failed logins lock the account (see patients/security.py):
# - per user name and client address, after LOGIN_FAILURE_LIMIT failures;
# - per user name across all addresses, after the same number, so changing
#   addresses buys no extra guesses. That per-account ceiling does not
#   apply from an address where the user has signed in successfully in the
#   last LOGIN_KNOWN_ADDRESS_DAYS days, so an attacker elsewhere cannot keep
#   the real user out of their usual ward PC; only that address's own
#   failures lock it. An administrator can unlock an account at any time.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", "15"))
AXES_LOCKOUT_PARAMETERS = "patients.security.lockout_parameters"
AXES_CLIENT_IP_CALLABLE = "patients.security.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
LOGIN_KNOWN_ADDRESS_DAYS = envint("LOGIN_KNOWN_ADDRESS_DAYS", "30")

# Sessions end after this long without user activity (queue polling does
# not count; see patients/middleware.py), and after a shift at most.
SESSION_IDLE_SECONDS = envint("SESSION_IDLE_MINUTES", "15") * 60
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.getenv("HOSPITAL_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Scripts only from this origin and never inline: htmx is configured (in
# base.html) not to inject its indicator styles, so it needs nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
# Load balancers probe health over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000")
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}

# Outgoing e-mail (escalation notifications) through the hospital's relay.
EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "10")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "crs-watch@localhost")

# Background jobs (escalation notifications, cascade timers, overdue scan):
# django-q2 with the database as its queue, so the embedded SQLite default
# needs no other server and several workers on PostgreSQL share one queue.
Q_CLUSTER = {
    "name": "crswatch",
    "orm": "default",
    "workers": envint("WORKER_PROCESSES", "2"),
    "timeout": 60,
    # A task not acknowledged within this many seconds is handed out again;
    # the jobs themselves are safe to repeat.
    "retry": 120,
    "max_attempts": 3,
    "poll": 1,
    "catch_up": False,
    "save_limit": 500,
    "ack_failures": True,
    "label": "Background jobs",
}

# Clinical settings the hospital may tune; each documented in the README.
CRS_WATCH = {
    # Source article: symptoms lasting "more than a few days" need a doctor.
    "PERSISTENCE_HOURS": envint("PERSISTENCE_HOURS", "72"),
    # How often the review queue refreshes itself in the browser.
    "QUEUE_REFRESH_SECONDS": envint("QUEUE_REFRESH_SECONDS", "30"),
    # A flag whose condition has been absent this long resolves itself.
    "FLAG_AUTO_RESOLVE_HOURS": envint("FLAG_AUTO_RESOLVE_HOURS", "24"),
    # Whose product labels set monitoring plans when a patient has none set
    # (REFERENCE k8): US, EU or GB.
    "LABEL_JURISDICTION": os.getenv("LABEL_JURISDICTION", "US"),
    # Local rule (derived): consecutive ferritin rises after CRS settled
    # that prompt "consider IEC-HS / HLH evaluation" (REFERENCE k9).
    "IEC_HS_FERRITIN_RISES": envint("IEC_HS_FERRITIN_RISES", "2"),
    # Local policy (DERIVED): a CRS episode ends at the first round free of
    # fever, hypotension and hypoxia not followed by CRS within this long.
    "CRS_EPISODE_CLEAR_HOURS": envint("CRS_EPISODE_CLEAR_HOURS", "72"),
    # ICE assessment interval: ASCO 2021 "at least twice daily" (12 h);
    # ASH-SAP Table 2 says every 8 hours.
    "ICE_INTERVAL_HOURS": envint("ICE_INTERVAL_HOURS", "12"),
    # FHIR: the hospital's MRN identifier system (Patient.identifier.system).
    "FHIR_MRN_SYSTEM": os.getenv("FHIR_MRN_SYSTEM", "urn:crswatch:mrn"),
    # FHIR ingest: Observations of one patient this close in time (minutes)
    # form one round, as a nurse's round spans a few minutes.
    "FHIR_ROUND_WINDOW_MINUTES": envint("FHIR_ROUND_WINDOW_MINUTES", "10"),
    # Links in notifications point here.
    "BASE_URL": os.getenv("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
    # Failed notifications are tried again after 1, 2, 4, ... minutes.
    "NOTIFY_MAX_ATTEMPTS": envint("NOTIFY_MAX_ATTEMPTS", "6"),
    "NOTIFY_RETRY_SECONDS": envint("NOTIFY_RETRY_SECONDS", "60"),
    # The laboratory's upper limits of normal, e.g. "alt_u_l=40,ast_u_l=40".
    # Without them, labs are graded against the patient's baseline only.
    "LAB_UPPER_LIMITS": {
        name.strip(): float(value)
        for name, _, value in (
            item.partition("=") for item in os.getenv("LAB_ULN", "").split(",") if item.strip()
        )
    },
}
