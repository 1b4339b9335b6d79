"""Settings for the breast-care follow-up tracker.

One file, every deploy-time value from the environment (see .env.example).
With no DATABASE_URL the app runs on a local SQLite file, so a newcomer's
first command works anywhere; PostgreSQL is the real database.
"""

import os
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] or default


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long "
            "random string (for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`). "
            "For local development only, DEBUG=1 uses a built-in development key."
        )
    # Development only: with DEBUG off a real key is required (above).
    SECRET_KEY = "django-insecure-development-only-do-not-deploy"  # noqa: S105 # nosec B105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_tables2",
    "axes",
    "csp",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "followup",
    # Staff sign-in: the password step, the second factor, single sign-on, changing one's password.
    "accounts",
    "contacts",
    "mdt",
    "tasks",
    "letters",
    "integration",
    "selfreport",
    # The background worker's jobs and schedules, in PostgreSQL (alerts/tasks.py; docs/operations.md).
    "procrastinate.contrib.django",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Deny by default: every view needs a signed-in user unless marked otherwise.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session limits, before any view trusts the session.
    "followup.middleware.SessionTimeoutMiddleware",
    # A user whose password an admin reset chooses a new one before any other page.
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "followup.middleware.NoStoreMiddleware",
    # Logs a refused request for another team's record (the 404 a scoped fetch raises).
    "followup.middleware.AccessRefusalMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"

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
                "followup.context_processors.navigation",
                "followup.context_processors.session_warning",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic.wsgi.application"

database_options = {
    "conn_max_age": env_int("CONN_MAX_AGE", 60),
    "conn_health_checks": True,
    # On behind pgbouncer in transaction mode, where a server-side cursor cannot
    # outlive the transaction that pgbouncer gave a server connection for.
    "disable_server_side_cursors": env_bool("DISABLE_SERVER_SIDE_CURSORS", False),
}
DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", **database_options),
}
# PostgreSQL's parallel workers for the pages' queries (its max_parallel_workers_per_gather).
# A parallel query is quicker alone and dearer in all: on a database server with few
# cores and many users, 0 served up to 60% more worklist pages a second (docs/performance.md).
# Unset: the server's own setting. Reports on a replica keep the replica's.
DATABASE_PARALLEL_WORKERS = os.environ.get("DATABASE_PARALLEL_WORKERS", "").strip()
if DATABASE_PARALLEL_WORKERS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    workers = env_int("DATABASE_PARALLEL_WORKERS", 0)
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # Added to any options the URL gave (?options=-c statement_timeout=...), not instead.
    options["options"] = " ".join(
        filter(None, [options.get("options", ""), f"-c max_parallel_workers_per_gather={workers}"])
    )
# PostgreSQL's JIT compiles a query whose estimated cost is high before running it: for this app's queries
# (a page's counts, a patient's flags) the compiling took 0.1-4 s of a query that then ran in milliseconds
# (docs/performance.md, issue 17). Off unless DATABASE_JIT is set.
DATABASE_JIT = env_bool("DATABASE_JIT", False)
# The planner's cost of reading a page out of order, against 1 for in order. PostgreSQL's 4 is for spinning
# disks; with the tables in memory (100,000 patients are 400 MB) or on SSD, 1.1 lets it read a few hundred
# rows by index instead of scanning a team's patients for each dashboard count. Empty: the server's setting.
DATABASE_RANDOM_PAGE_COST = os.environ.get("DATABASE_RANDOM_PAGE_COST", "1.1").strip()
if DATABASE_RANDOM_PAGE_COST:
    try:
        cost = float(DATABASE_RANDOM_PAGE_COST)
    except ValueError:
        cost = None
    if cost is None or not 0 < cost < 1000:
        raise ImproperlyConfigured(
            f"DATABASE_RANDOM_PAGE_COST must be a number above 0 (such as 1.1), not {DATABASE_RANDOM_PAGE_COST!r}."
        )
# Both are sent as session settings when the app connects (libpq "options"). A connection pooler that refuses
# startup options (pgbouncer) needs DATABASE_SESSION_SETTINGS=0: set them on the database instead
# (ALTER DATABASE ... SET jit = off; ... SET random_page_cost = 1.1; docs/deployment.md).
DATABASE_SESSION_SETTINGS = env_bool("DATABASE_SESSION_SETTINGS", True)
if DATABASE_SESSION_SETTINGS and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    session = [] if DATABASE_JIT else ["-c jit=off"]
    if DATABASE_RANDOM_PAGE_COST:
        session.append(f"-c random_page_cost={float(DATABASE_RANDOM_PAGE_COST)}")
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = " ".join(filter(None, [options.get("options", ""), *session])) or None
    if options["options"] is None:
        del options["options"]
    # Reports on a replica keep the replica's settings.
# A streaming read replica: reports and exports read from it (followup/db.py);
# everything else, and every write, stays on "default". No alias without the URL.
# Tests mirror it onto "default" rather than creating a second test database.
if os.environ.get("DATABASE_REPLICA_URL", "").strip():
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"].strip(), test_options={"MIRROR": "default"}, **database_options
    )
DATABASE_ROUTERS = ["followup.db.ReportingRouter"]
# The worker (procrastinate) keeps its jobs in PostgreSQL; its migration needs PostgreSQL. On the SQLite
# default it has no tables: alerts are recorded and wait, queued, until a worker on PostgreSQL runs.
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    MIGRATION_MODULES = {"procrastinate": None}
# The worker's tasks are in one module, named here, not discovered.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = ""
PROCRASTINATE_IMPORT_PATHS = ["alerts.tasks"]

AUTH_USER_MODEL = "followup.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username + address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "followup.auth.UserWithTeamBackend",
    # Single sign-on (OpenID Connect): only a user an admin linked (User.sso_id); inert until configured.
    "accounts.sso.SSOBackend",
]

# Lockout after repeated failed logins, per username *and* address, so one
# person cannot lock another out; lifted after the cool-off.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Every attempt while locked out starts the cool-off again: the lockout page's "Try again at"
# is then one cool-off after the attempt that shows it (followup.auth.lockout_response).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_LOCKOUT_CALLABLE = "followup.auth.lockout_response"
# Behind a reverse proxy: how many trusted proxies add to X-Forwarded-For (0: none).
LOCKOUT_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "followup.auth.client_ip"
AXES_VERBOSE = False
# A single sign-on callback is not a password guess and carries no username: not counted (accounts/sso.py).
AXES_WHITELIST_CALLABLE = "accounts.sso.not_counted_by_lockout"

# Staff sign-in (accounts/, docs/operations.md "Sign-in"). Every value is read from the environment.
# Local accounts (username and password) on the login page; off when everyone signs in by SSO.
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)
# A second factor (an authenticator app's code, or a recovery code) at every local sign-in: admins and
# staff always; everyone when MFA_REQUIRED is on (the default when DEBUG is off).
MFA_REQUIRED = env_bool("MFA_REQUIRED", not DEBUG)
# The demo's own accounts (followup/demo.py) sign in with a password alone: `make demo` sets this. It is
# refused with DEBUG off, so a deployment cannot exempt anyone.
DEMO_ACCOUNTS_WITHOUT_MFA = env_bool("DEMO_ACCOUNTS_WITHOUT_MFA", False)
if DEMO_ACCOUNTS_WITHOUT_MFA and not DEBUG:
    raise ImproperlyConfigured("DEMO_ACCOUNTS_WITHOUT_MFA is for the demo only: it needs DEBUG=1.")
# The name the authenticator app shows beside the account.
OTP_TOTP_ISSUER = os.environ.get("MFA_ISSUER_NAME", "Breast-care follow-up").strip() or "Breast-care follow-up"
# How many recovery codes a user is given (each works once).
MFA_RECOVERY_CODES = env_int("MFA_RECOVERY_CODES", 10)
# Minutes between the password step and the code: after that, start again.
MFA_PENDING_MINUTES = env_int("MFA_PENDING_MINUTES", 5)
if MFA_RECOVERY_CODES < 1 or MFA_PENDING_MINUTES < 1:
    raise ImproperlyConfigured("MFA_RECOVERY_CODES and MFA_PENDING_MINUTES must be 1 or more.")

# Single sign-on by OpenID Connect (NHS CIS2, Microsoft Entra ID): on when OIDC_ISSUER is set. The
# provider's endpoints and keys are read from its discovery document (accounts/sso.py).
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip()
OIDC_DISCOVERY_URL = os.environ.get("OIDC_DISCOVERY_URL", "").strip() or (
    OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration" if OIDC_ISSUER else ""
)
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid profile email").strip()
# The claim (in the ID token or the userinfo answer) whose value an admin enters as the user's
# "single sign-on ID". Use an ID the person cannot change: sub, the CIS2 uid, Entra's oid (never an email
# address or a sign-in name, which can be changed or reused).
OIDC_USER_CLAIM = os.environ.get("OIDC_USER_CLAIM", "sub").strip()
# The button: "Log in with <OIDC_PROVIDER_NAME>".
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your NHS account").strip()
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGORITHM", "RS256").strip()
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_USE_PKCE = True
OIDC_CREATE_USER = False  # no self-registration: an admin creates or links every account
OIDC_STORE_ID_TOKEN = True  # for the provider's logout (id_token_hint)
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are needed too.")
# The library fetches the provider's published keys for RS* and ES* only (anything else would be checked
# against the client secret).
if OIDC_ISSUER and not OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
    raise ImproperlyConfigured("OIDC_SIGN_ALGORITHM must be RS256 (or another RS or ES algorithm).")
if not LOCAL_LOGIN and not OIDC_ISSUER:
    raise ImproperlyConfigured("LOCAL_LOGIN is off and OIDC_ISSUER is not set: nobody could log in.")


# Sessions live in the database, not in a process: any app server behind the load
# balancer can serve any request, so no sticky sessions are needed.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Sessions: logged off after SESSION_IDLE_TIMEOUT_MINUTES without a request,
# and after SESSION_MAX_AGE_HOURS whatever happens (followup.middleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30))
# Pages warn this long before either limit ends, with "Stay signed in" (static/js/timeout.mjs).
SESSION_IDLE_WARNING = timedelta(seconds=env_int("SESSION_IDLE_WARNING_SECONDS", 120))
SESSION_MAX_AGE = timedelta(hours=env_int("SESSION_MAX_AGE_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_MAX_AGE.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: setting a new password (an admin's reset, by any route) lifts that user's lockout.
    {"NAME": "followup.auth.LiftLockoutOnPasswordChange"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain storage when debugging
        # or testing, so pages render without running collectstatic first.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or env_bool("PLAIN_STATIC_STORAGE")
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "followup:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Security headers and cookies. With DEBUG off these pass
# `manage.py check --deploy --fail-level WARNING` (CI runs it).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # a load balancer may probe over plain HTTP
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself (and strips the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
# Opt-in: both bind every subdomain (and preload, every browser, for months) to HTTPS, which is the
# domain owner's decision, not one app's. Off, `check --deploy` would warn; the warnings are silenced
# here, where the reason is.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Permissions-Policy (django-permissions-policy): no page uses the camera, microphone, location, payment
# or any other powerful feature, so none may, not even a script that got in.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

# Content-Security-Policy (django-csp 4): our own files only, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # Logging out of SSO is a form whose answer redirects to the provider's logout page.
        "form-action": [
            SELF,
            *([urlsplit(OIDC_ISSUER)._replace(path="", query="", fragment="").geturl()] if OIDC_ISSUER else []),
        ],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Clinical settings. Targets are local policy, not national rules (DOMAIN.md).
# Days from a local/regional recurrence to its restaging being complete.
RESTAGING_TARGET_DAYS = env_int("RESTAGING_TARGET_DAYS", 28)
# An open follow-up item is "overdue" this many days after its due date.
FOLLOWUP_GRACE_DAYS = env_int("FOLLOWUP_GRACE_DAYS", 14)
# Overdue by more than this many days: escalated.
FOLLOWUP_ESCALATE_DAYS = env_int("FOLLOWUP_ESCALATE_DAYS", 42)
# "Due soon" looks this many days ahead.
FOLLOWUP_DUE_SOON_DAYS = env_int("FOLLOWUP_DUE_SOON_DAYS", 28)
# A result waiting to be acknowledged for more than this many days: escalated.
RESULT_ESCALATE_DAYS = env_int("RESULT_ESCALATE_DAYS", 14)
# "PIFU ending" lists a PIFU period that ends within this many days (and those already ended).
PIFU_ENDING_DAYS = env_int("PIFU_ENDING_DAYS", 30)

# The tracker's own address, as links in emails and letters print it (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The patient's self-report page (selfreport/, /report-symptoms/). Failed tries with one personal code
# (whether it exists or not), or from one address, within the lock-out window lock it for that window.
SELF_REPORT_CODE_ATTEMPTS = env_int("SELF_REPORT_CODE_ATTEMPTS", 5)
SELF_REPORT_ADDRESS_ATTEMPTS = env_int("SELF_REPORT_ADDRESS_ATTEMPTS", 20)
SELF_REPORT_LOCKOUT_MINUTES = env_int("SELF_REPORT_LOCKOUT_MINUTES", 30)
# What the page promises: the team replies within this many working days.
SELF_REPORT_RESPONSE_DAYS = env_int("SELF_REPORT_RESPONSE_DAYS", 2)
if min(SELF_REPORT_CODE_ATTEMPTS, SELF_REPORT_ADDRESS_ATTEMPTS, SELF_REPORT_LOCKOUT_MINUTES) < 1:
    raise ImproperlyConfigured("The SELF_REPORT_*_ATTEMPTS and SELF_REPORT_LOCKOUT_MINUTES settings must be 1 or more.")

# Email (alerts/): Django's backend, from the environment. The demo (DEBUG) writes each email to a file
# under var/mail/ instead of sending it; production sends by SMTP.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Breast care follow-up <followup@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Alerts (alerts/): the daily digest's local time (HH:MM), how many times a send is tried before the alert
# is "failed", the first wait before a retry in seconds (doubling each time), and after how many minutes
# with no attempt a queued alert's job counts as lost and is deferred again.
ALERT_DIGEST_TIME = os.environ.get("ALERT_DIGEST_TIME", "07:00").strip()
try:
    ALERT_DIGEST_AT = time.fromisoformat(ALERT_DIGEST_TIME)
except ValueError as exc:
    raise ImproperlyConfigured(f"ALERT_DIGEST_TIME must be a time like 07:00, not {ALERT_DIGEST_TIME!r}.") from exc
ALERT_SEND_ATTEMPTS = env_int("ALERT_SEND_ATTEMPTS", 6)
ALERT_RETRY_SECONDS = env_int("ALERT_RETRY_SECONDS", 60)
ALERT_REQUEUE_MINUTES = env_int("ALERT_REQUEUE_MINUTES", 60)
if ALERT_SEND_ATTEMPTS < 1:
    raise ImproperlyConfigured("ALERT_SEND_ATTEMPTS must be 1 or more.")

# Results that arrive by themselves (integration/, docs/integration.md).
# A report matches the open staging test or follow-up item of its kind requested or due within
# this many days of the exam; none or several within it: the report is unmatched.
RESULT_MATCH_WINDOW_DAYS = env_int("RESULT_MATCH_WINDOW_DAYS", 60)
# The largest message (HL7v2 or FHIR) the API takes, in bytes: larger is refused (413).
INTEGRATION_MAX_MESSAGE_BYTES = env_int("INTEGRATION_MAX_MESSAGE_BYTES", 2_000_000)
# A request body above Django's own limit fails before the API can say why: keep Django's above ours.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, INTEGRATION_MAX_MESSAGE_BYTES + 1024)

# A user told this many times in an hour that an NHS number they entered is registered by
# another team is told nothing more for the rest of that hour (followup.audit): each such
# answer confirms that someone is a patient here.
REGISTERED_ELSEWHERE_LIMIT_PER_HOUR = env_int("REGISTERED_ELSEWHERE_LIMIT_PER_HOUR", 5)
if REGISTERED_ELSEWHERE_LIMIT_PER_HOUR < 1:
    raise ImproperlyConfigured("REGISTERED_ELSEWHERE_LIMIT_PER_HOUR must be 1 or more.")

# Uploaded caseload files wait here between the dry run and the import. With
# several app servers it must be a shared directory. Empty: the system temp dir.
CASELOAD_IMPORT_DIR = os.environ.get("CASELOAD_IMPORT_DIR", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every step of every PDF at INFO ("Step 5 - Creating layout"): noise in the log and a
    # tenth of a letter's render time (bench/letters.py). Its warnings (a refused resource) still show.
    # procrastinate says "Adding tasks from blueprint" at INFO on every manage.py command; its worker's
    # lines (each job started and ended) stay at INFO.
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        # ... and each periodic task's registration, and "Deferred 1 job" for every alert raised.
        "procrastinate.periodic": {"level": "WARNING"},
        "procrastinate.jobs": {"level": "WARNING"},
    },
}
