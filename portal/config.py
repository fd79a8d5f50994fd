"""Configuration from the environment (see docs/configuration.md and shared CONTRACT)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SANDBOX_KEY_ID = "rzp_test_SandboxKey0001"
SANDBOX_KEY_SECRET = "sandbox_key_secret_not_for_production"  # noqa: S105 (public sandbox-only value)
SANDBOX_WEBHOOK_SECRET = "sandbox_webhook_secret"  # noqa: S105 (public sandbox-only value)
WEAK_SECRET_KEYS = {"", "dev", "change-me", "changeme", "secret", "development"}


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None


def env_currency(name: str, default: str) -> str:
    value = (os.environ.get(name) or default).strip().upper()
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise RuntimeError(f"{name} must be an ISO 4217 code such as INR, not {value!r}")
    return value


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {value!r}") from None


def env_timezone(name: str, default: str) -> str:
    """An IANA zone name the zone database knows (Asia/Kolkata, Europe/London, UTC); refuse anything else."""
    from portal.timeutil import zone_named

    value = (os.environ.get(name) or "").strip() or default
    try:
        zone_named(value)
    except ValueError:
        raise RuntimeError(f"{name} must be an IANA time zone such as Asia/Kolkata, not {value!r}") from None
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).strip().lower()
    if value not in choices:
        raise RuntimeError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def normalise_database_url(url: str) -> str:
    """Heroku-style `postgres://` URLs and bare `postgresql://` use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def normalise_gateway_base_url(url: str) -> str:
    """The API host the SDK wants: no trailing `/` and no `/v1`, because the SDK (≥ 1.4.1) already starts
    every path with `/v1` — a base ending in `/v1` would send every call to `/v1/v1/…`, which Razorpay
    answers 400. Anything but an http(s) URL refuses to start, naming the variable."""
    url = (url or "").strip().rstrip("/")
    while url.lower().endswith("/v1"):
        url = url[: -len("/v1")].rstrip("/")
    if url and not url.lower().startswith(("http://", "https://")):
        raise RuntimeError(f"RAZORPAY_BASE_URL must be an http(s) URL such as https://api.razorpay.com, not {url!r}")
    return url


class Config:
    ENV_NAME = "development"
    TESTING = False
    SQLALCHEMY_DATABASE_URI: str | None = None  # resolved in load_config
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # tied to the session, which already expires
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Failed sign-ins only (portal and API), in a moving window: see portal/auth/throttle.py.
    LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_FAILURES_PER_ADDRESS = "50 per 15 minutes"
    API_RATE_LIMIT = "120 per minute"
    API_TOKEN_TTL_HOURS = 24 * 30
    # Per-process cache of token look-ups, used only with REDIS_URL (its revocation marker): portal/auth/token_cache.py
    API_TOKEN_CACHE_SECONDS = 30
    SANDBOX_WEBHOOK_SYNC = False  # deliver sandbox webhooks inline (tests) instead of in a thread
    JOBS_IMMEDIATE = False  # run each background job where it is enqueued (tests), not on a worker


class DevelopmentConfig(Config):
    pass


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True
    SANDBOX_WEBHOOK_SYNC = True
    JOBS_IMMEDIATE = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class_from_env() -> type[Config]:
    return CONFIGS.get(os.environ.get("APP_ENV", "development").lower(), DevelopmentConfig)


def load_config(app, config_class: type[Config]) -> None:
    """Apply the class defaults, then everything the environment says."""
    app.config.from_object(config_class)
    env = os.environ
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    default_db = f"sqlite:///{instance / 'portal.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        env.get("DATABASE_URL") or config_class.SQLALCHEMY_DATABASE_URI or default_db
    )
    app.config["SECRET_KEY"] = _secret_key(config_class, instance)
    gateway = env.get("PAYMENT_GATEWAY", "sandbox").strip().lower()
    if gateway not in {"sandbox", "razorpay"}:
        raise RuntimeError(f"PAYMENT_GATEWAY must be 'sandbox' or 'razorpay', not {gateway!r}")
    sandbox = gateway == "sandbox"
    app.config.update(
        PAYMENT_GATEWAY=gateway,
        RAZORPAY_KEY_ID=env.get("RAZORPAY_KEY_ID") or (SANDBOX_KEY_ID if sandbox else ""),
        RAZORPAY_KEY_SECRET=env.get("RAZORPAY_KEY_SECRET") or (SANDBOX_KEY_SECRET if sandbox else ""),
        RAZORPAY_WEBHOOK_SECRET=env.get("RAZORPAY_WEBHOOK_SECRET") or (SANDBOX_WEBHOOK_SECRET if sandbox else ""),
        RAZORPAY_BASE_URL=normalise_gateway_base_url(
            env.get("RAZORPAY_BASE_URL") or ("" if sandbox else "https://api.razorpay.com")
        ),
        PUBLIC_BASE_URL=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        ORDER_PAYMENT_TTL_MINUTES=env_int("ORDER_PAYMENT_TTL_MINUTES", 1440),
        # A checkout's stock reservations lapse after this (portal/stock); the checkout expires with them.
        RESERVATION_TTL_MINUTES=env_int("RESERVATION_TTL_MINUTES", 30),
        # New orders' capture mode (Razorpay's payment_capture): auto, or manual for finance's Capture action.
        PAYMENT_CAPTURE=env_choice("PAYMENT_CAPTURE", "auto", ("auto", "manual")),
        DEFAULT_CURRENCY=env_currency("DEFAULT_CURRENCY", "INR"),
        AUTO_REFUND_LATE_PAYMENTS=env_flag("AUTO_REFUND_LATE_PAYMENTS", True),
        AUTO_INVOICE=env_flag("AUTO_INVOICE", True),
        SELLER_NAME=env.get("SELLER_NAME") or "Demo Learning Pvt Ltd",
        SELLER_ADDRESS=env.get("SELLER_ADDRESS") or "12 MG Road, Bengaluru 560001, Karnataka",
        SELLER_GSTIN=env.get("SELLER_GSTIN") or "29ABCDE1234F1Z5",
        SELLER_STATE=env.get("SELLER_STATE") or "Karnataka",
        INVOICE_PREFIX=env.get("INVOICE_PREFIX") or "INV",
        CREDIT_NOTE_PREFIX=env.get("CREDIT_NOTE_PREFIX") or "CN",
        INVOICE_FONT_DIR=env.get("INVOICE_FONT_DIR") or None,
        REDIS_URL=env.get("REDIS_URL") or "",
        GATEWAY_TIMEOUT_SECONDS=env_float("GATEWAY_TIMEOUT_SECONDS", 10.0),
        GATEWAY_RETRIES=env_int("GATEWAY_RETRIES", 2),
        GATEWAY_RETRY_BACKOFF_SECONDS=env_float("GATEWAY_RETRY_BACKOFF_SECONDS", 0.2),
        SANDBOX_DATABASE_URL=normalise_database_url(
            env.get("SANDBOX_DATABASE_URL") or f"sqlite:///{instance / 'sandbox.sqlite'}"
        ),
        SANDBOX_WEBHOOK_URL=env.get("SANDBOX_WEBHOOK_URL") or "",
        # inline: apply each webhook before answering (tests); queue: answer once stored, a jobs worker applies it.
        WEBHOOK_PROCESSING=env.get("WEBHOOK_PROCESSING") or ("inline" if config_class.TESTING else "queue"),
        TRUSTED_PROXIES=env_int("TRUSTED_PROXIES", 0),
        TIMEZONE=env_timezone("TIMEZONE", "Asia/Kolkata"),
        # Background jobs (portal/jobs): Huey's storage, a SQLite file in the instance folder by default.
        JOBS_BACKEND=(env.get("JOBS_BACKEND") or "").strip() or default_jobs_backend(app.instance_path),
        JOBS_IMMEDIATE=env_flag("JOBS_IMMEDIATE", config_class.JOBS_IMMEDIATE),
        # The job-run log's retention (the daily purge_job_runs schedule); failures are kept longer.
        JOB_RUNS_KEEP_DAYS=env_int("JOB_RUNS_KEEP_DAYS", 14),
        JOB_RUNS_KEEP_FAILED_DAYS=env_int("JOB_RUNS_KEEP_FAILED_DAYS", 60),
        # Notifications (portal/notifications): unset SMTP_URL keeps every message `not_sent` in the outbox.
        SMTP_URL=smtp_url(env.get("SMTP_URL") or ""),
        MAIL_FROM=mail_from(env.get("MAIL_FROM") or "", env.get("SELLER_NAME") or "Demo Learning Pvt Ltd"),
        OUTBOX_MAX_ATTEMPTS=env_int("OUTBOX_MAX_ATTEMPTS", 8),
        OUTBOX_RETRY_BASE_SECONDS=env_int("OUTBOX_RETRY_BASE_SECONDS", 60),
        OUTBOX_RETRY_MAX_SECONDS=env_int("OUTBOX_RETRY_MAX_SECONDS", 6 * 3600),
    )
    # Staff alerts (portal/notifications/rules.py): who gets them (comma-separated; empty: every active admin
    # and finance user), and how many failed webhooks in the last hour raise the webhook alert.
    app.config.update(
        STAFF_ALERT_EMAILS=env.get("STAFF_ALERT_EMAILS") or "",
        WEBHOOK_FAILURE_ALERT_THRESHOLD=env_int("WEBHOOK_FAILURE_ALERT_THRESHOLD", 5),
    )
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    if config_class.ENV_NAME == "production" and gateway == "razorpay":
        _require(app, "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET")


def default_jobs_backend(instance_path: str) -> str:
    from portal.jobs.queue import default_backend

    return default_backend(instance_path)


def smtp_url(url: str) -> str:
    """SMTP_URL as given, once it parses (a malformed one refuses to start, naming the variable)."""
    from portal.notifications.mailer import parse_smtp_url

    parse_smtp_url(url)
    return url.strip()


def mail_from(value: str, seller_name: str) -> str:
    from portal.notifications.mailer import parse_mail_from

    return parse_mail_from(value, seller_name)


def _secret_key(config_class: type[Config], instance: Path) -> str:
    key = os.environ.get("SECRET_KEY", "").strip()
    if config_class.ENV_NAME == "production":
        if key.lower() in WEAK_SECRET_KEYS or len(key) < 32:
            raise RuntimeError("SECRET_KEY must be set to a random value of at least 32 characters in production")
        return key
    if key:
        return key
    # Development and tests: generated once and kept in the instance folder.
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _require(app, *names: str) -> None:
    missing = [name for name in names if not app.config.get(name)]
    if missing:
        raise RuntimeError(f"missing required configuration: {', '.join(missing)}")
