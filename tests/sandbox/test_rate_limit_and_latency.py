"""The knobs reconcile's benchmark and back-off tests stand on: `latency_ms` (a real sleep that concurrent callers
overlap, as with a remote server) and `rate_limit_per_second` (429 with Razorpay's error body past the limit)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import razorpay
import requests
from razorpay.errors import BadRequestError

from portal.gateway import INPROCESS_SANDBOX_URL
from portal.gateway.transport import WSGITransport


def plain_client(app) -> razorpay.Client:
    """The SDK on a bare requests session: sees the sandbox's answers exactly, 429s included."""
    session = requests.Session()
    session.mount(INPROCESS_SANDBOX_URL, WSGITransport(lambda: app.extensions["sandbox_app"]))
    key = (app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"])
    return razorpay.Client(session=session, auth=key, base_url=INPROCESS_SANDBOX_URL)


def test_past_the_rate_limit_the_api_answers_429_with_razorpays_error_body(app, rzp, sandbox):
    order = rzp.order.create({"amount": 50000, "currency": "INR"})
    sandbox.set_faults(rate_limit_per_second=3)
    client = plain_client(app)
    url = f"{INPROCESS_SANDBOX_URL}/v1/orders/{order['id']}"
    answers = [client.session.get(url, auth=client.auth) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert json.loads(answers[3].content) == {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": "Too many requests",
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


def test_the_sdk_alone_takes_a_429_for_a_bad_request(app, rzp, sandbox):
    """Why the gateway's transport looks at the status itself: the SDK reads only the body's code."""
    order = rzp.order.create({"amount": 50000, "currency": "INR"})
    sandbox.set_faults(rate_limit_per_second=1)
    client = plain_client(app)
    client.order.fetch(order["id"])
    try:
        client.order.fetch(order["id"])
    except BadRequestError as exc:
        assert str(exc) == "Too many requests"
    else:
        raise AssertionError("the second call within the second should have been throttled")


def test_the_rate_limit_is_a_moving_second(app, rzp, sandbox):
    order = rzp.order.create({"amount": 50000, "currency": "INR"})
    sandbox.set_faults(rate_limit_per_second=2)
    client = plain_client(app)
    url = f"{INPROCESS_SANDBOX_URL}/v1/orders/{order['id']}"
    assert [client.session.get(url, auth=client.auth).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.05)
    assert client.session.get(url, auth=client.auth).status_code == 200


def test_no_rate_limit_by_default(app, rzp, sandbox):
    order = rzp.order.create({"amount": 50000, "currency": "INR"})
    client = plain_client(app)
    url = f"{INPROCESS_SANDBOX_URL}/v1/orders/{order['id']}"
    assert {client.session.get(url, auth=client.auth).status_code for _ in range(30)} == {200}


def test_concurrent_callers_overlap_the_latency(rzp, sandbox):
    """The latency is a real sleep, not a lock held: four calls at once take about one latency, not four."""
    order = rzp.order.create({"amount": 50000, "currency": "INR"})
    sandbox.set_faults(latency_ms=400)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: rzp.order.fetch(order["id"]), range(4)))
    elapsed = time.monotonic() - started
    assert [a["id"] for a in answers] == [order["id"]] * 4
    assert 0.4 <= elapsed < 4 * 0.4


def test_faults_cli_sets_latency_and_the_rate_limit(runner, sandbox):
    result = runner.invoke(args=["sandbox", "faults", "--set", "latency_ms=50", "--set", "rate_limit_per_second=20"])
    assert result.exit_code == 0, result.output
    assert "faults changed: latency_ms=50, rate_limit_per_second=20" in result.output
    assert sandbox.faults()["latency_ms"] == 50 and sandbox.faults()["rate_limit_per_second"] == 20
    bad = runner.invoke(args=["sandbox", "faults", "--set", "rate_limit_per_second=lots"])
    assert bad.exit_code == 2 and "not a valid int" in bad.output
