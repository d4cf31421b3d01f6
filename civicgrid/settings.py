"""CivicGrid settings: one module driven by environment variables."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CIVICGRID_VAR_DIR", BASE_DIR / "var"))
# The embedded database, keys and uploads live here: it must exist before the first
# connection (a fresh clone has no var/).
VAR_DIR.mkdir(parents=True, exist_ok=True)

# "demo" (embedded SQLite, demo accounts), "test" or "production".
MODE = os.environ.get("CIVICGRID_MODE", "demo")
DEBUG = os.environ.get("CIVICGRID_DEBUG", "1" if MODE == "demo" else "0") == "1"

if MODE == "production":
    SECRET_KEY = os.environ["CIVICGRID_SECRET_KEY"]
else:
    SECRET_KEY = os.environ.get(
        "CIVICGRID_SECRET_KEY", "insecure-demo-key-never-use-in-production"
    )

ALLOWED_HOSTS = (
    os.environ["CIVICGRID_ALLOWED_HOSTS"]
    if MODE == "production"
    else os.environ.get("CIVICGRID_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
).split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # before accounts, whose admin extends axes' lockout admin
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "civicgrid.core",
    "civicgrid.accounts",
    "civicgrid.regions",
    "civicgrid.events",
    "civicgrid.peace_index",
    "civicgrid.disputes",
    "civicgrid.exchange",
    "civicgrid.registry",
    "civicgrid.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "civicgrid.accounts.middleware.SessionLimitsMiddleware",
    "civicgrid.accounts.middleware.NoStoreMiddleware",
    "civicgrid.accounts.middleware.LoginRateLimitMiddleware",
    "civicgrid.accounts.middleware.AccountPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "civicgrid.core.middleware.RequestContextMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "civicgrid.urls"
WSGI_APPLICATION = "civicgrid.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'civicgrid.sqlite3'}"),
        conn_max_age=int(os.environ.get("CIVICGRID_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer commits; a busy timeout instead of
    # "database is locked" errors under concurrent requests.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Django's cache is per process (local memory): it only spares a process repeated
# reads (the citizen report page's town outlines). What worker processes must count
# together, the request rates, is counted in the database (civicgrid.core.ratelimit).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Accounts security (GB/T 22239-2019 level 3, OWASP ASVS 2): see civicgrid/accounts/.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out sign-in first
    "django.contrib.auth.backends.ModelBackend",
    "civicgrid.accounts.backends.RolePermissionBackend",  # rights come from roles
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {
        "NAME": "civicgrid.accounts.passwords.MaximumLengthValidator",
        "OPTIONS": {"max_length": 64},
    },
    {
        "NAME": "civicgrid.accounts.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": 3},
    },
    # The offline blocklist: the 20,000 common passwords Django ships and keeps.
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CIVICGRID_PASSWORD_MAX_AGE_DAYS = int(
    os.environ.get("CIVICGRID_PASSWORD_MAX_AGE_DAYS", "90")
)
# Lockout on (user name, source address): a stranger elsewhere cannot lock a victim
# out. Unlock: the lockout admin, or `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = int(os.environ.get("CIVICGRID_LOCKOUT_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("CIVICGRID_LOCKOUT_MINUTES", "30"))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HTTP_RESPONSE_CODE = 429
# Failed sign-ins go to the audit log; axes itself logs no names or addresses.
AXES_VERBOSE = False
# The client address, one rule for lockouts and rate limits (DRF's): REMOTE_ADDR, or
# with CIVICGRID_PROXY_COUNT reverse proxies in front, the address they forwarded.
AXES_CLIENT_IP_CALLABLE = "civicgrid.accounts.security.client_address"
# Second factor (TOTP) for the roles that see personal data unmasked and for the
# three administrators; off by default only in the demo, whose accounts are printed.
CIVICGRID_OTP_REQUIRED = (
    os.environ.get("CIVICGRID_OTP_REQUIRED", "0" if MODE == "demo" else "1") == "1"
)
OTP_TOTP_ISSUER = os.environ.get("CIVICGRID_OTP_ISSUER", "CivicGrid")
# Sessions live in the database (a sign-out deletes the row): idle timeout and
# absolute lifetime are checked on the server on every request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CIVICGRID_SESSION_IDLE_SECONDS = 60 * int(
    os.environ.get("CIVICGRID_SESSION_IDLE_MINUTES", "30")
)
CIVICGRID_SESSION_ABSOLUTE_SECONDS = 3600 * int(
    os.environ.get("CIVICGRID_SESSION_ABSOLUTE_HOURS", "12")
)
SESSION_COOKIE_AGE = CIVICGRID_SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
# Paths that stay open while an account still owes a step (second factor, new
# password), and the paths answered as API (403 with a reason, not a redirect).
CIVICGRID_ACCOUNT_STEP_EXEMPT_PATHS = [
    "/accounts/",
    "/admin/login/",
    "/admin/logout/",
    "/workbench/login/",
    "/workbench/logout/",
    "/i18n/",
    "/static/",
]
CIVICGRID_API_PREFIXES = ["/api/", "/open311/"]
CIVICGRID_LOGIN_URL_NAMES = ["admin:login", "workbench:login"]
# Answers here may carry personal data: never cached (also every signed-in answer).
CIVICGRID_NO_STORE_PREFIXES = [
    "/api/",
    "/open311/",
    "/admin/",
    "/workbench/",
    "/report/",
    "/accounts/",
]

LANGUAGE_CODE = "zh-hans"
# The interface speaks Simplified Chinese whatever the browser asks for; another
# language is one more entry here and one more catalogue.
LANGUAGES = [("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "civicgrid" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages are served from node_modules (installed from package-lock.json).
STATICFILES_DIRS = [
    BASE_DIR / "civicgrid" / "web" / "static",
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    (
        "vendor/leaflet-geoman",
        NODE_MODULES / "@geoman-io" / "leaflet-geoman-free" / "dist",
    ),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
]

LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # HTTP Basic with the account policy (no second factor: refused where needed)
        "civicgrid.accounts.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Proxies in front whose X-Forwarded-For is trusted (0: REMOTE_ADDR, never spoofed)
    "NUM_PROXIES": int(os.environ.get("CIVICGRID_PROXY_COUNT", "0")),
    "DEFAULT_THROTTLE_RATES": {
        "locate": os.environ.get("CIVICGRID_LOCATE_RATE", "600/min"),
        "public_report": os.environ.get("CIVICGRID_PUBLIC_REPORT_RATE", "30/hour"),
        # sign-in form posts per source address (civicgrid.accounts.middleware)
        "login": os.environ.get("CIVICGRID_LOGIN_RATE", "30/min"),
        # Open311 (civicgrid.exchange.open311_throttle): POSTs per client (API key),
        # GETs per client or per address without a key; a client may have its own
        "open311_post": os.environ.get("CIVICGRID_OPEN311_POST_RATE", "120/min"),
        "open311_read": os.environ.get("CIVICGRID_OPEN311_READ_RATE", "300/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CivicGrid API",
    "DESCRIPTION": "市域社会治理平台 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Several apps have a "level", "source" or "kind" choice set: name each one.
    "ENUM_NAME_OVERRIDES": {
        "RegionLevelEnum": "civicgrid.accounts.models.Level",
        "EventLevelEnum": "civicgrid.events.models.Level",
        "EventSourceEnum": "civicgrid.events.models.Source",
        "CenterLevelEnum": "civicgrid.disputes.models.CenterLevel",
        "CaseSourceEnum": "civicgrid.disputes.models.CaseSource",
        "IndexKindEnum": "civicgrid.peace_index.models.IndexKind",
        "HouseKindEnum": "civicgrid.registry.models.HouseKind",
        "VisitKindEnum": "civicgrid.registry.models.VisitKind",
    },
}

# Transport and browser protections. Production runs behind TLS: HTTPS only, HSTS for
# a year, secure cookies; a TLS-terminating proxy sets X-Forwarded-Proto.
if MODE == "production":
    SECURE_SSL_REDIRECT = os.environ.get("CIVICGRID_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("CIVICGRID_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy (django-csp): only our own scripts (no inline script, no
# CDN); inline styles stay allowed for the map and chart libraries.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Personal-data keys live outside the database (a file or an environment variable).
CIVICGRID_KEY_FILE = Path(os.environ.get("CIVICGRID_KEY_FILE", VAR_DIR / "keys.json"))
CIVICGRID_CREATE_KEYS = MODE != "production"

# Audit rows are kept this many days (the Cybersecurity Law asks for at least six
# months: the purge job refuses less than 184), then purged by core.tasks.purge_audit.
CIVICGRID_AUDIT_RETENTION_DAYS = int(
    os.environ.get("CIVICGRID_AUDIT_RETENTION_DAYS", "184")
)

# Coverage check: pieces smaller than this (m²), or narrower than this (m), are
# floating-point seams between independently drawn neighbours, not gaps or overlaps.
CIVICGRID_COVERAGE_TOLERANCE_M2 = float(
    os.environ.get("CIVICGRID_COVERAGE_TOLERANCE_M2", "1.0")
)
CIVICGRID_COVERAGE_MIN_WIDTH_M = float(
    os.environ.get("CIVICGRID_COVERAGE_MIN_WIDTH_M", "0.1")
)

# Background work (django-tasks): jobs are rows in the same database, run by
# `manage.py db_worker`; `manage.py run_scheduler` enqueues the periodic ones below,
# recording each enqueue so that a restart does not enqueue a job twice.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "CIVICGRID_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}
# Each job: "task" (dotted path of a django-tasks task) and either "every_minutes"
# or "monthly_day" (+ optional "at", local HH:MM, default 01:00); "name" optional.
CIVICGRID_SCHEDULE = [
    {"task": "civicgrid.events.tasks.scan_deadlines", "every_minutes": 5},
    {"task": "civicgrid.disputes.tasks.scan_overdue_cases", "every_minutes": 15},
    {"task": "civicgrid.exchange.tasks.deliver_webhooks", "every_minutes": 1},
    # the monthly upward report, sent once the city's peace index month is published
    {"task": "civicgrid.exchange.tasks.send_upward_reports", "every_minutes": 60},
    {"task": "civicgrid.core.tasks.purge_audit", "every_minutes": 24 * 60},
    # request counts of the rates (civicgrid.core.ratelimit) past their windows
    {"task": "civicgrid.core.tasks.purge_rate_counts", "every_minutes": 10},
    {
        "task": "civicgrid.peace_index.tasks.compute_previous_month",
        "monthly_day": 1,
        "at": "02:00",
    },
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("CIVICGRID_LOG_LEVEL", "INFO"),
    },
}
