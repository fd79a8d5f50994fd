"""Reconciliation: the gateway's truth about an order (its payments and their refunds) compared with ours,
and repaired through the same services the webhooks use.

It is the safety net for everything a webhook can miss — a delivery we never got, a crash between the
gateway's success and our commit. A dry run reports the drift and writes nothing; a real run applies
each drifted entity and writes one history note on the order saying what changed and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from portal.extensions import db
from portal.gateway import GatewayError, get_gateway
from portal.history.services import Actor, record_event
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.payments.status import PAYMENT, PaymentStatus
from portal.refunds.models import Refund
from portal.refunds.settlement import apply_gateway_refund
from portal.refunds.status import REFUND, RefundStatus


@dataclass(frozen=True)
class Drift:
    kind: str  # payment or refund
    gateway_id: str
    ours: str | None  # our status, None when we have no record
    theirs: str
    entity: dict = field(repr=False, compare=False, hash=False)

    @property
    def reason(self) -> str:
        held = f"we had {self.ours}" if self.ours else "we had no record of it"
        return f"reconciliation: gateway reports {self.kind} {self.gateway_id} {self.theirs}, {held}"


@dataclass
class SyncReport:
    order_id: int
    order_number: str
    gateway_status: str | None = None
    drifts: list[Drift] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    error: str | None = None
    dry_run: bool = False

    @property
    def in_sync(self) -> bool:
        return not self.drifts and self.error is None

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.order_number}: could not sync: {self.error}"]
        if not self.drifts:
            return [f"{self.order_number}: in sync with the gateway"]
        verb = "would repair" if self.dry_run else "repaired"
        return [f"{self.order_number}: {verb}: {d.reason.removeprefix('reconciliation: ')}" for d in self.drifts]


def _payment_target(entity: dict) -> str:
    # A gateway `refunded` payment is captured as far as the payment goes; refunds carry the rest.
    status = entity.get("status")
    return PaymentStatus.CAPTURED if status == PaymentStatus.REFUNDED else status


def _payment_drift(entity: dict) -> Drift | None:
    ours = db.session.scalar(select(Payment.status).where(Payment.gateway_payment_id == entity["id"]))
    target = _payment_target(entity)
    if ours is None:
        return Drift("payment", entity["id"], None, entity["status"], entity)
    if ours == target or PAYMENT.is_behind(ours, target):
        return None
    if target == PaymentStatus.CAPTURED and ours in (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
        return None
    return Drift("payment", entity["id"], str(ours), entity["status"], entity)


def _our_refund_status(entity: dict) -> str | None:
    ours = db.session.scalar(select(Refund.status).where(Refund.gateway_refund_id == entity["id"]))
    notes = entity.get("notes")
    key = notes.get("idempotency_key") if isinstance(notes, dict) else None
    if ours is None and key:  # a refund we sent whose answer never came back (matched like apply_gateway_refund)
        ours = db.session.scalar(select(Refund.status).where(Refund.idempotency_key == key))
    return ours


def _refund_drift(entity: dict) -> Drift | None:
    ours = _our_refund_status(entity)
    target = entity.get("status")
    if ours is None:
        return Drift("refund", entity["id"], None, target, entity)
    if ours == target or REFUND.is_behind(ours, target):
        return None
    if ours == RefundStatus.FAILED and target == RefundStatus.PENDING:
        return None  # older news about a failed refund, not a retry
    return Drift("refund", entity["id"], str(ours), target, entity)


def _gateway_payments(order: Order) -> list[dict]:
    """The order's payments at the gateway, plus those of its payment link (which has its own order)."""
    gateway = get_gateway()
    payments = {}
    if order.gateway_order_id:
        payments = {p["id"]: p for p in gateway.fetch_order_payments(order.gateway_order_id)}
    if order.payment_link_id:
        link = gateway.fetch_payment_link(order.payment_link_id)
        for item in link.get("payments") or []:
            payment_id = item.get("payment_id") or item.get("id")
            if payment_id and payment_id not in payments:
                payments[payment_id] = gateway.fetch_payment(payment_id)
    return list(payments.values())


def find_drift(order: Order) -> tuple[str | None, list[Drift]]:
    """(gateway order status, drifted entities) — payments first, then their refunds. Reads only."""
    gateway = get_gateway()
    status = gateway.fetch_order(order.gateway_order_id).get("status") if order.gateway_order_id else None
    drifts: list[Drift] = []
    for payment in _gateway_payments(order):
        drift = _payment_drift(payment)
        if drift:
            drifts.append(drift)
        if payment.get("status") in (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED) or payment.get("amount_refunded"):
            drifts += [d for d in map(_refund_drift, gateway.fetch_payment_refunds(payment["id"])) if d]
    return status, drifts


def _apply(order: Order, drift: Drift, actor: Actor) -> str:
    if drift.kind == "payment":
        linked = drift.entity.get("order_id") != order.gateway_order_id
        outcome = apply_gateway_payment(
            drift.entity, actor=actor, reason=drift.reason, order_id=order.id if linked else None
        )
        return f"payment {drift.gateway_id} → {outcome.payment.status}, order {outcome.order.status}"
    refund = apply_gateway_refund(drift.entity, actor=actor, reason=drift.reason)
    return f"refund {drift.gateway_id} → {refund.status}"


def _note(order_id: int, report: SyncReport, actor: Actor) -> None:
    order = db.session.get(Order, order_id)
    record_event(order, action="reconciled", actor=actor, reason="; ".join(d.reason for d in report.drifts))
    db.session.commit()


def sync_order(order_id: int, *, actor: Actor, dry_run: bool = False) -> SyncReport:
    """Fetch the gateway's truth for one order and repair what differs (or only report it when dry_run).

    Gateway failures are reported on the SyncReport, not raised: reconciliation carries on with other orders.
    """
    order = db.session.get(Order, order_id)
    if order is None:
        raise LookupError(f"order {order_id}")
    report = SyncReport(order.id, order.number, dry_run=dry_run)
    try:
        report.gateway_status, report.drifts = find_drift(order)
        if not dry_run:
            report.applied = [_apply(order, drift, actor) for drift in report.drifts]
            if report.drifts:
                _note(order_id, report, actor)
    except (GatewayError, LookupError, ValueError) as exc:
        db.session.rollback()
        report.error = f"{type(exc).__name__}: {exc}"
    return report


def sync_payment(payment_id: int, *, actor: Actor, dry_run: bool = False) -> SyncReport:
    """Sync the order a payment belongs to (a payment's truth includes its order's other payments)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise LookupError(f"payment {payment_id}")
    return sync_order(payment.order_id, actor=actor, dry_run=dry_run)


@dataclass
class ReconcileSummary:
    reports: list[SyncReport]
    dry_run: bool

    @property
    def checked(self) -> int:
        return len(self.reports)

    @property
    def drifted(self) -> list[SyncReport]:
        return [r for r in self.reports if r.drifts]

    @property
    def failed(self) -> list[SyncReport]:
        return [r for r in self.reports if r.error]

    def line(self) -> str:
        changes = sum(len(r.drifts) for r in self.reports)
        verb = "would repair" if self.dry_run else "repaired"
        return (
            f"checked {self.checked} order(s): {len(self.drifted)} drifted, {verb} {changes} record(s), "
            f"{len(self.failed)} failed"
        )


def orders_to_check(since: datetime) -> list[int]:
    """Orders with a gateway presence created since `since`, plus any with a refund still pending."""
    pending_refund = select(Refund.order_id).where(Refund.status == RefundStatus.PENDING)
    query = (
        select(Order.id)
        .where(
            or_(Order.gateway_order_id.is_not(None), Order.payment_link_id.is_not(None)),
            or_(Order.created_at >= since, Order.id.in_(pending_refund)),
        )
        .order_by(Order.id)
    )
    return list(db.session.scalars(query))


def reconcile(since: datetime, *, dry_run: bool = False, actor: Actor | None = None) -> ReconcileSummary:
    """Compare every recent order with the gateway and repair drift (`flask payments reconcile`)."""
    actor = actor or Actor.system("reconcile")
    reports = [sync_order(order_id, actor=actor, dry_run=dry_run) for order_id in orders_to_check(since)]
    return ReconcileSummary(reports, dry_run)
