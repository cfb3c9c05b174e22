"""Settings, read from the environment with safe development defaults.

DATABASE_URL  database (default: SQLite file db.sqlite3 beside manage.py)
SECRET_KEY    required when DEBUG is off
DEBUG         "1"/"true" to enable (default: on, for development)
ALLOWED_HOSTS comma-separated host names
STATIC_ROOT   where collectstatic gathers the static files (default: staticfiles/)

In production (DEBUG off), see the "Security" section below: HTTPS, HSTS, secure cookies,
REVERSE_PROXY for a reverse proxy that terminates TLS, session inactivity, login throttling.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY doit être défini dans l'environnement lorsque DEBUG est désactivé."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

# The project's own applications, lowest layer first (import-linter holds the layers:
# pyproject.toml); the Administrateur role manages every model of these (comptes.roles).
LOCAL_APPS = ["comptes", "diagnostics", "indicateurs", "rapports"]

INSTALLED_APPS = [
    # Django's admin, on a site that only the Administrateur role may enter.
    "comptes.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "import_export",
    "simple_history",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    *LOCAL_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "contrat_ville.middleware.RequestBodyLimitMiddleware",  # before the CSRF check reads POST
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "comptes.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "contrat_ville.urls"
WSGI_APPLICATION = "contrat_ville.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr-fr"
# French only: LocaleMiddleware must not switch to a browser's language.
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
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
MEDIA_ROOT = BASE_DIR / "media"
# The files uploaded with the annual reports (signed opinions): outside the web root, served
# only to the contract's members by their page (rapports.stockage).
RAPPORTS_FICHIERS_ROOT = Path(os.environ.get("RAPPORTS_FICHIERS_ROOT", BASE_DIR / "prive"))
# The largest signed opinion accepted (bytes; rapports.fichiers): its page accepts a request
# body of this size on top of REQUEST_MAX_BODY_SIZE (contrat_ville.middleware).
RAPPORTS_FICHIER_MAX = env_int("RAPPORTS_FICHIER_MAX", 10 * 1024 * 1024)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "contrat-ville@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The SMTP server of the password reset emails (production).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# An invitation to a contract (its e-mailed link) expires after this many seconds.
INVITATION_VALIDITY = env_int("INVITATION_VALIDITY", 14 * 24 * 3600)
# The site's address, for the links of e-mails sent outside a request (commands).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The address given in the accessibility statement (templates/accessibilite.html).
ACCESSIBILITE_CONTACT_EMAIL = os.environ.get("ACCESSIBILITE_CONTACT_EMAIL", DEFAULT_FROM_EMAIL)

# Every request body is refused beyond this size (bytes), before it is read
# (contrat_ville.middleware); the import screen accepts its largest file on top of it.
REQUEST_MAX_BODY_SIZE = env_int("REQUEST_MAX_BODY_SIZE", 3 * 1024 * 1024)

# Limits on imported files (see diagnostics.imports).
IMPORT_MAX_FILE_SIZE = env_int("IMPORT_MAX_FILE_SIZE", 10 * 1024 * 1024)  # bytes
IMPORT_MAX_CELL_LENGTH = env_int("IMPORT_MAX_CELL_LENGTH", 10_000)  # characters
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000)
# A workbook (.xlsx, a zip of XML) is checked before it is unpacked: its declared
# uncompressed size (also capped at ten times the file size limit), each part's
# compression ratio (parts over 1 MB), its number of parts, and for a diagnostic table
# its rows and the cells its merged ranges cover (openpyxl creates an object for each).
IMPORT_MAX_XLSX_UNCOMPRESSED_SIZE = env_int("IMPORT_MAX_XLSX_UNCOMPRESSED_SIZE", 200 * 1024 * 1024)
IMPORT_MAX_XLSX_COMPRESSION_RATIO = env_int("IMPORT_MAX_XLSX_COMPRESSION_RATIO", 100)
IMPORT_MAX_XLSX_PARTS = env_int("IMPORT_MAX_XLSX_PARTS", 1_000)
IMPORT_MAX_MERGED_CELLS = env_int("IMPORT_MAX_MERGED_CELLS", 100_000)
# A file uploaded on the import screens waits this long (seconds) for its confirmation.
IMPORT_PENDING_TTL = env_int("IMPORT_PENDING_TTL", 60 * 60)
# Files of indicator values (indicateurs.imports): larger, read faster (bench/README.md).
IMPORT_MESURES_MAX_FILE_SIZE = env_int("IMPORT_MESURES_MAX_FILE_SIZE", 30 * 1024 * 1024)
IMPORT_MESURES_MAX_ROWS = env_int("IMPORT_MESURES_MAX_ROWS", 200_000)
# The QPV référentiel (diagnostics.quartiers.referentiel): the national GeoJSON of the ANCT
# weighs 30 to 60 Mo.
REFERENTIEL_MAX_FILE_SIZE = env_int("REFERENTIEL_MAX_FILE_SIZE", 100 * 1024 * 1024)

# Secret statistique (indicateurs.secret): for an indicator that counts people, a value
# under this threshold is shown to partners as "< 5", never as the number.
SECRET_STATISTIQUE_SEUIL = env_int("SECRET_STATISTIQUE_SEUIL", 5)

# django-import-export: these codes ("diagnostics.import_pilier"...) exist only where a
# model declares them, so no role may import or export through the admin by default.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Security -------------------------------------------------------------------------------
# Every response carries these headers (SecurityMiddleware, XFrameOptionsMiddleware,
# CSPMiddleware); `manage.py check --deploy` reports nothing with DEBUG off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# HTTPS, on by default when DEBUG is off. Behind a reverse proxy that terminates TLS
# (REVERSE_PROXY=1), the proxy must set X-Forwarded-Proto (and X-Forwarded-For, read by
# the login throttling) and strip them from what clients send.
REVERSE_PROXY = env_bool("REVERSE_PROXY", False)
if REVERSE_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)  # one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script of the site reads the CSRF token
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Content Security Policy (django-csp): only the site's own files, no inline script or
# style, no eval. An inline script, if one is ever needed, carries nonce="{{ CSP_NONCE }}".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sessions end after this many seconds without activity (comptes.middleware refreshes
# the expiry of an active session at most every SESSION_ACTIVITY_REFRESH seconds).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 2 * 60 * 60)
SESSION_ACTIVITY_REFRESH = 5 * 60

# Login throttling (comptes.throttling): after this many failures within the window, for
# one account or from one address, the login form refuses to check passwords until the
# failures leave the window or an administrator unlocks ("Débloquer" in the admin).
# Many city employees may share one public address: its limit is higher.
LOGIN_FAILURE_LIMIT_PER_ACCOUNT = env_int("LOGIN_FAILURE_LIMIT_PER_ACCOUNT", 5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)  # seconds

# Second factor (django-otp) -------------------------------------------------------------
# A password login of a user who needs it asks, after the password, a code of an
# authenticator app (TOTP) or a single-use recovery code (comptes.second_factor). Needs it:
# every national administrator (active superuser) and whoever this function (a dotted
# path, user -> bool) says: the Administrateurs of a contract. ProConnect logins do not.
SECOND_FACTOR_REQUIRED = "diagnostics.access.administers_somewhere"
# Seconds between the right password and the second factor (or its setting up).
SECOND_FACTOR_PENDING_TTL = env_int("SECOND_FACTOR_PENDING_TTL", 5 * 60)
# The account's name in the authenticator app.
OTP_TOTP_ISSUER = "Contrat de ville"
# The admin never shows a device's secret key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# End of: second factor (django-otp) -------------------------------------------------------

# ProConnect (OpenID Connect) ------------------------------------------------------------
# Login with ProConnect (comptes.proconnect, mozilla-django-oidc) when these three are set
# (README: « Connexion avec ProConnect »); otherwise no button and /oidc/ answers 404.
# The endpoints come from the discovery document, read when first needed, never at start.
PROCONNECT_CLIENT_ID = os.environ.get("PROCONNECT_CLIENT_ID", "")
PROCONNECT_CLIENT_SECRET = os.environ.get("PROCONNECT_CLIENT_SECRET", "")
PROCONNECT_DISCOVERY_URL = os.environ.get("PROCONNECT_DISCOVERY_URL", "")
PROCONNECT_SCOPES = os.environ.get(
    "PROCONNECT_SCOPES", "openid email given_name usual_name siret uid"
)
# The algorithm chosen when registering with ProConnect (RS256, ES256 or HS256).
PROCONNECT_SIGN_ALGO = os.environ.get("PROCONNECT_SIGN_ALGO", "RS256")
PROCONNECT_TIMEOUT = env_int("PROCONNECT_TIMEOUT", 10)  # seconds, each call to ProConnect
PROCONNECT_CLOCK_LEEWAY = env_int("PROCONNECT_CLOCK_LEEWAY", 30)  # seconds, token dates
# Who gets an account on a first ProConnect login (a dotted path, e-mail -> bool): those
# with a usable invitation. Others see a refusal; no account is created.
PROCONNECT_ACCOUNT_POLICY = "diagnostics.membres.has_pending_invitation"
# Password login first (throttled, comptes.forms), then ProConnect.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "comptes.proconnect.ProConnectBackend",
]
OIDC_STORE_ID_TOKEN = True  # for the logout at ProConnect (id_token_hint)
LOGIN_REDIRECT_URL_FAILURE = "/oidc/echec/"  # the failure page (proconnect_echec)
# The Content Security Policy needs nothing more: the ProConnect button is a link, and
# the logout reaches ProConnect from a page of ours, not by redirecting the logout form
# (Chromium would check every redirection that follows against form-action).
# End of: ProConnect (OpenID Connect) ----------------------------------------------------
