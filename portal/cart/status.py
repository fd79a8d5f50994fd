"""The checkout state machine.

A checkout is the cart frozen for payment: its reservations hold the stock, its one gateway order takes
one payment. It is `paid` once the orders (one per vendor) exist; money that arrived without orders
being possible (expired, stock gone, a vendor deactivated) is refunded in full: `refunded`.
"""

from enum import StrEnum

from portal.statemachine import Machine


class CheckoutStatus(StrEnum):
    PENDING = "pending"  # reserved, awaiting payment
    FAILED = "failed"  # the payment failed; reservations released; the customer may retry
    PAID = "paid"  # verified payment, orders created
    EXPIRED = "expired"  # not paid within RESERVATION_TTL_MINUTES; reservations released
    CANCELLED = "cancelled"
    REFUNDED = "refunded"  # paid, but the orders could not be created: the money went back


S = CheckoutStatus
CHECKOUT_TRANSITIONS = {
    S.PENDING: {S.PAID, S.FAILED, S.EXPIRED, S.CANCELLED, S.REFUNDED},
    S.FAILED: {S.PAID, S.EXPIRED, S.CANCELLED, S.REFUNDED},
    S.EXPIRED: {S.REFUNDED},  # a payment that lands late
    S.CANCELLED: {S.REFUNDED},
}
CHECKOUT = Machine("checkout", CheckoutStatus, CHECKOUT_TRANSITIONS, initial=S.PENDING)
OPEN = frozenset({S.PENDING, S.FAILED})  # a payment may still complete it
ABANDONED = frozenset({S.EXPIRED, S.CANCELLED})
