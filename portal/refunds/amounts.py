"""The amounts the refund money rule is computed from, per payment and per (payment, order).

A single order's payment pays that order in full (one allocation); a checkout's payment pays one order per
vendor (one allocation each). What a refund for an order may take is that order's allocation less its own
processed and pending refunds on the payment, and never more than the payment's own refundable.
"""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.models import Order
from portal.payments.models import Payment, PaymentAllocation
from portal.payments.status import SETTLED
from portal.refunds.errors import InvalidRefund
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus

_ANY_ORDER = object()


def refunded_total(payment: Payment, statuses=(RefundStatus.PROCESSED,), order_id=_ANY_ORDER) -> int:
    """The sum of the payment's refunds in `statuses`; with `order_id`, only that order's share of them."""
    query = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id, Refund.status.in_([str(s) for s in statuses])
    )
    if order_id is not _ANY_ORDER:
        query = query.where(Refund.order_id == order_id if order_id is not None else Refund.order_id.is_(None))
    return int(db.session.scalar(query))


def allocated_amount(payment: Payment, order_id: int | None) -> int:
    """What of the payment paid `order_id` (its allocation); the whole payment when it paid no order yet
    (a checkout's payment refunded because its orders could not be created)."""
    if order_id is None:
        return payment.amount if not payment.allocations else 0
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
                PaymentAllocation.payment_id == payment.id, PaymentAllocation.order_id == order_id
            )
        )
    )


def refundable_amount(payment: Payment, order_id=_ANY_ORDER) -> int:
    """Captured − processed − pending: what can still be refunded (0 unless money was captured).

    With `order_id` (a checkout's payment pays several vendor orders): no more than that order's allocation
    less the processed and pending refunds of that order on this payment, and never more than the payment's
    own refundable. Pending refunds count whether or not they reached the gateway yet: an unsent refund may
    be sent at any moment. Failed refunds do not count; sending one again re-checks this amount.
    """
    if not payment.is_settled:
        return 0
    committed = (RefundStatus.PROCESSED, RefundStatus.PENDING)
    left = max(payment.amount - refunded_total(payment, committed), 0)
    if order_id is _ANY_ORDER:
        return left
    share = allocated_amount(payment, order_id) - refunded_total(payment, committed, order_id)
    return max(min(left, share), 0)


def refundable_amounts(payments, order_id: int | None = None) -> dict[int, int]:
    """{payment id: refundable_amount} for several payments (an order page's); with `order_id`, its share."""
    ids = [p.id for p in payments]
    committed = dict(
        db.session.execute(
            select(Refund.payment_id, func.sum(Refund.amount))
            .where(
                Refund.payment_id.in_(ids or [0]),
                Refund.status.in_([RefundStatus.PROCESSED.value, RefundStatus.PENDING.value]),
            )
            .group_by(Refund.payment_id)
        ).all()
    )
    left = {p.id: max(p.amount - int(committed.get(p.id, 0)), 0) if p.is_settled else 0 for p in payments}
    if order_id is None or all(p.order_id == order_id for p in payments):
        return left  # single-order payments: the order's share is the whole payment
    shares = _sums_by_payment(PaymentAllocation.amount, PaymentAllocation.payment_id, ids, order_id)
    taken = _sums_by_payment(Refund.amount, Refund.payment_id, ids, order_id, committed_only=True)
    return {pid: max(min(value, shares.get(pid, 0) - taken.get(pid, 0)), 0) for pid, value in left.items()}


def _sums_by_payment(amount, payment_column, ids, order_id, committed_only=False) -> dict[int, int]:
    table = amount.class_
    query = (
        select(payment_column, func.sum(amount))
        .where(payment_column.in_(ids or [0]), table.order_id == order_id)
        .group_by(payment_column)
    )
    if committed_only:
        query = query.where(Refund.status.in_([RefundStatus.PROCESSED.value, RefundStatus.PENDING.value]))
    return {pid: int(total) for pid, total in db.session.execute(query).all()}


def order_paid_and_refunded(order: Order) -> tuple[int, int]:
    """(paid share, refunded share) of an order over every settled payment that paid part of it."""
    settled = [str(s) for s in SETTLED]
    paid = db.session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.order_id == order.id, Payment.status.in_(settled))
    )
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.order_id == order.id, Refund.status == RefundStatus.PROCESSED, Payment.status.in_(settled))
    )
    return int(paid), int(refunded)


def order_for_refund(payment_id: int, order_id: int | None = None) -> int | None:
    """Which order a refund of this payment is for: the payment's own order, else `order_id` (which must be one
    the payment paid), else its only allocation; None for a checkout payment that paid no order. Raises
    InvalidRefund when the payment paid several orders and none was named, or not the one named."""
    own = db.session.scalar(select(Payment.order_id).where(Payment.id == payment_id))
    allocated = list(
        db.session.scalars(
            select(PaymentAllocation.order_id)
            .where(PaymentAllocation.payment_id == payment_id)
            .order_by(PaymentAllocation.id)
        )
    )
    if order_id is not None:
        if order_id != own and order_id not in allocated:
            raise InvalidRefund(f"Payment {payment_id} did not pay order {order_id}.")
        return order_id
    if own is not None:
        return own
    if len(allocated) > 1:
        raise InvalidRefund("This payment paid several orders: choose which order the refund is for.")
    return allocated[0] if allocated else None
