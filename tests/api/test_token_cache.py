"""The token cache: a warm token costs no SQL, and a revoked, expired or demoted token is refused at once —
also by another process that had it cached (two apps with their own caches, one database, one Redis)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis

from portal import create_app
from portal.auth.services import issue_token, upsert_user
from portal.auth.token_cache import token_cache
from portal.config import TestingConfig
from portal.extensions import limiter
from tests.api.test_statements import READ_BUDGET, counted
from tests.factories import PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/1"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _app(app, redis_url: str):
    return create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        SANDBOX_DATABASE_URL=app.config.get("SANDBOX_DATABASE_URL"),
        RATELIMIT_ENABLED=False,
        REDIS_URL=redis_url,
    )


@pytest.fixture
def workers(app):
    """Two "worker processes": apps with their own token caches over the same database and Redis."""
    if not _redis_answers():
        pytest.skip(f"no Redis at {REDIS_URL}")
    was_enabled = limiter.enabled  # one limiter object serves every app: put its switch back
    yield _app(app, REDIS_URL), _app(app, REDIS_URL)
    limiter.enabled = was_enabled


def _get(worker, token, path="/api/v1/orders/my-orders"):
    with worker.app_context():
        return worker.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def test_a_warm_token_costs_no_statement(workers, customer, make):
    worker, _ = workers
    make.paid_order(customer_user=customer)
    token, _ = issue_token(customer)
    assert _get(worker, token).status_code == 200  # first use: read from the database and cached

    with worker.app_context():
        assert token_cache() is not None
        _, warm = counted(lambda: worker.test_client().get("/api/v1/orders/my-orders", headers=_auth(token)))

    assert warm == READ_BUDGET - 1  # the page, its payments, its refunds


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_revoked_in_one_worker_is_refused_at_once_by_another(workers, customer):
    first, second = workers
    token, _ = issue_token(customer)
    assert _get(first, token).status_code == _get(second, token).status_code == 200  # cached in both

    with first.app_context():
        revoked = first.test_client().delete("/api/v1/auth/token", headers=_auth(token))

    assert revoked.status_code == 200
    assert _get(second, token).status_code == 401
    assert _get(first, token).status_code == 401


def test_a_customer_deactivated_or_made_staff_is_refused_at_once(workers, customer, make):
    first, second = workers
    staff_to_be = make.customer()
    tokens = [issue_token(customer)[0], issue_token(staff_to_be)[0]]
    assert [_get(second, t).status_code for t in tokens] == [200, 200]

    with first.app_context():  # e.g. `flask users create-admin EMAIL --role viewer`, run with the same REDIS_URL
        upsert_user(customer.email, PASSWORD, "customer", active=False)
        upsert_user(staff_to_be.email, PASSWORD, "viewer")

    assert [_get(second, t).status_code for t in tokens] == [401, 403]


def test_a_cached_token_is_refused_once_it_expires(workers, customer):
    worker, _ = workers
    token, _ = issue_token(customer, ttl=timedelta(seconds=1))
    assert _get(worker, token).status_code == 200

    time.sleep(1.1)

    assert _get(worker, token).status_code == 401


def test_without_an_answering_redis_tokens_are_read_from_the_database(app, customer):
    was_enabled = limiter.enabled
    try:
        unreachable = _app(app, "redis://127.0.0.1:9/0")  # the discard port: nothing listens there
        token, _ = issue_token(customer)
        answers = [_get(unreachable, token).status_code for _ in range(2)]
        with unreachable.app_context():
            unreachable.test_client().delete("/api/v1/auth/token", headers=_auth(token))
        assert answers == [200, 200] and _get(unreachable, token).status_code == 401
    finally:
        limiter.enabled = was_enabled
