"""The order state machines: payment status and, for physical goods, fulfilment."""

from enum import StrEnum

from portal.statemachine import Machine


class OrderStatus(StrEnum):
    PENDING = "pending"  # awaiting payment
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


S = OrderStatus
ORDER_TRANSITIONS = {
    S.PENDING: {S.PAID, S.FAILED, S.CANCELLED, S.EXPIRED},
    S.FAILED: {S.PENDING, S.PAID, S.CANCELLED},
    S.PAID: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.REFUNDED},
}
ORDER = Machine("order", OrderStatus, ORDER_TRANSITIONS, initial=S.PENDING)
PAYABLE = frozenset({S.PENDING, S.FAILED})  # states from which a payment can make the order paid


class FulfilmentStatus(StrEnum):
    NOT_REQUIRED = "not_required"
    UNFULFILLED = "unfulfilled"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


F = FulfilmentStatus
FULFILMENT_TRANSITIONS = {
    F.UNFULFILLED: {F.PROCESSING},
    F.PROCESSING: {F.SHIPPED},
    F.SHIPPED: {F.DELIVERED},
}
FULFILMENT = Machine("fulfilment", FulfilmentStatus, FULFILMENT_TRANSITIONS, attribute="fulfilment_status")
