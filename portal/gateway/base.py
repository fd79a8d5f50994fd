"""The port the rest of the app uses to talk to the payment gateway.

Entities are plain dicts shaped exactly like Razorpay's (see shared razorpay-reference.md):
`{"id": "pay_...", "entity": "payment", "amount": 50000, "currency": "INR", "status": ...}`.
Every failure is one of two exceptions: the gateway said no (`GatewayRejected`), or it could not
be reached or broke (`GatewayUnavailable`). Nothing else escapes an adapter. `GatewayUnavailable`
has two refinements: `GatewayRateLimited` (429s outlasted the call's budget; nothing was carried out), and
`GatewayOutcomeUnknown`: the request was sent and no usable answer came back
(a read timeout, a 5xx), so whether it took effect is unknown — only a fetch (sync, reconcile, the
webhook) can tell. A plain `GatewayUnavailable` means it was never sent (connection refused).
"""

from __future__ import annotations

from typing import Protocol


class GatewayError(Exception):
    """Base of the two failures the app understands."""


class GatewayRejected(GatewayError):
    """The gateway refused the request (bad amount, already refunded, unknown id, ...)."""

    def __init__(self, message: str, *, code: str = "BAD_REQUEST_ERROR", field: str | None = None):
        super().__init__(message)
        self.code, self.field = code, field


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached: the request was not sent, nothing changed there."""

    outcome_known = True


class GatewayOutcomeUnknown(GatewayUnavailable):
    """Sent, but no usable answer (read timeout, 5xx): it may have taken effect at the gateway."""

    outcome_known = False


class GatewayRateLimited(GatewayUnavailable):
    """The gateway answered 429 "Too many requests" until the call's budget ran out. A throttled request is
    refused before it is carried out, so nothing changed there; the adapter already backed off and retried."""

    outcome_known = True


def unavailable_message(error: GatewayUnavailable, what: str) -> str:
    """What staff are told when `what` (a capture, a refund) met an unavailable gateway."""
    if isinstance(error, GatewayRateLimited):
        return (
            f"The gateway is busy (too many requests), so the {what} was not sent; nothing was changed. "
            "Try again shortly."
        )
    if error.outcome_known:
        return f"The gateway could not be reached, so the {what} was not sent; nothing was changed. Try again shortly."
    return (
        f"The gateway did not answer in time, so the outcome of the {what} is unknown: it may have gone "
        "through. Nothing is recorded here until the gateway confirms it: its webhook, “Sync from gateway” "
        "or `flask payments reconcile` will settle it."
    )


class Gateway(Protocol):
    key_id: str

    def create_order(
        self, *, amount: int, currency: str, receipt: str, notes: dict, payment_capture: bool = True
    ) -> dict:
        """`payment_capture` False: the gateway only authorizes payments; we capture them (manual capture)."""
        ...

    def fetch_order(self, order_id: str) -> dict: ...
    def find_orders_by_receipt(self, receipt: str) -> list[dict]:
        """Gateway orders created with this receipt, newest first (finds one whose create timed out)."""
        ...

    def fetch_order_payments(self, order_id: str) -> list[dict]: ...
    def fetch_payment(self, payment_id: str) -> dict: ...
    def capture_payment(self, payment_id: str, amount: int, currency: str) -> dict: ...
    def refund_payment(
        self, payment_id: str, *, amount: int, idempotency_key: str, notes: dict | None = None
    ) -> dict: ...
    def fetch_refund(self, refund_id: str) -> dict: ...
    def fetch_payment_refunds(self, payment_id: str) -> list[dict]: ...
    def create_payment_link(
        self,
        *,
        amount: int,
        currency: str,
        reference_id: str,
        description: str,
        customer: dict,
        callback_url: str,
        expire_by: int | None,
        notes: dict,
    ) -> dict: ...
    def fetch_payment_link(self, plink_id: str) -> dict: ...
    def cancel_payment_link(self, plink_id: str) -> dict: ...
    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool: ...
    def verify_payment_link_signature(
        self, plink_id: str, reference_id: str, status: str, payment_id: str, signature: str
    ) -> bool: ...
    def verify_webhook_signature(self, body: bytes, signature: str) -> bool: ...
    def checkout_url(self, gateway_order_id: str, prefill: dict | None = None) -> str | None:
        """Where a customer pays this order in a browser (the sandbox's hosted checkout, with the customer's
        `prefill` name/email/contact); None for Razorpay, whose checkout is the JS widget in the customer's app."""
        ...
