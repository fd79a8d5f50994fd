"""The gateway port. `get_gateway()` returns the adapter configured for this app."""

from __future__ import annotations

from flask import Flask, current_app

from portal.gateway.base import (
    Gateway,
    GatewayError,
    GatewayOutcomeUnknown,
    GatewayRateLimited,
    GatewayRejected,
    GatewayUnavailable,
)

__all__ = [
    "Gateway",
    "GatewayError",
    "GatewayOutcomeUnknown",
    "GatewayRateLimited",
    "GatewayRejected",
    "GatewayUnavailable",
    "build_gateway",
    "get_gateway",
]

# The in-process sandbox's address: `.invalid` can never resolve, so nothing leaves the process.
INPROCESS_SANDBOX_URL = "http://sandbox.invalid"


def get_gateway() -> Gateway:
    return current_app.extensions["gateway"]


def init_app(app: Flask) -> None:
    app.extensions["gateway"] = build_gateway(app)


def build_gateway(app: Flask, **overrides) -> Gateway:
    """The Razorpay adapter for this app's configuration: real Razorpay, a sandbox by URL, or the
    in-process sandbox (PAYMENT_GATEWAY=sandbox with RAZORPAY_BASE_URL empty). `overrides` (timeout,
    retries, backoff) are for tests. GATEWAY_TIMEOUT_SECONDS bounds one call including its retries."""
    from portal.config import normalise_gateway_base_url
    from portal.gateway.adapter import RazorpayGateway
    from portal.gateway.transport import GatewaySession, WSGITransport

    config = app.config
    session = GatewaySession(float(overrides.get("timeout", config.get("GATEWAY_TIMEOUT_SECONDS", 10))))
    sandbox = config["PAYMENT_GATEWAY"] == "sandbox"
    base_url = normalise_gateway_base_url(config.get("RAZORPAY_BASE_URL") or "")  # app.config may bypass load_config
    if sandbox and not base_url:
        base_url = INPROCESS_SANDBOX_URL
        session.mount(INPROCESS_SANDBOX_URL, WSGITransport(lambda: app.extensions["sandbox_app"]))
    return RazorpayGateway(
        key_id=config["RAZORPAY_KEY_ID"],
        key_secret=config["RAZORPAY_KEY_SECRET"],
        webhook_secret=config["RAZORPAY_WEBHOOK_SECRET"],
        base_url=base_url,
        session=session,
        retries=int(overrides.get("retries", config.get("GATEWAY_RETRIES", 2))),
        backoff=float(overrides.get("backoff", config.get("GATEWAY_RETRY_BACKOFF_SECONDS", 0.2))),
        checkout_base=config["PUBLIC_BASE_URL"] if sandbox else None,
    )
