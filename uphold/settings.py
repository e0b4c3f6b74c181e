"""Every setting of Uphold, read from the environment, each with a documented safe default.

docs/deploy.md lists every UPHOLD_* variable read here; a test fails when one is missing there.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole number within its bounds; anything else stops the start with one sentence."""
    text = env(name, str(default)).strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        upto = f" to {maximum}" if maximum is not None else " or more"
        raise ImproperlyConfigured(
            f"{name} must be a whole number from {minimum}{upto}, not {text!r}."
        )
    return number


# production (the default: safe), demo (local look-around on 127.0.0.1) or test.
UPHOLD_MODE = env("UPHOLD_MODE", "production")
if UPHOLD_MODE not in {"production", "demo", "test"}:
    raise SystemExit(f"UPHOLD_MODE must be production, demo or test, not {UPHOLD_MODE!r}")
PRODUCTION = UPHOLD_MODE == "production"
DEMO = UPHOLD_MODE == "demo"

DATA_DIR = Path(env("UPHOLD_DATA_DIR", str(Path.cwd() / "data"))).resolve()
try:
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    DATA_DIR.chmod(0o700)
except OSError as error:
    raise ImproperlyConfigured(
        f"The data folder {DATA_DIR} (UPHOLD_DATA_DIR) cannot be made or used: "
        f"{error.strerror or error}."
    ) from None


def _secret_key() -> str:
    """The key lives in the data folder, made on first start, readable by the owner only."""
    path = DATA_DIR / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by another process starting at the same moment
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(64))
    path.chmod(0o600)
    return path.read_text().strip()


try:
    SECRET_KEY = _secret_key()
except OSError as error:
    raise ImproperlyConfigured(
        f"The secret key in {DATA_DIR} cannot be made or read: {error.strerror or error}."
    ) from None
DEBUG = env_bool("UPHOLD_DEBUG", False) and not PRODUCTION

if DEMO:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
elif PRODUCTION:
    ALLOWED_HOSTS = [h for h in env("UPHOLD_ALLOWED_HOSTS", "").split(",") if h]
else:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "uphold.web",
    "uphold.accounts",
    "uphold.processes",
    "uphold.crypto",
    "uphold.audit",
    "uphold.attachments",
    "uphold.demands",
    "uphold.record",
    "uphold.people",
    "uphold.reflections",
    "uphold.programmes",
    "uphold.reports",
    "uphold.portal",
    "uphold.survivor",
    "uphold.mailin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "uphold.lib.middleware.no_store",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "uphold.crypto.sessions.middleware",
    "uphold.lib.middleware.session_limits",
    "uphold.lib.middleware.member_time_zone",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "uphold.urls"
WSGI_APPLICATION = "uphold.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "uphold.web.context.shell",
            ],
        },
    },
]

# Widgets are written in Python (uphold/web/widgets.py): the same markup, without a template
# for every option of a list.
FORM_RENDERER = "uphold.web.widgets.Renderer"

# Storage: SQLite in the data folder by default (WAL, fully synchronous, files 0600),
# PostgreSQL by URL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'uphold.sqlite3'}"), conn_max_age=60
    )
}


def _private_sqlite(name: str) -> None:
    """A database file (or its -wal or -shm) that others could read is made private. A new one
    is made private from the start by Uphold's SQLite backend (uphold/lib/sqlite/base.py)."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except FileNotFoundError:
            continue
        except PermissionError:
            raise SystemExit(f"{file} is readable by others and not ours: chmod 600 it") from None


if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _private_sqlite(str(DATABASES["default"]["NAME"]))
    DATABASES["default"]["ENGINE"] = "uphold.lib.sqlite"
    # Tests run on an in-memory database, as Django does for its own SQLite backend; said
    # outright because tools that look for that backend by name (pytest-django's per-worker
    # names) do not recognise this one.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# One setting chooses cheap Argon2 for tests; production keeps the library's strong defaults.
UPHOLD_ARGON2_PROFILE = env("UPHOLD_ARGON2_PROFILE", "production")
if UPHOLD_ARGON2_PROFILE not in {"production", "test"}:
    raise SystemExit("UPHOLD_ARGON2_PROFILE must be production or test")
PASSWORD_HASHERS = [
    "uphold.accounts.hashers.CheapArgon2PasswordHasher"
    if UPHOLD_ARGON2_PROFILE == "test"
    else "django.contrib.auth.hashers.Argon2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Sessions: an idle timeout (every request renews it) and an absolute one from login.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("UPHOLD_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
UPHOLD_SESSION_ABSOLUTE = timedelta(hours=env_int("UPHOLD_SESSION_ABSOLUTE_HOURS", 12))
UPHOLD_REAUTH_MINUTES = env_int("UPHOLD_REAUTH_MINUTES", 10)
UPHOLD_INVITE_DAYS = env_int("UPHOLD_INVITE_DAYS", 7)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
# The language cookie says which language a member reads: no script reads it, and no other
# site needs it (the login view sets it with these settings too).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "uphold.web.views.csrf_failure"

# Login throttling: ten failures lock that account only (not the address, not everyone).
AXES_FAILURE_LIMIT = 10
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = timedelta(hours=env_int("UPHOLD_LOCKOUT_HOURS", 1))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# axes.W006 asks to add the address to the lock. Locking by address as well would let anyone
# on a shared connection (a social centre's Wi-Fi) lock out everyone else there; the issue's
# rule is that only the attacked account is locked, which no rotation of agent or cookie evades.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

OTP_TOTP_ISSUER = "Uphold"

# Security headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts,
# which CSRF protection must refuse. Nothing is sent to another host either way.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
UPHOLD_LEAVE_URL = env("UPHOLD_LEAVE_URL", "https://www.wikipedia.org/")
_leave_origin = "/".join(UPHOLD_LEAVE_URL.split("/")[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'", _leave_origin],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("UPHOLD_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("UPHOLD_HSTS_SECONDS", 63072000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_NAME = "__Host-language"
    if env_bool("UPHOLD_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Languages: English and German from the start.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
FORMAT_MODULE_PATH = ["uphold.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env("UPHOLD_TIME_ZONE", "Europe/Berlin")
USE_TZ = True

STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPHOLD_ATTACHMENT_MAX_MB = env_int("UPHOLD_ATTACHMENT_MAX_MB", 200)
# The largest mail file (an .mbox, or one .eml) a member may upload to import.
UPHOLD_MAIL_MAX_MB = env_int("UPHOLD_MAIL_MAX_MB", 500)
# Seconds an IMAP server may take to answer during "Fetch now".
UPHOLD_IMAP_TIMEOUT = env_int("UPHOLD_IMAP_TIMEOUT", 30)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_HOST = env("UPHOLD_SMTP_HOST", "127.0.0.1")
# The demo's mail catcher: each message an .eml file in the data folder, so a newcomer reads
# what would go out. An SMTP host the admin names explicitly still wins.
DEMO_MAIL_DIR = DATA_DIR / "demo-mail"
if DEMO and "UPHOLD_SMTP_HOST" not in os.environ:
    EMAIL_BACKEND = "uphold.lib.mailcatcher.EmailBackend"
    EMAIL_FILE_PATH = str(DEMO_MAIL_DIR)
EMAIL_PORT = env_int("UPHOLD_SMTP_PORT", 25, maximum=65535)
DEFAULT_FROM_EMAIL = env("UPHOLD_FROM_EMAIL", "uphold@localhost")
# A worker killed while sending a reminder holds it this long; then another worker sends it.
UPHOLD_REMINDER_LEASE_SECONDS = env_int("UPHOLD_REMINDER_LEASE_SECONDS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "uphold.security": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
