"""Which event writes which message: one history listener, in the transaction of the change it describes.

Every state change goes through portal.statemachine (or `record_event` for a creation), and each history row
reaches `on_history` before the caller commits. A rule that matches adds its outbox row to the same session, so
a rolled-back change leaves no message and a committed one always has its row. Idempotency keys name the event
(`payment_received:order:42`), not the attempt: twenty duplicate webhooks, a callback racing its webhook, or a
retried job all write the key once (the order's row lock serialises them; the unique key is the last word).

Customer messages go to the order's billing email (else the customer's). A non-transactional kind is not written
at all for a customer who opted out (preferences.py): no row, so nothing can send it later by mistake.
Staff messages go to STAFF_ALERT_EMAILS, else to every active admin and finance user, one row per recipient.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.extensions import db
from portal.history.services import entity_type_of, on_record
from portal.notifications.models import Audience
from portal.notifications.outbox import queue_message
from portal.notifications.preferences import wants_updates

STAFF_ROLES = (Role.ADMIN, Role.FINANCE)
PAID_STATES = frozenset({"paid", "partially_refunded", "refunded"})


def customer_message(kind: str, order, key: str, *, payment=None, refund=None, context: dict | None = None):
    """Queue `kind` to the order's customer, unless it is non-transactional and they opted out."""
    from portal.notifications.kinds import KINDS

    customer = order.customer
    if not KINDS[kind].transactional and not wants_updates(customer):
        return None
    return queue_message(
        kind,
        to=order.billing_email or customer.email,
        key=key,
        audience=Audience.CUSTOMER,
        context=context,
        order=order,
        payment=payment,
        refund=refund,
        customer=customer,
    )


def staff_recipients() -> list[str]:
    """STAFF_ALERT_EMAILS (comma-separated), else every active admin and finance user's address."""
    configured = [e.strip() for e in current_app.config.get("STAFF_ALERT_EMAILS", "").split(",") if e.strip()]
    if configured:
        return list(dict.fromkeys(configured))
    query = select(User.email).where(User.active.is_(True), User.role.in_(STAFF_ROLES)).order_by(User.email)
    return list(db.session.scalars(query))


def staff_key(key: str, email: str) -> str:
    """One key per recipient; a long address is hashed so the key stays within the column."""
    full = f"{key}:{email.lower()}"
    return full if len(full) <= 200 else f"{key}:{hashlib.sha256(email.lower().encode()).hexdigest()[:16]}"


def staff_message(kind: str, key: str, *, context: dict | None = None, **about) -> int:
    """Queue `kind` to every staff recipient (one row each); returns how many rows were written."""
    written = 0
    for email in staff_recipients():
        message = queue_message(
            kind, to=email, key=staff_key(key, email), audience=Audience.STAFF, context=context, **about
        )
        written += message is not None
    return written


# ---------------------------------------------------------------- the rules


def _latest_settled_payment(order):
    settled = [p for p in order.payments if p.is_settled]
    return settled[-1] if settled else None


def order_placed(order, event) -> None:
    if order.checkout_id is not None:  # a checkout's vendor order is created paid: its receipt says it all
        return
    customer_message("order_placed", order, f"order_placed:order:{order.id}")


def receipt(order) -> None:
    payment = _latest_settled_payment(order)
    customer_message("payment_received", order, f"payment_received:order:{order.id}", payment=payment)


def order_paid(order, event) -> None:
    """The receipt (when invoices are issued automatically: else when finance issues it) and the staff alert."""
    if current_app.config.get("AUTO_INVOICE", True):
        receipt(order)
    payment = _latest_settled_payment(order)
    staff_message("staff_new_paid_order", f"staff_new_paid_order:order:{order.id}", order=order, payment=payment)
    vendor_approval(order)


def invoice_issued(invoice, event) -> None:
    """With AUTO_INVOICE off the receipt waits for its invoice; the same key, so never a second receipt (a
    re-issue after a void, or an automatic invoice whose receipt the payment already wrote)."""
    order = invoice.order
    if order.status in PAID_STATES:
        receipt(order)


def order_closed(order, event) -> None:
    """Cancelled or expired: the kind is named for the state."""
    kind = f"order_{event.to_state}"
    customer_message(kind, order, f"{kind}:order:{order.id}", context={"reason": event.reason or ""})


DEFAULT_MOVE_REASONS = ("marked ", "shipped with ", "accepted")  # the services' own wording, not a note to pass on


def goods_moved(order, event) -> None:
    """Shipped (with the carrier and tracking number) or delivered: the fulfilment machine's states; the
    order's own status never takes these names. A note typed with the move is passed on as well."""
    kind = f"order_{event.to_state}"
    context = {}
    if event.to_state == "shipped" and order.tracking_number:
        context = {"carrier": order.carrier, "tracking_number": order.tracking_number}
    if event.reason and not event.reason.startswith(DEFAULT_MOVE_REASONS):
        context["note"] = event.reason
    customer_message(kind, order, f"{kind}:order:{order.id}", context=context or None)


def vendor_approval(order) -> None:
    """A paid order waiting for its vendor's approval: the vendor is told (when it has an address)."""
    vendor = order.vendor
    if order.fulfilment_status != "awaiting_vendor" or vendor is None or not vendor.email:
        return
    key = f"vendor_order_awaiting:order:{order.id}"
    queue_message("vendor_order_awaiting", to=vendor.email, key=key, audience=Audience.STAFF, order=order)


def payment_failed(payment, event) -> None:
    order = payment.order
    if order is None:  # a checkout's payment: its failure is the checkout's (portal/cart tells the customer)
        return
    if not order.is_payable:  # a failed attempt on an order paid, cancelled or expired meanwhile: nothing to retry
        return
    customer_message("payment_failed", order, f"payment_failed:payment:{payment.id}", payment=payment)


def refund_initiated(refund, event) -> None:
    if refund.order is None:  # a checkout refunded before it had orders: `checkout_refunded` tells the customer
        return
    customer_message("refund_initiated", refund.order, f"refund_initiated:refund:{refund.id}", refund=refund)


def refund_processed(refund, event) -> None:
    if refund.order is None:
        return
    customer_message("refund_processed", refund.order, f"refund_processed:refund:{refund.id}", refund=refund)


def refund_failed(refund, event) -> None:
    # Each attempt has its own gateway idempotency key (a retry of a failed refund takes a new one): one alert each.
    key = f"staff_refund_failed:refund:{refund.id}:{refund.idempotency_key[:16]}"
    context = {"reason": refund.failure_reason or event.reason or ""}
    staff_message("staff_refund_failed", key, context=context, order=refund.order_id, refund=refund)


def dispute_opened(dispute, event) -> None:
    payment = dispute.payment
    key = f"staff_dispute_opened:dispute:{dispute.id}"
    context = {"dispute_id": dispute.id, "gateway_dispute_id": dispute.gateway_dispute_id}
    staff_message("staff_dispute_opened", key, context=context, order=payment.order_id, payment=payment)


# (entity type, history action, to_state) -> rule
RULES = {
    ("order", "create", "pending"): order_placed,
    ("order", "transition", "paid"): order_paid,
    ("invoice", "transition", "issued"): invoice_issued,
    ("order", "transition", "cancelled"): order_closed,
    ("order", "transition", "expired"): order_closed,
    ("order", "transition", "shipped"): goods_moved,
    ("order", "transition", "delivered"): goods_moved,
    ("payment", "transition", "failed"): payment_failed,
    ("refund", "create", "pending"): refund_initiated,
    ("refund", "transition", "processed"): refund_processed,
    ("refund", "transition", "failed"): refund_failed,
    ("dispute", "create", "open"): dispute_opened,
}


def on_history(entity, event) -> None:
    """The history listener: run the rule for this (entity type, action, new state), if there is one."""
    rule = RULES.get((entity_type_of(entity), event.action, str(event.to_state) if event.to_state else None))
    if rule is not None:
        rule(entity, event)


def init_app(app) -> None:
    """Register the listener, the message kinds and the webhook-failure alert (schedule and command)."""
    from portal.notifications import alerts, catalogue  # noqa: F401  (catalogue: registers the kinds)

    on_record(on_history)
    alerts.init_app(app)
