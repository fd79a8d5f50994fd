"""Webhook signatures: hex HMAC-SHA256 of the raw body with the webhook secret (never the API key secret)."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def expected_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, signature: str | None) -> bool:
    """Constant-time check of `X-Razorpay-Signature` over the exact bytes received.

    Goes through the gateway port when one is configured, so there is one definition of a valid
    signature; the local HMAC is the same computation for apps without a gateway adapter.
    """
    if not signature:
        return False
    gateway = current_app.extensions.get("gateway")
    if gateway is not None and hasattr(gateway, "verify_webhook_signature"):
        try:
            return bool(gateway.verify_webhook_signature(body, signature))
        except (TypeError, ValueError, UnicodeDecodeError):
            return False
    secret = current_app.config.get("RAZORPAY_WEBHOOK_SECRET") or ""
    if not secret:
        return False  # an unset secret must never accept everything
    return hmac.compare_digest(expected_signature(body, secret), signature)
