"""Checkouts in reconciliation: a checkout's one gateway order is synced through the checkout, not per order.

Its vendor orders have no gateway order of their own (`orders_to_check` never picks them); what can drift is
a payment on the checkout's gateway order that neither verify nor the webhook applied. `sync_checkout` fetches
that gateway order's payments and applies each through `apply_checkout_payment` (orders, or the full refund),
so `flask payments reconcile` and a payment's "Sync from gateway" complete such a checkout exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from portal.cart.completion import apply_checkout_payment
from portal.cart.models import Checkout
from portal.cart.status import OPEN
from portal.extensions import db
from portal.gateway import GatewayError, get_gateway
from portal.history.services import Actor
from portal.payments.models import Payment
from portal.payments.status import PAYMENT


@dataclass
class CheckoutSync:
    number: str
    applied: list[str] = field(default_factory=list)
    error: str | None = None


def _behind(payment: Payment | None, entity: dict) -> bool:
    """Whether the gateway knows more about this payment than we do."""
    if payment is None:
        return True
    theirs = "captured" if entity.get("status") == "refunded" else entity.get("status")
    return payment.status != theirs and PAYMENT.path(payment.status, theirs) is not None


def sync_checkout(checkout_id: int, *, actor: Actor, dry_run: bool = False) -> CheckoutSync:
    """Apply every payment of the checkout's gateway order that we hold in an older state (or not at all)."""
    checkout = db.session.get(Checkout, checkout_id)
    report = CheckoutSync(checkout.number)
    if not checkout.gateway_order_id:
        return report
    try:
        entities = get_gateway().fetch_order_payments(checkout.gateway_order_id)
    except GatewayError as exc:
        report.error = str(exc) or "gateway unavailable"
        return report
    for entity in entities:
        ours = db.session.scalar(select(Payment).where(Payment.gateway_payment_id == entity["id"]))
        if not _behind(ours, entity):
            continue
        if dry_run:
            report.applied.append(f"would apply payment {entity['id']} ({entity['status']})")
            continue
        outcome = apply_checkout_payment(entity, actor=actor, reason="reconciliation")
        report.applied.append(f"payment {entity['id']} {entity['status']}: checkout {outcome.state}")
    return report


def checkouts_to_check(since: datetime) -> list[int]:
    """Open checkouts with a gateway order (a payment may be waiting there), and those changed since `since`."""
    query = (
        select(Checkout.id)
        .where(Checkout.gateway_order_id.is_not(None))
        .where(or_(Checkout.status.in_([str(s) for s in OPEN]), Checkout.updated_at >= since))
        .order_by(Checkout.id)
    )
    return list(db.session.scalars(query))


def sync_checkouts(since: datetime, *, actor: Actor, dry_run: bool = False) -> list[CheckoutSync]:
    """`sync_checkout` for every checkout `checkouts_to_check(since)` picks (the reconcile pass and its schedule)."""
    return [sync_checkout(checkout_id, actor=actor, dry_run=dry_run) for checkout_id in checkouts_to_check(since)]


def summary_line(reports: list[CheckoutSync], dry_run: bool) -> str:
    changed = sum(bool(r.applied) for r in reports)
    failed = sum(r.error is not None for r in reports)
    verb = "to repair" if dry_run else "repaired"
    return f"checkouts: {len(reports)} checked, {changed} {verb}, {failed} failed"
