"""Token auth, the error shape, CSRF exemption and rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import create_app
from portal.auth.services import issue_token
from portal.auth.token_cache import token_cache
from portal.config import TestingConfig
from portal.extensions import limiter
from tests.factories import PASSWORD


def test_a_customer_signs_in_and_revokes_the_token(client, customer):
    issued = client.post("/api/v1/auth/token", json={"email": customer.email.upper(), "password": PASSWORD})
    token = issued.get_json()["data"]["token"]
    auth = {"Authorization": f"Bearer {token}"}

    assert issued.status_code == 200 and issued.get_json()["data"]["expires_at"].endswith("Z")
    assert client.get("/api/v1/orders/my-orders", headers=auth).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=auth).get_json() == {"data": {"revoked": True}}
    assert client.get("/api/v1/orders/my-orders", headers=auth).status_code == 401


def test_wrong_password_and_staff_accounts_get_no_token(client, customer, make):
    wrong = client.post("/api/v1/auth/token", json={"email": customer.email, "password": "nope-nope"})
    staff = client.post("/api/v1/auth/token", json={"email": make.staff("admin").email, "password": PASSWORD})

    assert wrong.status_code == staff.status_code == 401
    assert wrong.get_json() == staff.get_json()
    assert wrong.get_json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer rpt_not-a-real-token", "Basic abc"])
def test_requests_without_a_valid_token_get_401_in_the_error_shape(client, header):
    headers = {"Authorization": header} if header else {}

    response = client.get("/api/v1/orders/my-orders", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_an_expired_token_is_refused(client, customer):
    raw, _token = issue_token(customer, ttl=timedelta(seconds=-1))

    assert client.get("/api/v1/orders/statistics", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_tokens_are_stored_hashed(customer, db):
    raw, token = issue_token(customer)

    assert raw not in token.token_hash and len(token.token_hash) == 64


def test_api_is_csrf_exempt_and_answers_json_for_unknown_paths_and_methods(app, api):
    assert app.config["WTF_CSRF_ENABLED"] is True  # the POSTs in these tests carry no CSRF token
    missing = api.get("/api/v1/no-such-thing")
    wrong_method = api.client.put("/api/v1/orders/statistics")

    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]["code"] == "method_not_allowed"


@pytest.fixture
def limited_app(app):
    """A second app with rate limits on (the session app has them off). The limiter is one object
    shared by both apps, so its switch is restored afterwards."""
    was_enabled = limiter.enabled
    limited = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SANDBOX_DATABASE_URL=app.config.get("SANDBOX_DATABASE_URL"),
        RATELIMIT_ENABLED=True,
        API_RATE_LIMIT="3 per minute",
        LOGIN_FAILURES_PER_ACCOUNT="2 per minute",
    )
    yield limited
    limiter.enabled = was_enabled
    limiter.reset()


def test_rate_limits_apply_per_token_and_per_address(limited_app, customer, make):
    client = limited_app.test_client()
    mine, _ = issue_token(customer)  # the same database serves both apps
    theirs, _ = issue_token(make.customer())
    mine_h, theirs_h = {"Authorization": f"Bearer {mine}"}, {"Authorization": f"Bearer {theirs}"}

    statuses = [client.get("/api/v1/orders/statistics", headers=mine_h).status_code for _ in range(4)]
    other_token = client.get("/api/v1/orders/statistics", headers=theirs_h)
    limited = client.get("/api/v1/orders/statistics", headers=mine_h)

    assert statuses == [200, 200, 200, 429]
    assert other_token.status_code == 200
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    logins = [client.post("/api/v1/auth/token", json={"email": "x@y.z", "password": "p"}).status_code for _ in range(3)]
    assert logins == [401, 401, 429]


def test_last_use_is_recorded_to_five_minutes_not_on_every_request(api, db):
    from portal.auth.models import ApiToken, hash_token
    from portal.timeutil import utcnow

    api.get("/api/v1/orders/my-orders")
    token = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == hash_token(api.token)))
    first = token.last_used_at
    api.get("/api/v1/orders/my-orders")
    db.session.refresh(token)
    assert first is not None and token.last_used_at == first

    token.last_used_at = utcnow() - timedelta(minutes=6)
    db.session.commit()
    if (cache := token_cache()) is not None:  # with REDIS_URL: as once the cached look-up has lived its time
        cache.clear()
    api.get("/api/v1/orders/my-orders")
    db.session.refresh(token)
    assert token.last_used_at > first
