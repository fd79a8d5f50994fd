"""The payment state machine (Razorpay's payment lifecycle, plus our refund progress)."""

from enum import StrEnum

from portal.statemachine import Machine


class PaymentStatus(StrEnum):
    CREATED = "created"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"


S = PaymentStatus
PAYMENT_TRANSITIONS = {
    S.CREATED: {S.AUTHORIZED, S.FAILED},
    S.AUTHORIZED: {S.CAPTURED, S.FAILED},
    S.CAPTURED: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.REFUNDED},
    # Razorpay documents late authorisation: a failed payment can still be authorised or captured.
    S.FAILED: {S.AUTHORIZED, S.CAPTURED},
}
PAYMENT = Machine("payment", PaymentStatus, PAYMENT_TRANSITIONS, initial=S.CREATED)
SETTLED = frozenset({S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED})  # money was captured


class DisputeStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"
    CLOSED = "closed"
