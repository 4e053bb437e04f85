"""Settings for the consultation forum, read from environment variables (see .env.example)."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import format_lazy
from django.utils.translation import pgettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (see .env.example), "
            "or set DEBUG=1 for local development."
        )
    # Only ever used with DEBUG on a developer's machine.
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Absolute base of the site, used where no request is at hand (the CSV export command).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "mptt",
    "django_tasks",
    "django_tasks_db",
    "forum",
    "accounts",
    "consultations",
    "notifications",
    "insights",
    "rest_framework",
    "drf_spectacular",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "forum.middleware.SecurityHeadersMiddleware",
    # A 503 page (with the text a participant typed) when the database is unreachable.
    "forum.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else the browser's Accept-Language (no URL prefixes).
    "django.middleware.locale.LocaleMiddleware",
    "forum.bad_requests.refuse_nul_in_query",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Emails caused by a request link to the host it came to (consultations.notifications).
    "consultations.notifications.RequestBaseURLMiddleware",
]

# Behind a load balancer, each app server's name (e.g. its host name): responses then say which
# server answered (X-Served-By, forum.middleware.ServedByMiddleware). Unset: no such header.
APP_SERVER_ID = os.environ.get("APP_SERVER_ID", "").strip()
if APP_SERVER_ID:
    MIDDLEWARE.insert(0, "forum.middleware.ServedByMiddleware")

ROOT_URLCONF = "forum.urls"
WSGI_APPLICATION = "forum.wsgi.application"

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
                "forum.context_processors.permissions_context",
                "forum.context_processors.notifications_context",
            ],
        },
    },
]

# Connections: each gunicorn thread keeps at most one, reused for CONN_MAX_AGE seconds and checked
# before reuse (a backend that PostgreSQL dropped is replaced instead of failing the request).
# Behind PgBouncer in transaction pooling (PGBOUNCER=1) the pooler owns the server connections:
# Django closes its own after each request, and server-side cursors (which outlive a transaction)
# are off. Tree locks are transaction-scoped (pg_advisory_xact_lock), so they work there too.
PGBOUNCER = env_bool("PGBOUNCER", False)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE") or (0 if PGBOUNCER else 60)),
        conn_health_checks=True,
    )
}
if PGBOUNCER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_settings(redis_url: str) -> dict:
    """The default cache, shared by every worker and instance: it holds allauth's rate limits
    (failed logins, signups, emails sent), which a per-process cache would let each gunicorn
    worker count on its own. Redis when REDIS_URL is set, else a table in the database (created
    by forum/migrations/0001_cache_table.py). forum.checks warns about a per-process cache."""
    prefix = os.environ.get("CACHE_KEY_PREFIX", "forum")
    if redis_url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": prefix,
                # A Redis outage fails a request within seconds instead of hanging its thread.
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            }
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "KEY_PREFIX": prefix,
            # Expired rows are culled beyond this many (Django's default of 300 is small).
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("CACHE_MAX_ENTRIES", "10000"))},
        }
    }


REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHES = cache_settings(REDIS_URL)
if REDIS_URL:
    # Sessions read from Redis, written through to the database: any app server reads any
    # session, and a Redis restart logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email login, mandatory verification, rate limits left at allauth's defaults.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_USER_DISPLAY = "accounts.models.user_display"
# Lazy: allauth adds it to each subject in the language active when the email is sent.
ACCOUNT_EMAIL_SUBJECT_PREFIX = format_lazy(
    "[{}] ", pgettext_lazy("email subject prefix", "GCM consultations")
)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"

# Email: SMTP when EMAIL_HOST is set, the console otherwise.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "consultations@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"


def task_settings(backend: str, redis_url: str) -> dict:
    """The task queue (emails) as TASKS_BACKEND selects it; the same tasks API either way.

    "database" (the default): a table, run by `manage.py db_worker`. The database is already
    there and backed up, so the queue needs no other service to run or watch.
    "rq": Redis (REDIS_URL), run by `manage.py rqworker default --with-scheduler` (django-rq and
    rq; the scheduler runs deferred tasks, the retries after an SMTP failure, when they are due).
    Returns TASKS, RQ_QUEUES, RQ and the apps to install."""
    backend = (backend or "database").strip().lower()
    if backend == "database":
        return {
            "TASKS": {
                "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
            },
            "RQ_QUEUES": {},
            "RQ": {},
            "apps": [],
        }
    if backend == "rq":
        if not redis_url:
            raise ImproperlyConfigured(
                "TASKS_BACKEND=rq keeps the task queue in Redis: set REDIS_URL too "
                "(e.g. redis://127.0.0.1:6379/0), or leave TASKS_BACKEND unset for the database."
            )
        return {
            "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
            # Seconds a job may run before rq stops it (a send is one SMTP transaction).
            "RQ_QUEUES": {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 300}},
            # rqworker runs each job through django-tasks (no --job-class needed).
            "RQ": {"JOB_CLASS": "django_tasks_rq.Job"},
            "apps": ["django_rq", "django_tasks_rq"],
        }
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be 'database' (the default) or 'rq', not {backend!r}."
    )


_tasks = task_settings(os.environ.get("TASKS_BACKEND", ""), REDIS_URL)
TASKS, RQ_QUEUES, RQ = _tasks["TASKS"], _tasks["RQ_QUEUES"], _tasks["RQ"]
INSTALLED_APPS += _tasks["apps"]
# Notifications (notifications/delivery.py): tries before giving up, the first retry's wait (it
# doubles after each failure), and how long a row may stay "sending" before it is reclaimed.
NOTIFICATION_MAX_ATTEMPTS = max(int(os.environ.get("NOTIFICATION_MAX_ATTEMPTS", "5")), 1)
NOTIFICATION_RETRY_SECONDS = float(os.environ.get("NOTIFICATION_RETRY_SECONDS", "60"))
NOTIFICATION_SENDING_TIMEOUT = float(os.environ.get("NOTIFICATION_SENDING_TIMEOUT", "600"))
# Emails sent as things happen (replies, reports) wait this long for more of the same kind to
# the same person, and then go as one email.
NOTIFICATION_COALESCE_SECONDS = float(os.environ.get("NOTIFICATION_COALESCE_SECONDS", "120"))
# "Download my data" (accounts/my_data.py): days a prepared file and its emailed link last,
# files a participant may ask for in 24 hours, and seconds after which a request still queued or
# being prepared is taken for lost (a worker that died) and may be asked for again.
DATA_EXPORT_DAYS = float(os.environ.get("DATA_EXPORT_DAYS", "7"))
DATA_EXPORTS_PER_DAY = max(int(os.environ.get("DATA_EXPORTS_PER_DAY", "3")), 1)
DATA_EXPORT_STALE_SECONDS = float(os.environ.get("DATA_EXPORT_STALE_SECONDS", "21600"))
# Daily emails (digests, moderators' daily reports) go from this hour (TIME_ZONE); weekly
# digests on this weekday (0 is Monday).
DAILY_EMAIL_HOUR = int(os.environ.get("DAILY_EMAIL_HOUR", "7"))
WEEKLY_DIGEST_WEEKDAY = int(os.environ.get("WEEKLY_DIGEST_WEEKDAY", "0"))
# A visit to a consultation ends after this long without a page view; the next visit marks
# the comments published since as "new since your last visit".
VISIT_GAP_SECONDS = int(os.environ.get("VISIT_GAP_SECONDS", "1800"))

LANGUAGE_CODE = "en"
# Names in their own language: the switcher shows them as they are, untranslated.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as the site has always shown them; French and Spanish use Django's formats.
FORMAT_MODULE_PATH = ["forum.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and local runs work without collectstatic; production serves the hashed names.
WHITENOISE_MANIFEST_STRICT = False
# Uploaded attachments, saved under random names. Deliberately no MEDIA_URL and no URL serving
# this folder: files are downloaded only through consultations.views.attachment_download, which
# checks who may read them. Keep it outside anything the web server serves.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Security. `manage.py check --deploy --fail-level WARNING` passes with the README's variables.
# HTTPS only where the site's address is https: plain http is redirected, and HSTS keeps browsers
# on https. The test client speaks plain http to the default SITE_URL, so tests see no redirect.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and SITE_URL.startswith("https:"))
# Load balancers probe the instances over plain http (forum.views.healthz and readyz).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS") or (0 if DEBUG else 31_536_000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading commits the whole domain to HTTPS for every browser: its owner opts in.
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies of ours add themselves to X-Forwarded-For: allauth's per-address limits then
# count the client's address, not the proxy's (which every user would share). One with
# BEHIND_TLS_PROXY, none otherwise (the header is then ignored: a client could forge it).
ALLAUTH_TRUSTED_PROXY_COUNT = int(
    os.environ.get("TRUSTED_PROXY_COUNT", "") or (1 if BEHIND_TLS_PROXY else 0)
)
# Failed logins: 5 per account in 5 minutes (keyed on the email typed: failures against other or
# unknown accounts never count against yours), and per address a limit high enough for an
# office or a shared proxy. allauth's default (10 a minute per address) let a stream of failures
# with unknown emails lock everyone behind one address out.
# Every login attempt, whatever its outcome, is limited per address too (allauth: 30 a minute).
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("LOGIN_RATE_LIMITS", "300/m/ip"),
    "login_failed": os.environ.get("LOGIN_FAILED_RATE_LIMITS", "300/m/ip,5/300s/key"),
}
# Sent by forum.middleware.SecurityHeadersMiddleware. No inline script anywhere (static/js only);
# the admin's policy differs only in allowing the inline styles Django's admin and mptt write.
_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in _CSP.items())
CONTENT_SECURITY_POLICY_ADMIN = "; ".join(
    f"{name} {value}" for name, value in {**_CSP, "style-src": "'self' 'unsafe-inline'"}.items()
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# Comment limits.
COMMENT_MAX_LENGTH = 20_000
# Per author, e.g. "5/m,60/d" (s, m, h, d).
COMMENT_RATE_LIMITS = env_list("COMMENT_RATE_LIMITS", "5/m,60/d")
# Files a comment may carry (PDF, DOCX, ODT, XLSX, checked by content), and each one's size.
COMMENT_MAX_ATTACHMENTS = int(os.environ.get("COMMENT_MAX_ATTACHMENTS", "3"))
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))

# Long consultations: top-level threads per question page, replies shown before "Show N more",
# threads per question on the consultation page, and the size up to which it shows everything.
THREADS_PER_PAGE = max(int(os.environ.get("THREADS_PER_PAGE", "20")), 1)
REPLIES_SHOWN = max(int(os.environ.get("REPLIES_SHOWN", "5")), 1)
THREADS_ON_CONSULTATION_PAGE = max(int(os.environ.get("THREADS_ON_CONSULTATION_PAGE", "3")), 1)
CONSULTATION_ONE_PAGE_MAX = int(os.environ.get("CONSULTATION_ONE_PAGE_MAX", "50"))
# Comments per page of a filtered list (by objective or stakeholder type).
COMMENTS_PER_FILTERED_PAGE = max(int(os.environ.get("COMMENTS_PER_FILTERED_PAGE", "20")), 1)
# A thread opened in full ("Show N more replies"): its replies in pages of about this many.
THREAD_COMMENTS_PER_PAGE = max(int(os.environ.get("THREAD_COMMENTS_PER_PAGE", "100")), 2)

# SQLite cannot defer unique constraints; the tree constraints exist on PostgreSQL only.
# security.W021 asks for HSTS preload, which stays the domain owner's choice (HSTS_PRELOAD).
SILENCED_SYSTEM_CHECKS = ["models.W038", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}


# The read-only API (api/): JSON only, anonymous use limited per address through the shared cache
# (the client's address behind our proxy, as for logins), cursor pages. README, Open data.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "120/min"),
        "user": os.environ.get("API_USER_RATE", "600/min"),
    },
    "NUM_PROXIES": ALLAUTH_TRUSTED_PROXY_COUNT or None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GCM consultations API",
    "DESCRIPTION": (
        "Read-only access to the published consultations of the Global Compact for Migration "
        "discussion space: consultations, questions, the 23 objectives and every comment and "
        "reply. Hidden and deleted comments appear as placeholders (no text, no author) so "
        "that threads stay whole. No email address or moderation data is ever included."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
