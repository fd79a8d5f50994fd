"""The HMAC-SHA256 signatures Razorpay puts on checkout returns, payment-link returns and webhooks."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, message: str | bytes) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def payment_signature(secret: str, order_id: str, payment_id: str) -> str:
    return sign(secret, f"{order_id}|{payment_id}")


def payment_link_signature(secret: str, plink_id: str, reference_id: str, status: str, payment_id: str) -> str:
    return sign(secret, f"{plink_id}|{reference_id}|{status}|{payment_id}")
