"""Admin-only order operations: deleting an unpaid order and bulk cancellation.

Like every service, each function owns its transaction; a bulk action is a series of whole,
independent changes (one order each), so a refusal on one order never leaves another half-done.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.invoices.models import Invoice
from portal.orders.models import Order
from portal.orders.services import cancel_order, get_order_for_update, restock
from portal.orders.status import OrderStatus
from portal.payments.models import Payment
from portal.statemachine import IllegalTransition


class OrderNotDeletable(Exception):
    """Only a pending order that never saw a payment (nor an invoice) may be deleted."""


def delete_order(order_id: int, *, actor: Actor, reason: str = "") -> str:
    """Delete a pending order with no payments; restock its items; keep a history row. Commits.

    Returns the deleted order's number.
    """
    try:
        order = get_order_for_update(order_id)
        if order.status != OrderStatus.PENDING:
            raise OrderNotDeletable(f"Order {order.number} is {order.status}; only pending orders can be deleted.")
        payments = db.session.scalar(select(func.count()).select_from(Payment).where(Payment.order_id == order.id))
        invoices = db.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.order_id == order.id))
        if payments or invoices:
            raise OrderNotDeletable(f"Order {order.number} has payments or an invoice; cancel it instead.")
        number = order.number
        restock(order)
        # The audit trail outlives the row: history keeps entity type and id, not a foreign key.
        record_event(order, action="delete", actor=actor, from_state=str(order.status), reason=reason or "deleted")
        db.session.delete(order)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return number


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self, verb: str) -> str:
        text = f"{verb} {len(self.changed)} order(s)"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} that could not be {verb.lower()} ({', '.join(self.skipped[:5])}"
            text += "…)" if len(self.skipped) > 5 else ")"
        return text + "."


def bulk_issue_invoices(order_ids: list[int], *, actor: Actor, issue, refused: tuple) -> BulkResult:
    """Issue the missing invoice of each paid order among `order_ids` with the invoices service `issue`;
    orders it refuses (`refused` exceptions: already invoiced, not paid) are reported as skipped."""
    result = BulkResult()
    for order_id in order_ids:
        number = db.session.scalar(select(Order.number).where(Order.id == order_id)) or f"#{order_id}"
        try:
            issue(order_id, actor=actor, reason="issued in bulk from the orders list")
        except refused:
            result.skipped.append(number)
        else:
            result.changed.append(number)
    return result


def bulk_cancel(order_ids: list[int], *, actor: Actor, reason: str) -> BulkResult:
    """Cancel each pending order among `order_ids`, one transaction per order; report what changed."""
    result = BulkResult()
    for order_id in order_ids:
        number = db.session.scalar(select(Order.number).where(Order.id == order_id)) or f"#{order_id}"
        try:
            cancel_order(order_id, actor=actor, reason=reason)
        except (IllegalTransition, LookupError):
            result.skipped.append(number)
        else:
            result.changed.append(number)
    return result
