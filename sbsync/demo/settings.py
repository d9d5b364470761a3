"""Settings of the demo site, read from the environment.

With nothing set it runs on SQLite and Huey-on-SQLite under ``.data/`` in the checkout. Production sets
DATABASE_URL (PostgreSQL), REDIS_URL (Huey and the cache), SECRET_KEY (or SECRET_KEY_FILE), DEBUG=0 and
ALLOWED_HOSTS. Bad values raise ImproperlyConfigured at start-up.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("SBSYNC_DATA_DIR", BASE_DIR / ".data"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def envsecret(name: str, default: str | None = None) -> str | None:
    """A secret from ``NAME``, or from the file named by ``NAME_FILE`` (Docker/Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from None
    return os.environ.get(name, default)


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    return default if raw is None else [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = envbool("DEBUG", True)
SECRET_KEY = envsecret("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")
    SECRET_KEY = "sbsync-demo-insecure-key-for-local-use-only"  # noqa: S105
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_htmx",
    "django_tables2",
    "django_filters",
    "simple_history",
    "huey.contrib.djhuey",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "sbsync",
    "sbsync.demo.shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so it turns a login refused by the lockout into a 429 (sbsync.lockout.lockout_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sbsync.demo.urls"
WSGI_APPLICATION = "sbsync.demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The app's templates live at the top of the checkout; a wheel ships them inside the package.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # Django 6 has {% partialdef %} and "template.html#partial" built in; Django 5.2 needs the
            # package (which on Django 6 only warns that it is deprecated).
            "builtins": ["template_partials.templatetags.partials"] if django.VERSION < (6, 0) else [],
        },
    }
]
if django.VERSION < (6, 0):
    INSTALLED_APPS.insert(INSTALLED_APPS.index("django_tables2"), "template_partials")

SQLITE_OPTIONS = {
    # IMMEDIATE: a write transaction takes SQLite's write lock at BEGIN, so concurrent requests queue
    # (up to the timeout) instead of failing with "database is locked" when a reader turns writer.
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASE_URL = os.environ.get("DATABASE_URL")
if DATABASE_URL:
    try:
        # Health checks: a persistent connection broken by a database restart is replaced at the start
        # of the next request instead of failing it, so service resumes by itself.
        DATABASES = {
            "default": dj_database_url.parse(
                DATABASE_URL, conn_max_age=envint("CONN_MAX_AGE", 60), conn_health_checks=True
            )
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from None
    # DATABASE_POOLER=transaction: behind PgBouncer (or another pooler) in transaction pooling mode, a
    # server-side cursor opened outside a transaction (Django's WITH HOLD cursors for .iterator()) would
    # live on a server connection the next transaction may not get: fetch results client-side instead.
    # sbsync itself takes only transaction-level advisory locks and no prepared statements.
    pooler = os.environ.get("DATABASE_POOLER", "")
    if pooler not in ("", "session", "transaction"):
        raise ImproperlyConfigured(f"DATABASE_POOLER must be session or transaction, not {pooler!r}")
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = pooler == "transaction"
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
            # Persistent, as on PostgreSQL: opening the file and running the PRAGMAs on every request
            # cost a sync request 7-14 % of its time.
            "CONN_MAX_AGE": envint("CONN_MAX_AGE", 60),
        }
    }

# Periodic tasks hold a lock while they run so a run never overlaps the previous one. A consumer killed
# mid-run leaves its lock behind (SQLite storage has no lock expiry), so the one consumer clears the
# locks when it starts. Run a single consumer per queue.
HUEY_CONSUMER = {"workers": envint("HUEY_WORKERS", 2), "worker_type": "thread", "flush_locks": True}
REDIS_URL = os.environ.get("REDIS_URL")
if REDIS_URL:
    # FailSoftRedisCache: with Redis down, requests go on without the cache (throttles off, configuration
    # read from the database) instead of failing; the timeouts keep an unreachable host from hanging them.
    CACHES = {
        "default": {
            "BACKEND": "sbsync.cache_backends.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "sbsync"),
        "url": REDIS_URL,
        "immediate": envbool("HUEY_IMMEDIATE", False),
        "consumer": HUEY_CONSUMER,
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "sbsync",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": envbool("HUEY_IMMEDIATE", False),
        "consumer": HUEY_CONSUMER,
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# One lockout policy for every login (the API's auth/token/, the staff UI's, the admin's), per account and
# per client address, counted in the cache (Redis when REDIS_URL is set, so shared by every worker):
# after AXES_FAILURE_LIMIT failed attempts no password is checked until AXES_COOLOFF_TIME has passed
# since the last attempt. See sbsync/lockout.py.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "sbsync.lockout_handler.AtomicCacheHandler"
AXES_LOCKOUT_CALLABLE = "sbsync.lockout.lockout_response"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "sbsync:login"
LOGIN_REDIRECT_URL = "sbsync:dashboard"


SBSYNC = {
    "SHARED_MODELS": ["shop.Product"],
    "LOG_DIR": str(DATA_DIR / "logs"),
    # Empty turns the per-token request throttle off (the benchmark's own server does).
    "REQUEST_THROTTLE_RATE": os.environ.get("REQUEST_THROTTLE_RATE", "600/min") or None,
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes announces itself at INFO on every start (commands included); its failures are WARNINGs.
        "axes": {"level": "WARNING"},
        # A handler here stops run_huey from adding its own, which would print every line twice.
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
