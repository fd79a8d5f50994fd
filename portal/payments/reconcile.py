"""Reconciliation: the gateway's truth about an order (its payments and their refunds) compared with ours,
and repaired through the same services the webhooks use.

It is the safety net for everything a webhook can miss — a delivery we never got, a crash between the
gateway's success and our commit. A dry run reports the drift and writes nothing; a real run applies
each drifted entity and writes one history note on the order saying what changed and why.

Drift runs both ways. What the gateway has and we lack (or hold in an older state) is repaired. What we hold
and the gateway has no record of — an order, link, payment or refund that a forged-but-signed webhook or a
bad import put in our books — and refunds exceeding what was captured are *findings*: reported on every run,
never repaired automatically, because deleting or reversing money records needs a person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select

from portal.extensions import db
from portal.gateway import GatewayError, GatewayRejected, get_gateway
from portal.history.services import Actor, record_event
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.payments.status import PAYMENT, PaymentStatus
from portal.refunds.invariants import exceeds_captured
from portal.refunds.models import Refund
from portal.refunds.settlement import apply_gateway_refund
from portal.refunds.status import REFUND, RefundStatus

log = logging.getLogger("portal.payments.reconcile")
UNKNOWN = "unknown"  # `theirs` of a record the gateway has no trace of
CAPTURED_STATES = (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


@dataclass(frozen=True)
class Drift:
    kind: str  # order, payment link, payment or refund
    gateway_id: str
    ours: str | None  # our status, None when we have no record
    theirs: str
    entity: dict = field(repr=False, compare=False, hash=False)
    finding: str | None = None  # set: not repairable here, reported for a person to review

    @property
    def repairable(self) -> bool:
        return self.finding is None

    @property
    def reason(self) -> str:
        if self.finding:
            return f"reconciliation: {self.finding}"
        held = f"we had {self.ours}" if self.ours else "we had no record of it"
        return f"reconciliation: gateway reports {self.kind} {self.gateway_id} {self.theirs}, {held}"


def _finding(kind: str, gateway_id: str, ours: str | None, text: str) -> Drift:
    return Drift(kind, gateway_id, ours, UNKNOWN, {}, finding=text)


def _unknown_at_gateway(kind: str, gateway_id: str, ours: str) -> Drift:
    return _finding(kind, gateway_id, ours, f"the gateway has no record of {kind} {gateway_id} (we have it {ours})")


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

    @property
    def repairs(self) -> list[Drift]:
        return [d for d in self.drifts if d.repairable]

    @property
    def findings(self) -> list[Drift]:
        return [d for d in self.drifts if not d.repairable]

    def lines(self) -> list[str]:
        if self.error:
            return [f"{self.order_number}: could not sync: {self.error}"]
        if not self.drifts:
            return [f"{self.order_number}: in sync with the gateway"]
        verb = "would repair" if self.dry_run else "repaired"
        lines = [f"{self.order_number}: {verb}: {d.reason.removeprefix('reconciliation: ')}" for d in self.repairs]
        return lines + [f"{self.order_number}: needs review: {d.finding}" for d in self.findings]


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


def _known(fetch) -> dict | None:
    """The gateway's entity, or None when it refuses the id (Razorpay: "The id provided does not exist").
    GatewayUnavailable propagates: that order could not be checked at all."""
    try:
        return fetch()
    except GatewayRejected:
        return None


@dataclass
class _Look:
    """What one order's check has gathered so far."""

    order: Order
    payments: dict[str, dict] = field(default_factory=dict)
    refund_ids: set[str] = field(default_factory=set)
    drifts: list[Drift] = field(default_factory=list)
    status: str | None = None


def _look_at_gateway_order(look: _Look) -> None:
    order, gateway = look.order, get_gateway()
    entity = _known(lambda: gateway.fetch_order(order.gateway_order_id))
    if entity is None:
        look.drifts.append(_unknown_at_gateway("order", order.gateway_order_id, str(order.status)))
        return
    look.status = entity.get("status")
    look.payments.update({p["id"]: p for p in gateway.fetch_order_payments(order.gateway_order_id)})


def _look_at_link(look: _Look) -> None:
    """A payment link's payments live on the link's own gateway order."""
    order, gateway = look.order, get_gateway()
    link = _known(lambda: gateway.fetch_payment_link(order.payment_link_id))
    if link is None:
        look.drifts.append(_unknown_at_gateway("payment link", order.payment_link_id, str(order.status)))
        return
    for item in link.get("payments") or []:
        payment_id = item.get("payment_id") or item.get("id")
        if payment_id and payment_id not in look.payments:
            entity = _known(lambda pid=payment_id: gateway.fetch_payment(pid))
            if entity is not None:
                look.payments[payment_id] = entity


def _look_for_our_payments(look: _Look) -> None:
    """Ours the gateway did not list for this order: elsewhere at the gateway (checked like the rest), or nowhere."""
    ours = db.session.execute(
        select(Payment.gateway_payment_id, Payment.status).where(Payment.order_id == look.order.id)
    ).all()
    for payment_id, status in ours:
        if payment_id in look.payments:
            continue
        entity = _known(lambda pid=payment_id: get_gateway().fetch_payment(pid))
        if entity is None:
            look.drifts.append(_unknown_at_gateway("payment", payment_id, str(status)))
        else:
            look.payments[payment_id] = entity


def _look_at_payments(look: _Look) -> None:
    for payment in look.payments.values():
        drift = _payment_drift(payment)
        if drift:
            look.drifts.append(drift)
        if exceeds_captured(payment.get("amount") or 0, payment.get("amount_refunded") or 0):
            refunded, amount = payment["amount_refunded"], payment["amount"]
            text = f"the gateway reports payment {payment['id']} refunded {refunded} of {amount}"
            look.drifts.append(_finding("payment", payment["id"], None, text))
        if payment.get("status") in (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED) or payment.get("amount_refunded"):
            refunds = get_gateway().fetch_payment_refunds(payment["id"])
            look.refund_ids |= {r["id"] for r in refunds}
            look.drifts += [d for d in map(_refund_drift, refunds) if d]


def _look_for_our_refunds(look: _Look) -> None:
    ours = db.session.execute(
        select(Refund.gateway_refund_id, Refund.status).where(
            Refund.order_id == look.order.id, Refund.gateway_refund_id.is_not(None)
        )
    ).all()
    for refund_id, status in ours:
        if refund_id not in look.refund_ids and _known(lambda rid=refund_id: get_gateway().fetch_refund(rid)) is None:
            look.drifts.append(_unknown_at_gateway("refund", refund_id, str(status)))


def _over_refunds(order_id: int) -> list[Drift]:
    """The invariant guard, from our own books: processed and pending refunds of a payment never exceed what
    was captured (refunds.invariants.exceeds_captured, the rule the refund services refuse at store time)."""
    refunded = func.coalesce(func.sum(Refund.amount), 0)
    rows = db.session.execute(
        select(Payment.gateway_payment_id, Payment.status, Payment.amount, Payment.currency, refunded)
        .join(Refund, Refund.payment_id == Payment.id)
        .where(Payment.order_id == order_id, Refund.status.in_((RefundStatus.PROCESSED, RefundStatus.PENDING)))
        .group_by(Payment.id)
    ).all()
    drifts = []
    for payment_id, status, amount, currency, total in rows:
        captured = amount if status in CAPTURED_STATES else 0
        if exceeds_captured(captured, total):
            text = (
                f"payment {payment_id} has {total} refunded of {captured} captured "
                f"({currency} minor units, processed and pending refunds)"
            )
            drifts.append(_finding("payment", payment_id, str(status), text))
    return drifts


def find_drift(order: Order) -> tuple[str | None, list[Drift]]:
    """(gateway order status, drift) — what the gateway has that we lack or hold older (payments first, then
    their refunds), then what we hold that the gateway has no record of, then refunds beyond the captured
    amount. Reads only; a gateway that is unavailable raises GatewayUnavailable."""
    look = _Look(order)
    if order.gateway_order_id:
        _look_at_gateway_order(look)
    if order.payment_link_id:
        _look_at_link(look)
    _look_for_our_payments(look)
    _look_at_payments(look)
    _look_for_our_refunds(look)
    return look.status, look.drifts + _over_refunds(order.id)


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
    record_event(order, action="reconciled", actor=actor, reason="; ".join(d.reason for d in report.repairs))
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
            report.applied = [_apply(order, drift, actor) for drift in report.repairs]
            if report.repairs:
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

    @property
    def to_review(self) -> int:
        return sum(len(r.findings) for r in self.reports)

    def line(self) -> str:
        changes = sum(len(r.repairs) for r in self.reports)
        verb = "would repair" if self.dry_run else "repaired"
        return (
            f"checked {self.checked} order(s): {len(self.drifted)} drifted, {verb} {changes} record(s), "
            f"{len(self.failed)} failed; {self.to_review} need review"
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
    reports = [_sync_guarded(order_id, actor, dry_run) for order_id in orders_to_check(since)]
    return ReconcileSummary(reports, dry_run)


def _sync_guarded(order_id: int, actor: Actor, dry_run: bool) -> SyncReport:
    """One order's sync; whatever breaks on it is that order's failure, and the run goes on to the next."""
    try:
        return sync_order(order_id, actor=actor, dry_run=dry_run)
    except Exception as exc:  # the run must finish and say what it could not check
        log.exception("reconcile: order %s failed", order_id)
        db.session.rollback()
        order = db.session.get(Order, order_id)
        report = SyncReport(order_id, order.number if order else str(order_id), dry_run=dry_run)
        report.error = f"{type(exc).__name__}: {exc}"
        return report
