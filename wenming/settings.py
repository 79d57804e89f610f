"""One settings module, driven by environment variables (see README)."""

import json
import os
import secrets
import sys
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WENMING_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _kept_secret(name: str, filename: str, make) -> str:
    """A secret from the environment, or one generated once and kept under var/."""
    value = os.environ.get(name)
    if value:
        return value
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
        if "pytest" not in sys.modules:
            warnings.warn(
                f"\n*** {name} 未设置：已生成并保存在 {path}。生产环境请通过环境变量提供，并妥善备份。***\n"
                f"*** {name} is not set: generated one in {path}. Set it from the environment in production. ***",
                stacklevel=1,
            )
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
SECRET_KEY = _kept_secret("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Key for personal-data encryption (AES-GCM) and blind indexes; losing it loses the data.
WENMING_DATA_KEY = _kept_secret("WENMING_DATA_KEY", "data.key", lambda: secrets.token_urlsafe(32))
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "treebeard",
    "axes",
    "ninja",
    "wenming.core",
    "wenming.org",
    "wenming.people",
    "wenming.ledger",
    "wenming.activities",
    "wenming.notices",
    "wenming.needs",
    "wenming.publicity",
    "wenming.stats",
    "wenming.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "wenming.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "wenming.core.middleware.IdleSessionMiddleware",
    "wenming.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wenming.core.middleware.RequestContextMiddleware",
    "wenming.core.middleware.RefuseNulMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wenming.urls"
WSGI_APPLICATION = "wenming.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "wenming" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wenming.core.context.navigation",
            ],
        },
    },
]

# --- Database: SQLite (WAL) under var/ by default, PostgreSQL via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'wenming.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
        "PRAGMA cache_size=-32000;",
        "transaction_mode": "IMMEDIATE",
    }
elif "pytest" in sys.modules:
    # One test database per run, so that parallel runs on one server never drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

# --- Passwords and log-in (等保 baseline).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "wenming.core.passwords.CharacterClassValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends 30 minutes after the 5th failure
AXES_LOCKOUT_CALLABLE = "wenming.core.views.locked_out"
AXES_VERBOSE = False
# Lock the account, not the address: a township office shares one NAT address,
# and SPEC asks for lock-out per account after 5 failures.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"
SESSION_COOKIE_AGE = 30 * 60  # idle sessions end after 30 minutes
SESSION_SAVE_EVERY_REQUEST = False  # core.middleware.IdleSessionMiddleware pushes the expiry, once a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Security headers; secure cookies and HSTS when served over HTTPS.
HTTPS = env_bool("WENMING_HTTPS", not DEBUG and env_bool("WENMING_BEHIND_HTTPS"))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("WENMING_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

# --- Language and time.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "wenming" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files, served by WhiteNoise (no CDN, no separate web server).
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on a missing root before the first collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
WENMING_IMPORT_MAX_BYTES = int(os.environ.get("WENMING_IMPORT_MAX_BYTES", 50 * 1024 * 1024))

# --- Jobs: Celery on Redis when REDIS_URL is set, inline otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "expire-open-checkins": {"task": "activities.expire_open_checkins", "schedule": 300.0},
    "needs-sweep": {"task": "needs.sweep", "schedule": 60.0},
    "stats-tick": {"task": "stats.tick", "schedule": 60.0},
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- Domain settings.
WENMING_DISTRICT_CODE = os.environ.get("WENMING_DISTRICT_CODE", "430502")
WENMING_AUDIT_RETENTION_DAYS = 180
# Check-in: opens this long before the start; check-out closes this long after the end,
# after which an open check-in waits for the organiser's decision. The QR token changes
# every WENMING_CHECKIN_TOKEN_SECONDS (the current and the previous one are accepted).
WENMING_CHECKIN_OPENS_MINUTES = int(os.environ.get("WENMING_CHECKIN_OPENS_MINUTES", 30))
WENMING_CHECKOUT_GRACE_MINUTES = int(os.environ.get("WENMING_CHECKOUT_GRACE_MINUTES", 60))
WENMING_CHECKIN_TOKEN_SECONDS = 30
# "Not too much of a good thing": publishing warns when a served target already has more
# than this many activities that day / that week.
WENMING_OVERSERVE_PER_DAY = int(os.environ.get("WENMING_OVERSERVE_PER_DAY", 1))
WENMING_OVERSERVE_PER_WEEK = int(os.environ.get("WENMING_OVERSERVE_PER_WEEK", 3))
# The need loop's deadlines: review and dispatch at the handling node, accept by the party it is
# dispatched to (hours); finish when no wished-for time was given, and rating before it closes
# by itself as unrated (days).
WENMING_NEED_REVIEW_HOURS = int(os.environ.get("WENMING_NEED_REVIEW_HOURS", 24))
WENMING_NEED_DISPATCH_HOURS = int(os.environ.get("WENMING_NEED_DISPATCH_HOURS", 24))
WENMING_NEED_ACCEPT_HOURS = int(os.environ.get("WENMING_NEED_ACCEPT_HOURS", 12))
WENMING_NEED_FINISH_DAYS = int(os.environ.get("WENMING_NEED_FINISH_DAYS", 7))
WENMING_NEED_RATING_DAYS = int(os.environ.get("WENMING_NEED_RATING_DAYS", 7))
# Dispatch candidates: weights of the factors (a JSON object; missing keys keep the defaults skill .35,
# distance .25, load .15, rating .15, availability .10) and the lunar holidays' dates (ISO, comma list;
# 元旦, 劳动节 and 国庆 are built in) counted as 节假日 for availability.
WENMING_CANDIDATE_WEIGHTS = json.loads(os.environ.get("WENMING_CANDIDATE_WEIGHTS") or "{}")
WENMING_HOLIDAYS = [d for d in os.environ.get("WENMING_HOLIDAYS", "").split(",") if d]
# An approved wish waits on the wall this long for a team to claim it before it counts as overdue.
WENMING_NEED_WISH_DAYS = int(os.environ.get("WENMING_NEED_WISH_DAYS", 14))
# Public intake (no account): submissions allowed per address per hour and per phone per day.
WENMING_NEED_INTAKE_PER_HOUR = int(os.environ.get("WENMING_NEED_INTAKE_PER_HOUR", 5))
WENMING_NEED_INTAKE_PER_PHONE_DAY = int(os.environ.get("WENMING_NEED_INTAKE_PER_PHONE_DAY", 3))
WENMING_NOTIFY = {k: os.environ.get(f"WENMING_NOTIFY_{k}", "") for k in ("CHANNELS", "WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_TIMEOUT")}  # notices' outside channels: see wenming/notices/channels.py

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
