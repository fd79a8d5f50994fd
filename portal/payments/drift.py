"""Drift between the gateway's truth about an order (its payments and their refunds) and ours, in three steps
that reconciliation can spread over threads:

1. `load_ours(order_ids)` — what we hold, for many orders in four queries (main thread: the database session).
2. `gather(ours, gateway)` — what the gateway holds, through its API only: no database, so any thread may run
   it (reconcile runs many at once; the gateway is HTTP).
3. `settle(ours, seen)` — compare and repair through the same services the webhooks use (main thread).

Drift runs both ways. What the gateway has and we lack (or hold in an older state) is repaired. What we hold
and the gateway has no record of — an order, link, payment or refund that a forged-but-signed webhook or a
bad import put in our books — and refunds exceeding what was captured are *findings*: reported on every run,
never repaired automatically, because deleting or reversing money records needs a person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import Gateway, GatewayError, GatewayRejected
from portal.history.services import Actor, record_event
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.payments.status import PAYMENT, PaymentStatus
from portal.refunds.invariants import exceeds_captured
from portal.refunds.models import Refund
from portal.refunds.settlement import apply_gateway_refund
from portal.refunds.status import REFUND, RefundStatus

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


# 1. ours ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ours:
    """What we hold for one order, read before its gateway fetches: plain values, safe to hand to a thread."""

    order_id: int
    number: str
    status: str
    gateway_order_id: str | None
    payment_link_id: str | None
    payments: dict[str, str] = field(default_factory=dict)  # gateway payment id → our status
    refunds: dict[str, str] = field(default_factory=dict)  # gateway refund id → our status
    refund_keys: dict[str, str] = field(default_factory=dict)  # idempotency key → our status
    over_refunds: tuple[Drift, ...] = ()


def load_ours(order_ids: list[int]) -> list[Ours]:
    """Our side of these orders (in the order given; ids that no longer exist are left out), in four queries."""
    orders = db.session.execute(
        select(Order.id, Order.number, Order.status, Order.gateway_order_id, Order.payment_link_id).where(
            Order.id.in_(order_ids)
        )
    ).all()
    payments, refunds, keys = defaultdict(dict), defaultdict(dict), defaultdict(dict)
    for order_id, payment_id, status in db.session.execute(
        select(Payment.order_id, Payment.gateway_payment_id, Payment.status).where(Payment.order_id.in_(order_ids))
    ):
        payments[order_id][payment_id] = status
    for order_id, refund_id, key, status in db.session.execute(
        select(Refund.order_id, Refund.gateway_refund_id, Refund.idempotency_key, Refund.status).where(
            Refund.order_id.in_(order_ids)
        )
    ):
        keys[order_id][key] = status
        if refund_id is not None:
            refunds[order_id][refund_id] = status
    over = _over_refunds(order_ids)
    by_id = {row.id: Ours(*row, payments[row.id], refunds[row.id], keys[row.id], tuple(over[row.id])) for row in orders}
    return [by_id[order_id] for order_id in order_ids if order_id in by_id]


def _over_refunds(order_ids: list[int]) -> dict[int, list[Drift]]:
    """The invariant guard, from our own books: processed and pending refunds of a payment never exceed what
    was captured (refunds.invariants.exceeds_captured, the rule the refund services refuse at store time)."""
    refunded = func.coalesce(func.sum(Refund.amount), 0)
    rows = db.session.execute(
        select(Payment.order_id, Payment.gateway_payment_id, Payment.status, Payment.amount, Payment.currency, refunded)
        .join(Refund, Refund.payment_id == Payment.id)
        .where(Payment.order_id.in_(order_ids), Refund.status.in_((RefundStatus.PROCESSED, RefundStatus.PENDING)))
        .group_by(Payment.id)
        .order_by(Payment.id)
    ).all()
    drifts = defaultdict(list)
    for order_id, payment_id, status, amount, currency, total in rows:
        captured = amount if status in CAPTURED_STATES else 0
        if exceeds_captured(captured, total):
            text = (
                f"payment {payment_id} has {total} refunded of {captured} captured "
                f"({currency} minor units, processed and pending refunds)"
            )
            drifts[order_id].append(_finding("payment", payment_id, str(status), text))
    return drifts


# 2. seen at the gateway (no database here: this runs in reconcile's threads) -----------------------------------
@dataclass
class Seen:
    """What the gateway reported for one order."""

    status: str | None = None
    payments: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, list[dict]] = field(default_factory=dict)  # payment id → its refunds at the gateway
    unknown: list[Drift] = field(default_factory=list)  # our order, link or payments it has no record of
    unknown_refunds: list[Drift] = field(default_factory=list)


def _known(fetch) -> dict | None:
    """The gateway's entity, or None when it refuses the id (Razorpay: "The id provided does not exist").
    GatewayUnavailable propagates: that order could not be checked at all."""
    try:
        return fetch()
    except GatewayRejected:
        return None


def gather(ours: Ours, gateway: Gateway) -> Seen:
    """Fetch everything the gateway holds about this order: its payments (by order, link and our own ids), their
    refunds, and whether each of our records exists there. Raises GatewayUnavailable when it cannot be reached."""
    seen = Seen()
    if ours.gateway_order_id:
        _gather_order(seen, ours, gateway)
    if ours.payment_link_id:
        _gather_link(seen, ours, gateway)
    _gather_our_payments(seen, ours, gateway)
    for payment in seen.payments.values():
        if payment.get("status") in (PaymentStatus.CAPTURED, PaymentStatus.REFUNDED) or payment.get("amount_refunded"):
            seen.refunds[payment["id"]] = gateway.fetch_payment_refunds(payment["id"])
    _gather_our_refunds(seen, ours, gateway)
    return seen


def _gather_order(seen: Seen, ours: Ours, gateway: Gateway) -> None:
    entity = _known(lambda: gateway.fetch_order(ours.gateway_order_id))
    if entity is None:
        seen.unknown.append(_unknown_at_gateway("order", ours.gateway_order_id, str(ours.status)))
        return
    seen.status = entity.get("status")
    seen.payments.update({p["id"]: p for p in gateway.fetch_order_payments(ours.gateway_order_id)})


def _gather_link(seen: Seen, ours: Ours, gateway: Gateway) -> None:
    """A payment link's payments live on the link's own gateway order."""
    link = _known(lambda: gateway.fetch_payment_link(ours.payment_link_id))
    if link is None:
        seen.unknown.append(_unknown_at_gateway("payment link", ours.payment_link_id, str(ours.status)))
        return
    for item in link.get("payments") or []:
        payment_id = item.get("payment_id") or item.get("id")
        if payment_id and payment_id not in seen.payments:
            entity = _known(lambda pid=payment_id: gateway.fetch_payment(pid))
            if entity is not None:
                seen.payments[payment_id] = entity


def _gather_our_payments(seen: Seen, ours: Ours, gateway: Gateway) -> None:
    """Ours the gateway did not list for this order: elsewhere at the gateway (checked like the rest), or nowhere."""
    for payment_id, status in ours.payments.items():
        if payment_id in seen.payments:
            continue
        entity = _known(lambda pid=payment_id: gateway.fetch_payment(pid))
        if entity is None:
            seen.unknown.append(_unknown_at_gateway("payment", payment_id, str(status)))
        else:
            seen.payments[payment_id] = entity


def _gather_our_refunds(seen: Seen, ours: Ours, gateway: Gateway) -> None:
    listed = {r["id"] for refunds in seen.refunds.values() for r in refunds}
    for refund_id, status in ours.refunds.items():
        if refund_id not in listed and _known(lambda rid=refund_id: gateway.fetch_refund(rid)) is None:
            seen.unknown_refunds.append(_unknown_at_gateway("refund", refund_id, str(status)))


# 3. settle: compare and repair (main thread) ----------------------------------------------------------------
def _payment_target(entity: dict) -> str:
    # A gateway `refunded` payment is captured as far as the payment goes; refunds carry the rest.
    status = entity.get("status")
    return PaymentStatus.CAPTURED if status == PaymentStatus.REFUNDED else status


def _payment_drift_from(entity: dict, ours: str | None) -> Drift | None:
    target = _payment_target(entity)
    if ours is None:
        return Drift("payment", entity["id"], None, entity["status"], entity)
    if ours == target or PAYMENT.is_behind(ours, target):
        return None
    if target == PaymentStatus.CAPTURED and ours in (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
        return None
    return Drift("payment", entity["id"], str(ours), entity["status"], entity)


def _payment_drift(entity: dict, ours: Ours) -> Drift | None:
    """Compared with what we held when the run read this order; a difference is confirmed with a fresh read
    (a webhook may have landed since), so in-sync orders cost no query here."""
    if _payment_drift_from(entity, ours.payments.get(entity["id"])) is None:
        return None
    held = db.session.scalar(select(Payment.status).where(Payment.gateway_payment_id == entity["id"]))
    return _payment_drift_from(entity, held)


def _refund_drift_from(entity: dict, ours: str | None) -> Drift | None:
    target = entity.get("status")
    if ours is None:
        return Drift("refund", entity["id"], None, target, entity)
    if ours == target or REFUND.is_behind(ours, target):
        return None
    if ours == RefundStatus.FAILED and target == RefundStatus.PENDING:
        return None  # older news about a failed refund, not a retry
    return Drift("refund", entity["id"], str(ours), target, entity)


def _idempotency_key(entity: dict) -> str | None:
    notes = entity.get("notes")
    return notes.get("idempotency_key") if isinstance(notes, dict) else None


def _our_refund_status(entity: dict) -> str | None:
    ours = db.session.scalar(select(Refund.status).where(Refund.gateway_refund_id == entity["id"]))
    key = _idempotency_key(entity)
    if ours is None and key:  # a refund we sent whose answer never came back (matched like apply_gateway_refund)
        ours = db.session.scalar(select(Refund.status).where(Refund.idempotency_key == key))
    return ours


def _refund_drift(entity: dict, ours: Ours) -> Drift | None:
    held = ours.refunds.get(entity["id"]) or ours.refund_keys.get(_idempotency_key(entity) or "")
    if _refund_drift_from(entity, held) is None:
        return None
    return _refund_drift_from(entity, _our_refund_status(entity))  # confirmed with a fresh read, as payments


def _payment_drifts(payment: dict, ours: Ours, refunds: list[dict]) -> list[Drift]:
    """The payment's own drift, what the gateway says it refunded beyond its amount, then its refunds' drift."""
    drifts = [d for d in [_payment_drift(payment, ours)] if d]
    if exceeds_captured(payment.get("amount") or 0, payment.get("amount_refunded") or 0):
        refunded, amount = payment["amount_refunded"], payment["amount"]
        text = f"the gateway reports payment {payment['id']} refunded {refunded} of {amount}"
        drifts.append(_finding("payment", payment["id"], None, text))
    return drifts + [d for d in (_refund_drift(r, ours) for r in refunds) if d]


def compare(ours: Ours, seen: Seen) -> list[Drift]:
    """The drift, in the order it is reported: what the gateway has no record of (order, link, payments), each
    payment and its refunds, our refunds it has no record of, then refunds beyond the captured amount."""
    drifts = list(seen.unknown)
    for payment in seen.payments.values():
        drifts += _payment_drifts(payment, ours, seen.refunds.get(payment["id"], []))
    return drifts + seen.unknown_refunds + list(ours.over_refunds)


def _apply(ours: Ours, drift: Drift, actor: Actor) -> str:
    if drift.kind == "payment":
        linked = drift.entity.get("order_id") != ours.gateway_order_id
        outcome = apply_gateway_payment(
            drift.entity, actor=actor, reason=drift.reason, order_id=ours.order_id if linked else None
        )
        return f"payment {drift.gateway_id} → {outcome.payment.status}, order {outcome.order.status}"
    refund = apply_gateway_refund(drift.entity, actor=actor, reason=drift.reason)
    return f"refund {drift.gateway_id} → {refund.status}"


def _note(order_id: int, report: SyncReport, actor: Actor) -> None:
    order = db.session.get(Order, order_id)
    record_event(order, action="reconciled", actor=actor, reason="; ".join(d.reason for d in report.repairs))
    db.session.commit()


def settle(ours: Ours, seen: Seen | Exception, *, actor: Actor, dry_run: bool = False) -> SyncReport:
    """Compare what the gateway reported (or the exception that stopped `gather`) with ours and repair what
    differs, writing one history note on the order; with dry_run only report it. Gateway failures are
    reported on the SyncReport, not raised: reconciliation carries on with other orders."""
    report = SyncReport(ours.order_id, ours.number, dry_run=dry_run)
    try:
        if isinstance(seen, Exception):
            raise seen
        report.gateway_status, report.drifts = seen.status, compare(ours, seen)
        if not dry_run:
            report.applied = [_apply(ours, drift, actor) for drift in report.repairs]
            if report.repairs:
                _note(ours.order_id, report, actor)
    except (GatewayError, LookupError, ValueError) as exc:
        db.session.rollback()
        report.error = f"{type(exc).__name__}: {exc}"
    return report
