"""429 "Too many requests": the adapter backs off behind a pause shared by all its threads and retries (any call:
a throttled request was never carried out), until the call's budget runs out — then GatewayRateLimited.
Through the real SDK against the sandbox's `rate_limit_per_second` knob."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.gateway import GatewayRateLimited, GatewayUnavailable, build_gateway
from portal.gateway.base import unavailable_message
from portal.gateway.throttle import Throttle


def outcomes(caplog, operation: str) -> list[str]:
    return [r.gateway_outcome for r in caplog.records if getattr(r, "gateway_operation", None) == operation]


def test_reads_back_off_on_429_and_succeed(app, sandbox, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    gateway = build_gateway(app, timeout=5)
    order = gateway.create_order(amount=50000, currency="INR", receipt="r-1", notes={})
    sandbox.set_faults(rate_limit_per_second=2)
    fetched = [gateway.fetch_order(order["id"])["id"] for _ in range(5)]
    assert fetched == [order["id"]] * 5
    seen = outcomes(caplog, "fetch_order")
    assert "GatewayRateLimited" in seen and seen.count("ok") == 5


def test_calls_never_retried_blindly_are_retried_after_a_429(app, sandbox, caplog):
    """Creating an order is not repeated after a timeout (it may have happened); after a 429 it is, once per
    refusal, and the gateway ends up with exactly the orders asked for."""
    caplog.set_level(logging.INFO, "portal.gateway")
    gateway = build_gateway(app, timeout=5)
    sandbox.set_faults(rate_limit_per_second=1)
    created = [gateway.create_order(amount=50000, currency="INR", receipt=f"r-{n}", notes={}) for n in range(3)]
    assert "GatewayRateLimited" in outcomes(caplog, "create_order")
    assert sorted(o["id"] for o in sandbox.sandbox.store.latest("order")) == sorted(o["id"] for o in created)


def test_a_429_that_outlasts_the_budget_is_rate_limited_not_sent(app, sandbox):
    gateway = build_gateway(app, timeout=0.4)
    order = gateway.create_order(amount=50000, currency="INR", receipt="r-1", notes={})
    sandbox.set_faults(rate_limit_per_second=1)
    gateway.fetch_order(order["id"])
    with pytest.raises(GatewayRateLimited) as raised:
        gateway.fetch_order(order["id"])  # the window frees only after a second: past the 0.4 s budget
    assert isinstance(raised.value, GatewayUnavailable) and raised.value.outcome_known
    assert "busy (too many requests)" in unavailable_message(raised.value, "refund")


def test_threads_share_the_back_off_and_all_get_their_answer(app, sandbox, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    gateway = build_gateway(app, timeout=10)
    order = gateway.create_order(amount=50000, currency="INR", receipt="r-1", notes={})
    sandbox.set_faults(rate_limit_per_second=10)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: gateway.fetch_order(order["id"])["id"], range(40)))
    assert answers == [order["id"]] * 40
    assert "GatewayRateLimited" in outcomes(caplog, "fetch_order")


def test_the_throttle_paces_after_a_429_halves_per_second_still_refused_and_recovers():
    throttle = Throttle(first_rate=10, step=5, free_rate=40)
    assert throttle.rate == 0 and throttle.wait(time.monotonic() + 1)  # nothing seen: not paced
    pause = throttle.rate_limited(time.monotonic())
    assert throttle.rate == 10 and 0.05 <= pause <= 0.15  # a jittered gap before the next start
    throttle.rate_limited(time.monotonic())
    assert throttle.rate == 10  # the same second: the same episode, not another halving
    assert not throttle.wait(time.monotonic() + 0.01)  # the next slot is past this caller's budget: no sleep
    started = time.monotonic()
    assert throttle.wait(time.monotonic() + 5) and throttle.wait(time.monotonic() + 5)
    assert time.monotonic() - started >= 0.1  # two starts a tenth of a second apart, after the pause
    time.sleep(1.0)
    throttle.rate_limited(time.monotonic())
    assert throttle.rate == 5  # refused a second later still: halved, the gap between starts doubles
    for _ in range(7):
        throttle.succeeded()
    assert throttle.rate == 0  # 5 + 7 × 5 ≥ 40: fast enough to stop pacing


def test_only_the_gateways_session_turns_a_429_into_an_exception(app, sandbox):
    """Other users of TimeoutSession (the sandbox storefront reading the portal's API) see a 429 as a response."""
    from portal.gateway import INPROCESS_SANDBOX_URL
    from portal.gateway.transport import GatewaySession, TimeoutSession, TooManyRequests, WSGITransport

    sandbox.set_faults(rate_limit_per_second=1)
    auth = (app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"])
    url = f"{INPROCESS_SANDBOX_URL}/v1/orders/order_Unknown0000001"
    plain, gateway = TimeoutSession(5), GatewaySession(5)
    for session in (plain, gateway):
        session.mount(INPROCESS_SANDBOX_URL, WSGITransport(lambda: app.extensions["sandbox_app"]))
    assert plain.get(url, auth=auth).status_code == 400  # the first call of the second: answered (unknown id)
    assert plain.get(url, auth=auth).status_code == 429
    with pytest.raises(TooManyRequests):
        gateway.get(url, auth=auth)
