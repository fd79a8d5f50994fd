from __future__ import annotations

import pytest

from tests.webhooks import payloads


class Deliver:
    """POST a body to /webhooks/razorpay the way Razorpay does: raw bytes, signature and event id headers."""

    def __init__(self, client, app):
        self.client, self.app = client, app

    def raw(self, body: bytes, *, signature: str | None = "sign", event_id: str | None = "new"):
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            signature = payloads.sign(body, self.app.config["RAZORPAY_WEBHOOK_SECRET"])
        if signature is not None:
            headers["X-Razorpay-Signature"] = signature
        if event_id == "new":
            event_id = payloads.new_event_id()
        if event_id is not None:
            headers["X-Razorpay-Event-Id"] = event_id
        return self.client.post("/webhooks/razorpay", data=body, headers=headers)

    def __call__(self, event: str, *, event_id: str | None = "new", **entities):
        return self.raw(payloads.body_of(payloads.envelope(event, **entities)), event_id=event_id)


@pytest.fixture
def deliver(client, app):
    return Deliver(client, app)
