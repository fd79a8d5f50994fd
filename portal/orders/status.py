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
    S.FAILED: {S.PENDING, S.PAID, S.CANCELLED, S.EXPIRED},  # a failed payment's order lapses like a pending one
    S.PAID: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.REFUNDED},
}
ORDER = Machine("order", OrderStatus, ORDER_TRANSITIONS, initial=S.PENDING)
PAYABLE = frozenset({S.PENDING, S.FAILED})  # states from which a payment can make the order paid


class FulfilmentStatus(StrEnum):
    NOT_REQUIRED = "not_required"  # nothing to ship (courses, services), approved or auto-approved
    AWAITING_VENDOR = "awaiting_vendor"  # a vendor without auto-approve has not accepted the order yet
    REJECTED = "rejected"  # the vendor refused it; its share of the payment is refunded
    UNFULFILLED = "unfulfilled"  # paid (and accepted): goods to prepare
    PROCESSING = "processing"
    READY_FOR_SHIPMENT = "ready_for_shipment"
    SHIPPED = "shipped"  # handed to the carrier (carrier, tracking number)
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    RETURNED = "returned"  # the goods came back (a return, or a rental's end): restocked by quantity


F = FulfilmentStatus
FULFILMENT_TRANSITIONS = {
    F.AWAITING_VENDOR: {F.UNFULFILLED, F.NOT_REQUIRED, F.REJECTED},
    F.UNFULFILLED: {F.PROCESSING},
    F.PROCESSING: {F.READY_FOR_SHIPMENT, F.SHIPPED},
    F.READY_FOR_SHIPMENT: {F.SHIPPED},
    F.SHIPPED: {F.IN_TRANSIT, F.DELIVERED, F.RETURNED},
    F.IN_TRANSIT: {F.DELIVERED, F.RETURNED},
    F.DELIVERED: {F.RETURNED},
}
FULFILMENT = Machine("fulfilment", FulfilmentStatus, FULFILMENT_TRANSITIONS, attribute="fulfilment_status")
