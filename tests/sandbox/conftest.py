"""Sandbox fixtures: `sandbox` (the driver) and `rzp` (the official SDK client pointed at the sandbox)."""

from __future__ import annotations

import pytest
import razorpay

from portal.gateway import INPROCESS_SANDBOX_URL
from portal.gateway.transport import TimeoutSession, WSGITransport


def sdk_client(app, auth=None) -> razorpay.Client:
    """The unmodified SDK, talking to the in-process sandbox exactly as the adapter does."""
    session = TimeoutSession(5)
    session.mount(INPROCESS_SANDBOX_URL, WSGITransport(lambda: app.extensions["sandbox_app"]))
    key = auth or (app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"])
    return razorpay.Client(session=session, auth=key, base_url=INPROCESS_SANDBOX_URL)


@pytest.fixture
def rzp(app, sandbox):
    return sdk_client(app)
