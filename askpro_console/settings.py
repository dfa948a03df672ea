"""Settings of the AskPro Console, all from the environment (django-environ).

Without DATABASE_URL the console runs on an embedded SQLite file under var/ with demo data, so a
newcomer needs no configuration. A malformed value stops start-up with one clear line.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from askpro_console.config import ConfigError, Settings, fail

BASE_DIR = Path(__file__).resolve().parent.parent
_env = Settings(BASE_DIR)

try:
    EMBEDDED_DEFAULT = not _env.string("DATABASE_URL")
    DATABASES = {
        "default": _env.database(
            "DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'console.sqlite3'}"
        )
    }
    # The embedded demo is a developer's sandbox; a real database means production defaults.
    DEBUG = _env.boolean("DEBUG", default=EMBEDDED_DEFAULT)
    SECRET_KEY = _env.secret_key()
    ALLOWED_HOSTS = _env.host_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
    LANGUAGE_CODE = _env.language()
    # The gateway's Laravel APP_KEY and APP_PREVIOUS_KEYS; parsed and checked by the encrypter.
    # On the embedded demo without it: the demo's own key that `setup_demo` writes into var/.
    GATEWAY_APP_KEY = _env.gateway_app_key()
    GATEWAY_PREVIOUS_KEYS = [
        k.strip() for k in _env.string("GATEWAY_PREVIOUS_KEYS").split(",") if k.strip()
    ]
    # Time zone of the gateway's `timestamp` columns (Laravel's app.timezone; its default: UTC).
    GATEWAY_DB_TIME_ZONE = _env.string("GATEWAY_DB_TIME_ZONE", "UTC") or "UTC"
    # Provider APIs for the connection tests: public defaults, a local fake in tests.
    CALCOM_API_BASE_URL = _env.url_setting("CALCOM_API_BASE_URL", "https://api.cal.com/v2")
    RETELL_API_BASE_URL = _env.url_setting("RETELL_API_BASE_URL", "https://api.retellai.com")
    PROVIDER_TIMEOUT_SECONDS = _env.number("PROVIDER_TIMEOUT_SECONDS", 5.0)
    # The gateway's Retell platform key (its RETELLAI_API_KEY, else RETELL_TOKEN; semantics §2),
    # a secret: when set, the Retell reconciliation, the bind fix and the agent-name lookup use
    # it as the gateway does; empty: each company's Retell integration key.
    GATEWAY_RETELL_API_KEY = _env.string("GATEWAY_RETELL_API_KEY")
    # The gateway `users.id` written into integrations.created_by/updated_by (console users are
    # not gateway users; who really changed what is in the console's history). Empty: NULL.
    GATEWAY_CONSOLE_USER_ID = _env.optional_id("GATEWAY_CONSOLE_USER_ID")
    # The phone-number import refuses larger files with one clear message.
    PHONE_IMPORT_MAX_BYTES = _env.count("PHONE_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    PHONE_IMPORT_MAX_ROWS = _env.count("PHONE_IMPORT_MAX_ROWS", 100_000)
    # Bounds on what an import unpacks and reads (integrations_app/phone_import/limits.py).
    PHONE_IMPORT_MAX_CELL_CHARS = _env.count("PHONE_IMPORT_MAX_CELL_CHARS", 10_000)
    PHONE_IMPORT_XLSX_MAX_UNPACKED = _env.count("PHONE_IMPORT_XLSX_MAX_UNPACKED", 100 * 2**20)
    PHONE_IMPORT_XLSX_MAX_STRINGS = _env.count("PHONE_IMPORT_XLSX_MAX_STRINGS", 16 * 2**20)
    PHONE_IMPORT_XLSX_MAX_RATIO = _env.count("PHONE_IMPORT_XLSX_MAX_RATIO", 200)
    # GET /metrics (Prometheus): a bearer token, and/or client addresses or networks allowed
    # without one. Neither set: the endpoint is off (404).
    METRICS_TOKEN = _env.string("METRICS_TOKEN")
    if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
        raise ConfigError(_env._("METRICS_TOKEN is shorter than 32 characters"))
    METRICS_ALLOWED_IPS = [
        ip.strip() for ip in _env.string("METRICS_ALLOWED_IPS").split(",") if ip.strip()
    ]
    for _network in METRICS_ALLOWED_IPS:
        try:
            ipaddress.ip_network(_network, strict=False)
        except ValueError:
            raise ConfigError(
                _env._("%(name)s=%(value)r is not an IP address or network")
                % {"name": "METRICS_ALLOWED_IPS", "value": _network}
            ) from None
except ConfigError as error:
    fail(BASE_DIR, error)

if GATEWAY_DB_TIME_ZONE != "UTC":
    DATABASES["default"]["TIME_ZONE"] = GATEWAY_DB_TIME_ZONE

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "import_export",
    "django_tasks",
    "askpro_console.task_results.TaskResultsConfig",  # django_tasks_db, named in German
    "changelog",
    "integrations_app",
    "audit_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the Python process under gunicorn: no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "changelog.middleware.OperationMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "askpro_console.urls"
WSGI_APPLICATION = "askpro_console.wsgi.application"

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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# An upload is kept only up to PHONE_IMPORT_MAX_BYTES + 1 bytes (askpro_console/uploads.py).
FILE_UPLOAD_HANDLERS = [
    "askpro_console.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date-time format per language (German 06.12.2026 22:05, English 2026-12-06 22:05) for
# titles, lists, record pages and the dashboard alike: askpro_console/formats/<lang>/formats.py.
FORMAT_MODULE_PATH = ["askpro_console.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Berlin"
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the files whitenoise serves (README: production).
STATIC_ROOT = Path(_env.string("STATIC_ROOT") or BASE_DIR / "var" / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at start-up when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Gzip/Brotli copies made by collectstatic, served by whitenoise. No manifest: templates
    # render without a collectstatic run (tests, the demo); whitenoise sets the cache headers.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "admin:login"
# Where a login goes when its ?next= is refused (another host, a scheme): the console's start.
LOGIN_REDIRECT_URL = "admin:index"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
try:
    # A session lasts a working day from the last login; optionally ends with the browser.
    SESSION_COOKIE_AGE = int(_env.number("SESSION_HOURS", 10) * 3600)
    SESSION_EXPIRE_AT_BROWSER_CLOSE = _env.boolean("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
    if not DEBUG:
        # Production sits behind a TLS proxy (README: production): it sets X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        SECURE_SSL_REDIRECT = _env.boolean("SECURE_SSL_REDIRECT", default=True)
        # Load balancers probe /health/ over plain HTTP.
        SECURE_REDIRECT_EXEMPT = [r"^health/$"]
        SECURE_HSTS_SECONDS = _env.count("SECURE_HSTS_SECONDS", 31_536_000)
        SECURE_HSTS_INCLUDE_SUBDOMAINS = _env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
        SECURE_HSTS_PRELOAD = _env.boolean("SECURE_HSTS_PRELOAD", True)
        SESSION_COOKIE_SECURE = _env.boolean("SECURE_COOKIES", default=True)
        CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Failed logins: after AXES_FAILURE_LIMIT in a row for one account from one address, that
    # pair is locked for AXES_COOLOFF_MINUTES (README: unlock with `manage.py axes_reset_username`).
    AXES_FAILURE_LIMIT = _env.count("AXES_FAILURE_LIMIT", 5)
    AXES_COOLOFF_MINUTES = _env.number("AXES_COOLOFF_MINUTES", 30)
    # Proxies in front whose X-Forwarded-For is trusted for the client's address (0: none).
    TRUSTED_PROXY_COUNT = _env.count("TRUSTED_PROXY_COUNT", 0)
except ConfigError as error:
    fail(BASE_DIR, error)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "askpro_console.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "askpro_console.client_ip.client_ip"
# The password is never stored with a failed attempt; axes keeps username, address, agent.
AXES_SENSITIVE_PARAMETERS = ["password", "api_key", "key"]

# Content-Security-Policy (django-csp 4): no inline script or style anywhere; every script and
# stylesheet is a static file. Pages that need more say so with csp_update.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "askpro": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
# Audit snapshots (audit --record): one a day kept for this many days, one a week before.
AUDIT_SNAPSHOT_DAILY_DAYS = 90
# The dashboard charts each measure over at most this many of the newest snapshots.
AUDIT_TREND_POINTS = 60

# Alerts (audit --record --notify): a critical finding that is new since the previous snapshot,
# or a measure that fell below its threshold (AUDIT_ALERT_THRESHOLDS="phone_coverage:50,..."),
# mails the Manager group and AUDIT_ALERT_RECIPIENTS ("ops@example.org:en,...", the language
# also sets a Manager's). Mail through EMAIL_URL (smtp+tls://user:password@host:587); the
# embedded demo prints mails. The mails link the dashboard under CONSOLE_BASE_URL.
try:
    from askpro_console import alert_settings as _alerts

    AUDIT_ALERT_THRESHOLDS = _alerts.thresholds(_env)
    AUDIT_ALERT_RECIPIENTS = _alerts.recipients(_env)
    globals().update(
        _alerts.email(_env, "consolemail://" if EMBEDDED_DEFAULT else "smtp://localhost:25")
    )
    DEFAULT_FROM_EMAIL = _env.string("DEFAULT_FROM_EMAIL") or "askpro-console@localhost"
    CONSOLE_BASE_URL = _env.url_setting("CONSOLE_BASE_URL", "http://127.0.0.1:8000")
except ConfigError as error:
    fail(BASE_DIR, error)

# Fixes, imports and undo ask for a one-line reason; with this on they refuse to run without.
CHANGE_REASON_REQUIRED = _env.boolean("CHANGE_REASON_REQUIRED", default=False)

# The readiness audit. The table catalogue starts with the database review's classes; edit it
# here. Tables not named are rated "unclassified". A branch needs at least this many staff.
AUDIT_TABLE_CATALOGUE = {
    "business_critical": [
        "integrations",
        "calcom_bookings",
        "calcom_event_types",
        "webhook_dead_letter_queue",
        "companies",
        "branches",
        "phone_numbers",
        "staff",
        "services",
    ],
    "operations_critical": [
        "customer_interactions",
        "customer_notes",
        "customer_preferences",
        "email_logs",
        "notifications",
        "sms_message_logs",
        "whatsapp_message_logs",
        "notification_templates",
        "customers",
        "calls",
        "appointments",
    ],
    "optional": [
        "billing_line_items",
        "subscription_items",
        "ml_models",
        "knowledge_notebooks",
    ],
}
AUDIT_SPARSE_ROWS = 10
# Above this many rows in a business table (InnoDB's estimate) the dashboard shows the latest
# audit snapshot's counts with their age instead of running the audit per page view, and reads
# a check's rows when it is opened (audit_app.dashboard.snapshot_in_use). None: always live;
# 0: the snapshot whenever there is one.
AUDIT_DASHBOARD_LIVE_ROWS = 100_000
try:
    AUDIT_MIN_STAFF_PER_BRANCH = int(_env.number("AUDIT_MIN_STAFF_PER_BRANCH", 2))
    # The audit runs its checks in three threads, each on its own database connection, so one
    # thread's queries run while another decrypts and parses (MySQL/MariaDB, outside a
    # transaction; audit_app.registry.run_all).
    AUDIT_PARALLEL_QUERIES = _env.boolean("AUDIT_PARALLEL_QUERIES", default=True)
except ConfigError as error:
    fail(BASE_DIR, error)

# Error reports (and DEBUG pages) never show variables or POST fields marked sensitive.
DEFAULT_EXCEPTION_REPORTER_FILTER = "askpro_console.error_reports.AlwaysSafeExceptionReporterFilter"

# Long work (provider reconciliations, bulk connection tests, large imports, scheduled audits)
# runs in background workers on Django's Tasks framework, stored in the database: `python
# manage.py db_worker` on one or more machines takes the tasks; the page that started one
# shows its state and survives a reload.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
try:
    # A background connection test asks this many providers at once (threads in the worker).
    CONNECTION_TEST_CONCURRENCY = _env.count("CONNECTION_TEST_CONCURRENCY", 16)
    # ... and writes their outcomes in transactions of this many integrations each.
    CONNECTION_TEST_CHUNK = _env.count("CONNECTION_TEST_CHUNK", 200)
    # A selection of up to this many integrations is tested in the request; more go to a worker.
    CONNECTION_TEST_SYNC_MAX = _env.count("CONNECTION_TEST_SYNC_MAX", 20)
    # Confirming an import of more rows than this queues its write for a worker.
    PHONE_IMPORT_BACKGROUND_ROWS = _env.count("PHONE_IMPORT_BACKGROUND_ROWS", 2000)
    # A running job whose worker gave no sign of life for this long is marked failed.
    BACKGROUND_JOB_TIMEOUT_SECONDS = _env.count("BACKGROUND_JOB_TIMEOUT_SECONDS", 120)
except ConfigError as error:
    fail(BASE_DIR, error)
