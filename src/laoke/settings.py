"""Laoke settings: everything that differs between machines comes from the environment.

Environment variables (all optional on a laptop):

- ``LAOKE_DATA_DIR``  where the SQLite database, the Huey queue, static files, exports and the
  generated secret key live (default ``./var``).
- ``DATABASE_URL``    e.g. ``postgresql://user@host:5432/laoke``; default SQLite in the data dir.
- ``REDIS_URL``       Huey on Redis (several worker machines); default Huey on SQLite.
- ``SECRET_KEY``      required when ``LAOKE_ENV=production``; otherwise generated once per data dir.
- ``TIME_ZONE``       shop time zone for display and business days (default ``Asia/Shanghai``).
- ``LAOKE_ENV``       ``production`` turns on HTTPS-only cookies, HSTS and the SSL redirect.
- ``LAOKE_DEBUG``     ``1`` for Django's debug pages (never in production).
- ``ALLOWED_HOSTS``   comma separated (default ``localhost,127.0.0.1,[::1]``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("LAOKE_DATA_DIR") or Path.cwd() / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = os.environ.get("LAOKE_ENV", "").lower() == "production"
DEBUG = os.environ.get("LAOKE_DEBUG", "") == "1" and not PRODUCTION
TESTING = os.environ.get("LAOKE_TESTING", "") == "1"


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if PRODUCTION:
        if not key:
            raise RuntimeError("SECRET_KEY must be set in the environment when LAOKE_ENV=production")
        # Django's own bar for a strong key (check --deploy, security.W009), enforced at start.
        if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
            raise RuntimeError(
                "SECRET_KEY is too weak for production: at least 50 random characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
            )
        return key
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",  # serves Swagger UI from its own static files (without it /api/v1/docs loads a CDN)
    "laoke.core",
    "laoke.members",
    "laoke.catalog",
    "laoke.ledger",
    "laoke.messaging",
    "laoke.stats",
    "laoke.tiers",
    "laoke.points",
    "laoke.cards",
    "laoke.promotions",
    "laoke.payments",
    "laoke.flash",
    "laoke.referrals",
    "laoke.shipping",
    "laoke.orders",
    "laoke.segments",
    "laoke.channels",
    "laoke.campaigns",
    "laoke.analytics",
    "laoke.service",
    "laoke.events",
    "laoke.holidays",
    "laoke.b2b",
    "laoke.staff",
    "laoke.imports",
    "laoke.portal",
    "laoke.ops",
    "laoke.console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "laoke.core.security.SecurityHeadersMiddleware",  # CSP (nonce) and Permissions-Policy
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "laoke.core.middleware.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "laoke.core.middleware.RequestContextMiddleware",
    # A read-only, full or unreachable database answers 503 with a stable code (console pages;
    # the API maps the same errors in its own handler) — docs/decisions/0041-failure-drills.md.
    "laoke.core.storage_errors.StorageErrorMiddleware",
]

ROOT_URLCONF = "laoke.urls"
WSGI_APPLICATION = "laoke.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "OPTIONS": {
            # The loaders put the request's CSP nonce on the template files' own <script> tags
            # (laoke.core.security); cached as Django's default loaders are.
            "loaders": [
                (
                    "django.template.loaders.cached.Loader",
                    [
                        "laoke.core.security.NonceFilesystemLoader",
                        "laoke.core.security.NonceAppDirectoriesLoader",
                    ],
                )
            ],
            "context_processors": [
                "django.template.context_processors.request",
                "laoke.core.security.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
# SQLite: WAL so readers never block the writer, IMMEDIATE so a write transaction takes the write
# lock when it begins (no lock upgrade deadlocks), and a generous busy timeout (ARCHITECTURE rule 3).
SQLITE_PATH = DATA_DIR / "laoke.sqlite3"
_db_url = os.environ.get("DATABASE_URL", "")
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH)}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        # A 64 MB page cache (the default is 8 MB): bulk jobs insert into indexes far bigger than that.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA cache_size=-65536;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("LAOKE_TEST_SQLITE") or None}
else:
    DATABASES["default"].setdefault("TEST", {})
    if os.environ.get("LAOKE_TEST_DB_NAME"):
        DATABASES["default"]["TEST"]["NAME"] = os.environ["LAOKE_TEST_DB_NAME"]
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work --------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "laoke",
        "url": REDIS_URL,
        "immediate": TESTING,
        "consumer": {"workers": 4, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "laoke",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": TESTING,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "admin:login"
# unfold's login form carries no hidden "next": signing in at a bare /admin/login/ lands here.
LOGIN_REDIRECT_URL = "admin:index"
AUTHENTICATION_BACKENDS = ["laoke.core.auth.ThrottledModelBackend"]
# Console login throttling: failures per username and per IP in a rolling window (DB-backed).
# Per IP the limit is higher: a shop's tills often share one address.
LAOKE_LOGIN_MAX_FAILURES = int(os.environ.get("LAOKE_LOGIN_MAX_FAILURES", "5"))
LAOKE_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("LAOKE_LOGIN_MAX_FAILURES_PER_IP", "50"))
LAOKE_LOGIN_WINDOW_SECONDS = int(os.environ.get("LAOKE_LOGIN_WINDOW_SECONDS", "900"))

# --- i18n and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Where members reach the H5 pages (QR codes of shareable coupons point there).
LAOKE_PUBLIC_URL = os.environ.get("LAOKE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "laoke.core.staticfiles.PlotlyFinder",  # plotly.js from the installed package, no CDN
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"
EXPORT_DIR = DATA_DIR / "exports"

# --- security (docs/decisions/0042-security-pass.md) ----------------------------------------------
# Cookies: HttpOnly and SameSite=Lax everywhere, Secure in production (the member cookie of the
# H5 pages follows SESSION_COOKIE_SECURE too: laoke.portal.api).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy in every environment (tests and dev see violations as production would);
# the policies by path are in laoke.core.security. LAOKE_CSP_REPORT_ONLY=1 only reports (a stopgap
# when a new page needs a source: fix the page or the policy, then turn it off again).
LAOKE_CSP_REPORT_ONLY = os.environ.get("LAOKE_CSP_REPORT_ONLY", "") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = PRODUCTION
if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("LAOKE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]  # load balancers probe over plain HTTP

# --- logging: JSON lines, mobiles masked, PINs and secrets dropped -----------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"pii": {"()": "laoke.core.logging.PiiFilter"}},
    "formatters": {"json": {"()": "laoke.core.logging.JsonLinesFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["pii"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LAOKE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # run_huey adds its own plain-text handler to "huey" unless the logger has one: ours only.
        "huey": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}

# --- Laoke ------------------------------------------------------------------------------------
LAOKE = {
    # Messaging: which provider sends each channel (dotted paths). The console/file provider writes
    # JSON lines under DATA_DIR/outbox and is the embedded default. SMS: e.g.
    # LAOKE_SMS_PROVIDER=laoke.channels.sms_providers.AliyunSmsProvider (or TencentSmsProvider,
    # HttpGatewayProvider), configured by LAOKE["SMS"] below (docs/decisions/0025-sms-transport.md).
    "MESSAGING_PROVIDERS": {
        "sms": os.environ.get("LAOKE_SMS_PROVIDER", "laoke.messaging.providers.FileProvider"),
        "email": os.environ.get("LAOKE_EMAIL_PROVIDER", "laoke.messaging.providers.FileProvider"),
        "webhook": os.environ.get("LAOKE_WEBHOOK_PROVIDER", "laoke.messaging.providers.FileProvider"),
    },
    "MESSAGING_LEASE_SECONDS": 120,
    "MESSAGING_BATCH_SIZE": 200,
    "MESSAGING_MAX_ATTEMPTS": 5,
    "IDEMPOTENCY_LEASE_SECONDS": 60,
    # Stored value: a wallet falling below this (fen) gets one reminder (seed 003 preset: 20元).
    "LOW_BALANCE_THRESHOLD_FEN": int(os.environ.get("LAOKE_LOW_BALANCE_FEN", "2000")),
    # Prepaid card PINs: scrypt at about 20 ms per check on one core (docs/decisions/0014-cards.md);
    # wrong PINs per IP and per member within an hour before further recharges are refused.
    "CARD_PIN_SCRYPT": {"n": 2**13, "r": 8, "p": 1},
    "CARD_PIN_FAILURES_PER_IP": 30,
    "CARD_PIN_FAILURES_PER_MEMBER": 10,
}

# --- channels: SMS providers (docs/decisions/0025-sms-transport.md) ------------------------------
# Explicit credentials only (never an SDK's default credential chain); endpoint and protocol are
# configurable so tests and demos talk to the local fake (python -m laoke.channels.fake_sms).
# Windows: "seconds:limit,…" per number and signature (Aliyun's defaults: 1/min, 5/h, 10/day).
LAOKE["SMS"] = {
    "sign_name": os.environ.get("LAOKE_SMS_SIGN_NAME", "老客"),
    # Aliyun / Tencent send by template: a message without its own template code goes out with the
    # generic template of its kind, whose only parameter is the rendered text.
    "template_marketing": os.environ.get("LAOKE_SMS_TEMPLATE_MARKETING", ""),
    "template_transactional": os.environ.get("LAOKE_SMS_TEMPLATE_TRANSACTIONAL", ""),
    "template_param": os.environ.get("LAOKE_SMS_TEMPLATE_PARAM", "content"),
    "callback_secret": os.environ.get("LAOKE_SMS_CALLBACK_SECRET", ""),
    "connect_timeout": float(os.environ.get("LAOKE_SMS_CONNECT_TIMEOUT", "5")),
    "read_timeout": float(os.environ.get("LAOKE_SMS_READ_TIMEOUT", "10")),
    "rate_per_minute": int(os.environ.get("LAOKE_SMS_RATE_PER_MINUTE", "0")) or None,
    "windows": [
        (int(w.split(":")[0]), int(w.split(":")[1]))
        for w in os.environ.get("LAOKE_SMS_WINDOWS", "60:1,3600:5,86400:10").split(",")
        if ":" in w
    ],
    "aliyun": {
        "access_key_id": os.environ.get("LAOKE_ALIYUN_ACCESS_KEY_ID", ""),
        "access_key_secret": os.environ.get("LAOKE_ALIYUN_ACCESS_KEY_SECRET", ""),
        "endpoint": os.environ.get("LAOKE_ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
        "protocol": os.environ.get("LAOKE_ALIYUN_SMS_PROTOCOL", "https"),
        "region": os.environ.get("LAOKE_ALIYUN_SMS_REGION", "cn-hangzhou"),
    },
    "tencent": {
        "secret_id": os.environ.get("LAOKE_TENCENT_SECRET_ID", ""),
        "secret_key": os.environ.get("LAOKE_TENCENT_SECRET_KEY", ""),
        "sdk_app_id": os.environ.get("LAOKE_TENCENT_SMS_APP_ID", ""),
        "endpoint": os.environ.get("LAOKE_TENCENT_SMS_ENDPOINT", "sms.tencentcloudapi.com"),
        "protocol": os.environ.get("LAOKE_TENCENT_SMS_PROTOCOL", "https"),
        "region": os.environ.get("LAOKE_TENCENT_SMS_REGION", "ap-guangzhou"),
    },
    "gateway": {
        "url": os.environ.get("LAOKE_SMS_GATEWAY_URL", ""),
        "secret": os.environ.get("LAOKE_SMS_GATEWAY_SECRET", ""),
    },
}

# --- channels: email over SMTP and outgoing webhooks (docs/decisions/0023-channels-content.md) ---
# LAOKE_SMTP_HOST switches the email channel from the file provider to SMTP; LAOKE_WEBHOOK_URL
# does the same for the webhook channel. Django's own EMAIL_* (password resets) use the same server.
LAOKE["EMAIL"] = {
    "host": os.environ.get("LAOKE_SMTP_HOST", ""),
    "port": int(os.environ.get("LAOKE_SMTP_PORT", "587")),
    "user": os.environ.get("LAOKE_SMTP_USER", ""),
    "password": os.environ.get("LAOKE_SMTP_PASSWORD", ""),
    "security": os.environ.get("LAOKE_SMTP_SECURITY", "starttls"),  # starttls | ssl | none
    "from": os.environ.get("LAOKE_MAIL_FROM", "noreply@localhost"),
    "unsubscribe_mailto": os.environ.get("LAOKE_UNSUBSCRIBE_MAILTO", ""),  # default: the From address
    "timeout": float(os.environ.get("LAOKE_SMTP_TIMEOUT", "20")),
    "rate_per_minute": int(os.environ.get("LAOKE_SMTP_RATE_PER_MINUTE", "0")) or None,
}
LAOKE["WEBHOOK"] = {
    "url": os.environ.get("LAOKE_WEBHOOK_URL", ""),
    "secret": os.environ.get("LAOKE_WEBHOOK_SECRET", ""),
    "timeout": float(os.environ.get("LAOKE_WEBHOOK_TIMEOUT", "10")),
    "rate_per_minute": int(os.environ.get("LAOKE_WEBHOOK_RATE_PER_MINUTE", "0")) or None,
}
if LAOKE["EMAIL"]["host"]:
    LAOKE["MESSAGING_PROVIDERS"]["email"] = "laoke.channels.email_provider.SmtpEmailProvider"
if LAOKE["WEBHOOK"]["url"]:
    LAOKE["MESSAGING_PROVIDERS"]["webhook"] = "laoke.channels.webhook_provider.WebhookProvider"
EMAIL_HOST = LAOKE["EMAIL"]["host"] or "localhost"
EMAIL_PORT = LAOKE["EMAIL"]["port"]
EMAIL_HOST_USER = LAOKE["EMAIL"]["user"]
EMAIL_HOST_PASSWORD = LAOKE["EMAIL"]["password"]
EMAIL_USE_TLS = LAOKE["EMAIL"]["security"] == "starttls"
EMAIL_USE_SSL = LAOKE["EMAIL"]["security"] == "ssl"
EMAIL_TIMEOUT = LAOKE["EMAIL"]["timeout"]
DEFAULT_FROM_EMAIL = SERVER_EMAIL = LAOKE["EMAIL"]["from"]

# --- backups (laoke.ops.backup; docs/operations.md) ------------------------------------------
LAOKE["BACKUP"] = {
    "dir": Path(os.environ.get("LAOKE_BACKUP_DIR") or DATA_DIR / "backups"),
    "hour": int(os.environ.get("LAOKE_BACKUP_HOUR", "3")),  # the daily backup's hour, shop time
    "keep_daily": int(os.environ.get("LAOKE_BACKUP_KEEP_DAILY", "7")),
    "keep_weekly": int(os.environ.get("LAOKE_BACKUP_KEEP_WEEKLY", "4")),
    "keep_monthly": int(os.environ.get("LAOKE_BACKUP_KEEP_MONTHLY", "12")),
}
# --- monitoring (laoke.ops: /healthz, /metrics) -----------------------------------------------
# /metrics answers only with `Authorization: Bearer <LAOKE_METRICS_TOKEN>` when the token is set
# (it must be set in production); without one it answers loopback clients only.
LAOKE["METRICS_TOKEN"] = os.environ.get("LAOKE_METRICS_TOKEN", "")
LAOKE["HEALTH_MIN_FREE_MB"] = int(os.environ.get("LAOKE_HEALTH_MIN_FREE_MB", "512"))  # /healthz disk check

from laoke.unfold_settings import UNFOLD  # noqa: E402,F401  (console look and navigation)
