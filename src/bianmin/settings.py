"""Settings, read from the environment. Every setting of the platform, with its default and
meaning, is in the one table of bianmin/conf.py (docs/SETTINGS.md); the apps' own (``SETTING``
rows) are set at the end of this module from it."""

import os
import secrets
from pathlib import Path

import dj_database_url

from bianmin.conf import django_settings

BASE_DIR = Path(__file__).resolve().parent


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


VAR_DIR = Path(os.environ.get("BIANMIN_VAR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = _env_flag("BIANMIN_DEBUG")
HTTPS = _env_flag("BIANMIN_HTTPS")


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # A per-install key kept outside the repository, so that sessions survive restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "bianmin.core",
    "bianmin.accounts",
    "bianmin.regions",
    "bianmin.exports",
    "bianmin.catalog",
    "bianmin.cases",
    "bianmin.evaluations",
    "bianmin.followups",
    "bianmin.appeals",
    "bianmin.policies",
    "bianmin.figures",
    "bianmin.inspections",
    "bianmin.kiosks",
    "bianmin.engagement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (static files come precompressed); answers compressed by core.pagecache
    # pass through untouched.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Control characters leave queries and form bodies here, before anything reads them (core.text).
    "bianmin.core.text.ControlCharacterMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bianmin.accounts.middleware.InactivityTimeoutMiddleware",
    "bianmin.accounts.middleware.PasswordExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bianmin.urls"
WSGI_APPLICATION = "bianmin.wsgi.application"

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
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'bianmin.sqlite3'}"),
        conn_max_age=600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Server-grade SQLite: WAL lets readers run beside one writer; IMMEDIATE transactions take the
    # write lock at BEGIN, so concurrent writers queue on the busy timeout instead of failing
    # with "database is locked" when a read lock cannot be upgraded.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=30000;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-65536;"
            "PRAGMA mmap_size=268435456;"
            "PRAGMA temp_store=MEMORY;"
        ),
    }
    # Writers queue on a file lock before BEGIN (core/db/sqlite3/base.py): woken as soon as the
    # previous writer commits instead of sleeping in SQLite's busy handler.
    DATABASES["default"]["ENGINE"] = "bianmin.core.db.sqlite3"
    # A file, not memory: the concurrency tests need several connections to one database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Password log-in with lockout after repeated failures (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["bianmin.accounts.backends.LockoutBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "staff-home"
LOGOUT_REDIRECT_URL = "public-home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    # Django's own validators with Chinese messages (accounts/passwords.py).
    {"NAME": "bianmin.accounts.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "bianmin.accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "bianmin.accounts.passwords.CommonPasswordValidator"},
    {"NAME": "bianmin.accounts.passwords.CharacterClassValidator"},
    {"NAME": "bianmin.accounts.passwords.PublishedPasswordValidator"},
    {"NAME": "bianmin.accounts.passwords.PasswordHistoryValidator"},
]
# 等保 level 3: lockout after repeated failures, log-out on inactivity, periodic password change
# (BIANMIN_LOCKOUT_*, BIANMIN_IDLE_TIMEOUT_MINUTES, BIANMIN_PASSWORD_MAX_AGE_DAYS: bianmin/conf.py).

SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not HTTPS:
    # Plain HTTP on loopback or an intranet behind a TLS proxy that is not declared: the
    # checks for HTTPS-only settings do not apply. Declare BIANMIN_HTTPS=1 behind TLS.
    SILENCED_SYSTEM_CHECKS = ["security.W004", "security.W008", "security.W012", "security.W016"]

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static and uploads ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project-wide files (site.css …) outside any app
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "bianmin.core.staticfiles.StaticStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("BIANMIN_MAX_BODY_BYTES", 2 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- caches (rate limits are shared through the cache: the database unless Redis is set) -----
# "pages": public pages and API answers (core/pagecache.py), keyed by content versions kept in the
# database, so each server's own memory is enough to be correct; Redis lets servers share them.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]},
        "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"],
                  "KEY_PREFIX": "pages"},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "bianmin_cache"},
        # Entries are gzip-compressed (a guide page ≈ 6 KB): 3,000 stay under 30 MB per worker.
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bianmin-pages",
                  "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("BIANMIN_PAGE_CACHE_ENTRIES", 3000))}},
    }

# --- background work ------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("BIANMIN_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- outside systems ------------------------------------------------------------------------
# Each gateway is a dotted path to a class; the console backend writes to the log and var/outbox/.
BIANMIN_GATEWAYS = {
    "sms": os.environ.get("BIANMIN_SMS_GATEWAY", "bianmin.core.gateways.FileGateway"),
    "email": os.environ.get("BIANMIN_EMAIL_GATEWAY", "bianmin.core.gateways.FileGateway"),
    "notify": os.environ.get("BIANMIN_NOTIFY_GATEWAY", "bianmin.core.gateways.FileGateway"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BIANMIN_LOG_LEVEL", "WARNING")},
    "loggers": {"bianmin": {"level": os.environ.get("BIANMIN_LOG_LEVEL", "INFO")}},
}

# --- the apps' settings: each from its environment variable when set, else the table's default ---
globals().update(django_settings(os.environ))
