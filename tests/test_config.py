"""Configuration comes from the environment; production refuses unsafe settings."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import (
    SANDBOX_KEY_ID,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    config_class_from_env,
    normalise_database_url,
)
from portal.extensions import limiter

STRONG_KEY = "0123456789abcdef" * 3
ENV_VARS = [
    "APP_ENV",
    "DATABASE_URL",
    "SECRET_KEY",
    "PAYMENT_GATEWAY",
    "RAZORPAY_KEY_ID",
    "RAZORPAY_KEY_SECRET",
    "RAZORPAY_WEBHOOK_SECRET",
    "RAZORPAY_BASE_URL",
    "PUBLIC_BASE_URL",
    "ORDER_PAYMENT_TTL_MINUTES",
    "DEFAULT_CURRENCY",
    "AUTO_REFUND_LATE_PAYMENTS",
    "AUTO_INVOICE",
    "REDIS_URL",
    "TRUSTED_PROXIES",
    "WEBHOOK_PROCESSING",
    "SANDBOX_DATABASE_URL",
    "CREDIT_NOTE_PREFIX",
    "GATEWAY_TIMEOUT_SECONDS",
    "TIMEZONE",
]


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment (no .env file is read from tmp_path) and a restored Limiter afterwards."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    enabled = limiter.enabled
    yield monkeypatch
    limiter.enabled = enabled


def build(config=DevelopmentConfig, **overrides):
    overrides.setdefault("SQLALCHEMY_DATABASE_URI", "sqlite://")
    return create_app(config, **overrides)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+psycopg://u:p@db:5432/app"),
        ("postgresql://u@db/app", "postgresql+psycopg://u@db/app"),
        ("postgresql+psycopg://u@db/app", "postgresql+psycopg://u@db/app"),
        ("sqlite:///x.sqlite", "sqlite:///x.sqlite"),
    ],
)
def test_database_urls_are_normalised_to_psycopg3(given, expected):
    assert normalise_database_url(given) == expected


def test_database_url_from_the_environment(env):
    env.setenv("DATABASE_URL", "postgres://someone@db.example:5432/portal")
    app = create_app(DevelopmentConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example:5432/portal"


def test_default_database_is_sqlite_in_the_instance_folder(env):
    app = create_app(DevelopmentConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/portal.sqlite")


@pytest.mark.parametrize(
    ("value", "cls"), [("production", ProductionConfig), ("testing", TestingConfig), ("", DevelopmentConfig)]
)
def test_app_env_picks_the_config_class(env, value, cls):
    env.setenv("APP_ENV", value or "development")
    assert config_class_from_env() is cls


def test_sandbox_is_the_default_gateway_with_fixed_dev_credentials(env):
    app = build()
    assert app.config["PAYMENT_GATEWAY"] == "sandbox"
    assert app.config["RAZORPAY_KEY_ID"] == SANDBOX_KEY_ID
    assert app.config["RAZORPAY_BASE_URL"] == ""  # in-process sandbox


def test_razorpay_gateway_uses_the_real_api_host(env):
    env.setenv("PAYMENT_GATEWAY", "Razorpay")
    env.setenv("RAZORPAY_KEY_ID", "rzp_test_abc")
    app = build()
    assert app.config["PAYMENT_GATEWAY"] == "razorpay"
    assert app.config["RAZORPAY_BASE_URL"] == "https://api.razorpay.com"
    assert app.config["RAZORPAY_KEY_ID"] == "rzp_test_abc"


@pytest.mark.parametrize(
    "given",
    ["http://127.0.0.1:9000/v1", "http://127.0.0.1:9000/v1/", " http://127.0.0.1:9000/ ", "http://127.0.0.1:9000"],
)
def test_a_base_url_ending_in_v1_is_normalised_to_the_host(env, given):
    """The SDK already starts every path with /v1: a base ending in /v1 would call /v1/v1/…"""
    env.setenv("RAZORPAY_BASE_URL", given)
    assert build().config["RAZORPAY_BASE_URL"] == "http://127.0.0.1:9000"


def test_a_base_url_that_is_not_http_refuses_to_start_naming_the_variable(env):
    env.setenv("RAZORPAY_BASE_URL", "api.razorpay.com/v1")
    with pytest.raises(RuntimeError, match="RAZORPAY_BASE_URL"):
        build()


def test_an_unknown_gateway_refuses_to_start(env):
    env.setenv("PAYMENT_GATEWAY", "stripe")
    with pytest.raises(RuntimeError, match="PAYMENT_GATEWAY"):
        build()


def test_production_with_razorpay_needs_its_credentials(env):
    env.setenv("SECRET_KEY", STRONG_KEY)
    env.setenv("PAYMENT_GATEWAY", "razorpay")
    env.setenv("RAZORPAY_KEY_ID", "rzp_live_x")
    with pytest.raises(RuntimeError, match="RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET"):
        build(ProductionConfig)


def test_values_and_flags_from_the_environment(env):
    env.setenv("ORDER_PAYMENT_TTL_MINUTES", "30")
    env.setenv("DEFAULT_CURRENCY", "usd")
    env.setenv("AUTO_INVOICE", "off")
    env.setenv("AUTO_REFUND_LATE_PAYMENTS", "0")
    env.setenv("PUBLIC_BASE_URL", "https://pay.example/")
    env.setenv("REDIS_URL", "redis://cache:6379/0")
    app = build()
    assert app.config["ORDER_PAYMENT_TTL_MINUTES"] == 30
    assert app.config["DEFAULT_CURRENCY"] == "USD"
    assert app.config["AUTO_INVOICE"] is False
    assert app.config["AUTO_REFUND_LATE_PAYMENTS"] is False
    assert app.config["PUBLIC_BASE_URL"] == "https://pay.example"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"


def test_defaults_when_the_environment_says_nothing(env):
    app = build()
    assert app.config["ORDER_PAYMENT_TTL_MINUTES"] == 1440
    assert app.config["DEFAULT_CURRENCY"] == "INR"
    assert app.config["AUTO_INVOICE"] is True
    assert app.config["AUTO_REFUND_LATE_PAYMENTS"] is True
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("key", [None, "", "dev", "change-me", "too-short-but-random"])
def test_production_refuses_to_start_without_a_real_secret_key(env, key):
    if key is not None:
        env.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        build(ProductionConfig)


def test_production_starts_with_a_real_secret_key_and_secure_cookies(env):
    env.setenv("SECRET_KEY", STRONG_KEY)
    app = build(ProductionConfig)
    assert app.config["SECRET_KEY"] == STRONG_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_generates_one_secret_key_and_keeps_it(env):
    first, second = build(), build()
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_testing_config_keeps_csrf_on(app):
    assert app.config["TESTING"] is True
    assert app.config["WTF_CSRF_ENABLED"] is True


@pytest.mark.parametrize("value", ["abc", "1.5", "ten"])
def test_a_non_numeric_ttl_refuses_to_start_naming_the_variable(env, value):
    env.setenv("ORDER_PAYMENT_TTL_MINUTES", value)
    with pytest.raises(RuntimeError, match="ORDER_PAYMENT_TTL_MINUTES"):
        build()


@pytest.mark.parametrize("value", ["rupees", "IN", "₹"])
def test_a_currency_that_is_not_an_iso_code_refuses_to_start(env, value):
    env.setenv("DEFAULT_CURRENCY", value)
    with pytest.raises(RuntimeError, match="DEFAULT_CURRENCY"):
        build()


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(env):
    env.setenv("TRUSTED_PROXIES", "1")
    application = build()

    @application.get("/_whoami")
    def _whoami():
        from flask import request

        return request.remote_addr

    response = application.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.get_data(as_text=True) == "203.0.113.7"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(env):
    application = build()

    @application.get("/_whoami")
    def _whoami():
        from flask import request

        return request.remote_addr

    response = application.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.get_data(as_text=True) == "127.0.0.1"


def test_the_business_time_zone_defaults_to_kolkata_and_takes_any_iana_name(env):
    assert build().config["TIMEZONE"] == "Asia/Kolkata"
    env.setenv("TIMEZONE", "Europe/London")
    assert build().config["TIMEZONE"] == "Europe/London"


@pytest.mark.parametrize("value", ["Mars/Olympus", "IST+5:30", "../etc/passwd", "Asia/Kolkatta"])
def test_an_unknown_time_zone_refuses_to_start_naming_the_variable(env, value):
    env.setenv("TIMEZONE", value)
    with pytest.raises(RuntimeError, match="TIMEZONE"):
        build()
