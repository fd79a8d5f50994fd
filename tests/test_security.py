"""Security basics on every response: headers, cookies, CSRF, login rate limiting."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import session

from portal import create_app
from portal.config import ProductionConfig, TestingConfig
from portal.extensions import limiter
from portal.security import CSP
from tests.helpers import extract_csrf

STRONG_KEY = "k" * 20 + "0123456789abcdef"


@contextmanager
def separate_app(config=TestingConfig, **overrides):
    """A second app on the same database. The Limiter extension is one object whose `enabled` flag the
    last init_app sets for every app, so it is restored afterwards (the session app runs unlimited)."""
    enabled = limiter.enabled
    try:
        yield create_app(config, **overrides)
    finally:
        limiter.enabled = enabled


def assert_security_headers(response):
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in CSP
    assert "script-src 'self'" in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/login", 200),
        ("GET", "/admin/", 302),
        ("GET", "/no-such-page", 404),
        ("POST", "/login", 400),  # no CSRF token
        ("GET", "/static/css/app.css", 200),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_security_headers(response)


def test_a_signed_in_page_carries_them_too(client, auth):
    auth.login_as("viewer")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # only over HTTPS in production


def test_login_without_csrf_token_is_rejected(client, make):
    user = make.staff("admin")
    response = client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # not signed in


def test_login_with_a_forged_csrf_token_is_rejected(client, make):
    user = make.staff("admin")
    client.get("/login")
    data = {"email": user.email, "password": "correct-horse-battery", "csrf_token": "forged"}
    assert client.post("/login", data=data).status_code == 400


def test_logout_without_csrf_token_is_rejected_and_keeps_the_session(client, auth):
    auth.login_as("admin")
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/").status_code == 200


def test_logout_with_the_token_signs_out(client, auth):
    auth.login_as("admin")
    token = auth.csrf_token("/admin/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_logout_is_post_only(client, auth):
    auth.login_as("admin")
    assert client.get("/logout").status_code == 405


def test_session_cookie_is_httponly_and_samesite(client, auth):
    auth.login_as("viewer")
    login_cookie = client.get_cookie("session")
    assert login_cookie is not None
    assert login_cookie.http_only
    assert login_cookie.same_site == "Lax"
    assert not login_cookie.secure  # plain HTTP in development and tests


def test_production_session_cookie_is_secure(app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    with separate_app(ProductionConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]) as prod:

        @prod.get("/_touch-session")
        def _touch():
            session["seen"] = True
            return "ok"

        response = prod.test_client().get("/_touch-session", base_url="https://portal.example")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_is_rate_limited_past_the_configured_limit(app, make):
    user = make.staff("admin")
    with separate_app(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        LOGIN_FAILURES_PER_ACCOUNT="3 per minute",
    ) as limited:
        client = limited.test_client()
        token = extract_csrf(client.get("/login").get_data(as_text=True))
        data = {"email": user.email, "password": "wrong-password", "csrf_token": token}
        statuses = [client.post("/login", data=data).status_code for _ in range(4)]
        assert client.get("/login").status_code == 200  # only POSTs count
    assert statuses == [422, 422, 422, 429]


def test_the_session_app_itself_is_not_rate_limited(client, make):
    user = make.staff("admin")
    token = extract_csrf(client.get("/login").get_data(as_text=True))
    data = {"email": user.email, "password": "wrong-password", "csrf_token": token}
    assert {client.post("/login", data=data).status_code for _ in range(12)} == {422}


def test_an_unexpected_error_is_a_plain_500_with_the_headers_and_no_traceback(app):
    with separate_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=False) as other:

        @other.get("/_boom")
        def _boom():
            raise RuntimeError("secret internals")

        @other.get("/api/v1/_boom")
        def _api_boom():
            raise RuntimeError("secret internals")

        client = other.test_client()
        page, api = client.get("/_boom"), client.get("/api/v1/_boom")
    assert page.status_code == api.status_code == 500
    assert "secret internals" not in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)
    assert_security_headers(page)
    assert api.get_json() == {
        "error": {
            "code": "internal_error",
            "message": "Something went wrong on our side; nothing was changed.",
            "details": {},
        }
    }
    assert_security_headers(api)


def test_nul_characters_are_refused_before_any_view(client):
    json_body = client.post("/api/v1/auth/token", json={"email": "a\u0000@x.in", "password": "secret-123"})
    query = client.get("/login?next=%00")
    form = client.post("/login", data={"email": "a\x00b", "password": "x"})

    assert json_body.status_code == 400
    assert json_body.get_json()["error"]["message"].startswith("The request contains a NUL character")
    assert query.status_code == 400 and form.status_code == 400
