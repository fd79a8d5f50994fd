"""Driving the sandbox from tests (and from a Python shell).

    def test_something(sandbox):                       # fixture: see `sandbox` below
        order = get_gateway().create_order(...)
        params = sandbox.pay(order["id"])             # the real hosted-checkout POST
        sandbox.set_faults(down=True)
        sandbox.deliveries(event="order.paid")

To use the fixture outside tests/sandbox, add to tests/conftest.py:
    from portal.sandbox.testing import sandbox  # noqa: F401  (pytest fixture)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import pytest
from flask import Flask, Response, request


class SandboxDriver:
    """Test-facing handle on the app's sandbox. Every method goes through the sandbox's real paths."""

    def __init__(self, app: Flask):
        self.app = app
        self.sandbox = app.extensions["sandbox"]
        self._original_url = self.sandbox.webhooks.url

    # paying --------------------------------------------------------------------------------------
    def pay(self, order_id: str, outcome: str = "success", method: str = "upi", **customer: str) -> dict:
        """POST the hosted checkout like a customer clicking a button (with `email=`, `contact=` as typed in its
        form); returns its JSON answer: {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"} or
        {"error": {...}}."""
        return self._post(f"/sandbox/checkout/{order_id}", outcome, method, **customer)

    def pay_link(self, plink_id: str, outcome: str = "success", method: str = "upi") -> dict:
        """Pay a payment link; returns {"razorpay_payment_id", "razorpay_payment_link_id",
        "razorpay_payment_link_reference_id", "razorpay_payment_link_status", "razorpay_signature"}."""
        return self._post(f"/sandbox/pay/{plink_id}", outcome, method)

    def _post(self, path: str, outcome: str, method: str, **fields: str) -> dict:
        client = self.app.test_client()
        response = client.post(
            path, data={"outcome": outcome, "method": method, **fields}, headers={"Accept": "application/json"}
        )
        return response.get_json()

    # what Razorpay does later, on its own ------------------------------------------------------------
    def late_authorize(self, payment_id: str) -> dict:
        """A failed payment is authorised late (and captured, on an auto-capture order not yet paid)."""
        return self.sandbox.late_authorize(payment_id)

    def process_refund(self, refund_id: str, outcome: str = "processed") -> dict:
        """A pending refund (fault `pending_refunds`) becomes `processed` or `failed`."""
        return self.sandbox.process_refund(refund_id, outcome)

    def change_refund_speed(self, refund_id: str) -> dict:
        """A pending refund falls back from instant to normal speed (`refund.speed_changed`)."""
        return self.sandbox.change_refund_speed(refund_id)

    # state -----------------------------------------------------------------------------------------
    def order(self, order_id: str) -> dict:
        return self.sandbox.fetch("order", order_id)

    def payment(self, payment_id: str) -> dict:
        return self.sandbox.fetch("payment", payment_id)

    def refund(self, refund_id: str) -> dict:
        return self.sandbox.fetch("refund", refund_id)

    def payment_link(self, plink_id: str) -> dict:
        return self.sandbox.fetch("payment_link", plink_id)

    # faults ------------------------------------------------------------------------------------------
    def set_faults(self, **knobs) -> dict:
        """latency_ms, error_rate, down, duplicate_webhooks, out_of_order_webhooks, fail_refunds,
        drop_webhooks, pending_refunds, gateway_error_rate, rate_limit_per_second (see DEFAULT_FAULTS)."""
        return self.sandbox.set_faults(**knobs)

    def clear_faults(self) -> dict:
        return self.sandbox.clear_faults()

    def faults(self) -> dict:
        return self.sandbox.faults()

    # webhooks ------------------------------------------------------------------------------------------
    def deliveries(self, event: str | None = None, status: str | None = None) -> list[dict]:
        """The delivery log, oldest first; each row has `event`, `event_id`, `status`, `attempts`,
        `body` (the exact bytes sent, as str), `payload` (parsed) and `attempt_log`."""
        rows = list(reversed(self.sandbox.webhooks.log(limit=1000)))
        rows = [r for r in rows if (event is None or r["event"] == event) and (status is None or r["status"] == status)]
        for row in rows:
            row["payload"] = json.loads(row["body"])
        return rows

    def events(self) -> list[str]:
        return [row["event"] for row in self.deliveries()]

    def deliver(self) -> int:
        """Deliver every due webhook now (those deferred because they were caused inside a portal
        request or service call included); returns the number of attempts."""
        return self.sandbox.webhooks.deliver_due()

    def advance(self, seconds: float) -> int:
        """Attempt the deliveries that would be due `seconds` from now (retries after backoff)."""
        return self.sandbox.webhooks.deliver_due(now=time.time() + seconds)

    def receive_webhooks(self, statuses: list[int] | None = None) -> WebhookRecorder:
        """Send webhooks to an in-process recorder instead of the portal; it answers `statuses` in turn
        (the last one repeats; default 200)."""
        recorder = WebhookRecorder(list(statuses or [200]))
        self.sandbox.webhooks.target("http://webhook-recorder.invalid/hook", wsgi_app=recorder.app)
        return recorder

    def restore_webhook_target(self) -> None:
        self.sandbox.webhooks.target(self._original_url, wsgi_app=self.app)

    def reset(self) -> None:
        """Forget all sandbox state, faults included, and the back-off the app's gateway learnt from 429s."""
        self.sandbox.store.reset()
        self.sandbox.webhooks._deferred = False
        self.sandbox.forget_rate()
        gateway = self.app.extensions.get("gateway")
        if gateway is not None and hasattr(gateway, "throttle"):
            gateway.throttle.reset()


@dataclass
class WebhookRecorder:
    """A tiny receiving app that records each POST (raw body and headers) and answers scripted statuses."""

    statuses: list[int]
    received: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.app = Flask("webhook-recorder")
        self.app.add_url_rule("/hook", "hook", self._hook, methods=["POST"])

    def _hook(self):
        self.received.append({"body": request.get_data(as_text=True), "headers": dict(request.headers)})
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response("ok" if status < 300 else "nope", status=status)

    def events(self) -> list[str]:
        return [json.loads(r["body"])["event"] for r in self.received]


@pytest.fixture
def sandbox(app):
    """A clean sandbox for one test (state and faults reset before and after)."""
    driver = SandboxDriver(app)
    driver.reset()
    yield driver
    driver.restore_webhook_target()
    driver.reset()
