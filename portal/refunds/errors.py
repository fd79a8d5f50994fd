"""What can go wrong with a refund; `status` is the HTTP status a view answers with."""

from __future__ import annotations


class RefundError(Exception):
    """A refund request that cannot be done; `status` is the HTTP status a view answers with."""

    status = 422


class RefundNotFound(RefundError, LookupError):
    status = 404


class PaymentNotRefundable(RefundError):
    """The payment holds no captured money (created, authorised or failed)."""

    status = 409


class RefundExceedsRefundable(RefundError):
    """More than captured − processed − pending."""


class InvalidRefund(RefundError):
    """Bad input: amount, reason, notes or lines."""


class RefundActionNotAllowed(RefundError):
    """The refund's state does not allow this action (process, delete)."""

    status = 409


class RefundExceedsCaptured(RefundError, ValueError):
    """A gateway refund that would make the payment's refunds exceed its capture: refused, never stored."""

    status = 409


class RefundNotSent(RefundError):
    """The refund is saved as pending, but the gateway did not take it (down, or no answer in time)."""

    status = 503


class UnknownGatewayPayment(LookupError):
    pass
