"""Reconciliation: the gateway's truth about our orders compared with ours, and repaired through the same
services the webhooks use (the comparison itself is portal/payments/drift.py).

It is the safety net for everything a webhook can miss — a delivery we never got, a crash between the
gateway's success and our commit. A dry run reports the drift and writes nothing; a real run applies
each drifted entity and writes one history note on the order saying what changed and why.

A run checks only what can still change (see `orders_to_check` and docs/cli.md), plus a rolling slice of the
rest so that every order is re-checked within `sweep_days`; `full=True` checks everything. The gateway's
answers are fetched `workers` orders at a time in a thread pool (the fetches are HTTP and touch no database);
comparing and repairing stay in the calling thread, which owns the database session, one order at a time.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select

from portal.extensions import db
from portal.gateway import Gateway, GatewayRateLimited, get_gateway
from portal.history.services import Actor
from portal.orders.models import Order
from portal.orders.status import OrderStatus
from portal.payments.drift import Drift, Ours, Seen, SyncReport, gather, load_ours, settle
from portal.payments.models import Payment
from portal.payments.status import PaymentStatus
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus
from portal.timeutil import utcnow, with_this_clock

__all__ = ["Drift", "ReconcileSummary", "SyncReport", "orders_to_check", "reconcile", "sync_order", "sync_payment"]

log = logging.getLogger("portal.payments.reconcile")
DEFAULT_WORKERS = 32  # orders fetched at once: at 50 ms a call and ~3 calls an order, ~200 orders/s at most
DEFAULT_SWEEP_DAYS = 30  # every order with a gateway presence is re-checked at least this often
BATCH = 200  # orders whose side we read in one go (four queries)
AHEAD = 4  # orders fetched ahead per worker, so the pool never waits for the comparing thread
RATE_LIMITED_RETRIES = 8  # an order whose fetches met 429s past the adapter's budget is fetched again
UNSETTLED_PAYMENTS = (PaymentStatus.CREATED, PaymentStatus.AUTHORIZED)


def sync_order(order_id: int, *, actor: Actor, dry_run: bool = False) -> SyncReport:
    """Fetch the gateway's truth for one order and repair what differs (or only report it when dry_run).

    Gateway failures are reported on the SyncReport, not raised: reconciliation carries on with other orders.
    """
    found = load_ours([order_id])
    if not found:
        raise LookupError(f"order {order_id}")
    return settle(found[0], _gather_patiently(found[0], get_gateway()), actor=actor, dry_run=dry_run)


def sync_payment(payment_id: int, *, actor: Actor, dry_run: bool = False) -> SyncReport:
    """Sync the order a payment belongs to (a payment's truth includes its order's other payments)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise LookupError(f"payment {payment_id}")
    if payment.order_id is None:  # a checkout's payment: synced through its checkout (portal/cart/sync.py)
        return _sync_checkout_payment(payment, actor, dry_run)
    return sync_order(payment.order_id, actor=actor, dry_run=dry_run)


def _sync_checkout_payment(payment: Payment, actor: Actor, dry_run: bool) -> SyncReport:
    from portal.cart.sync import sync_checkout  # the checkout sits above payments; only this entry point needs it

    result = sync_checkout(payment.checkout_id, actor=actor, dry_run=dry_run)
    first_order = payment.allocations[0].order_id if payment.allocations else 0
    return SyncReport(first_order, result.number, applied=result.applied, error=result.error, dry_run=dry_run)


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


# which orders ---------------------------------------------------------------------------------------------
def orders_to_check(
    since: datetime, *, full: bool = False, sweep_days: int = DEFAULT_SWEEP_DAYS, today: date | None = None
) -> list[int]:
    """Ids of the orders with a gateway presence (a gateway order or a payment link) that a run checks, by id.

    `full`: all of them. Otherwise those that can still change or changed lately (`still_open(since)`), plus
    today's slice of the rest: the orders whose id ≡ today's day number (mod `sweep_days`), so that a run at
    least once a day re-checks every order within `sweep_days` days (0: no slice)."""
    at_gateway = or_(Order.gateway_order_id.is_not(None), Order.payment_link_id.is_not(None))
    query = select(Order.id).where(at_gateway).order_by(Order.id)
    if not full:
        wanted = still_open(since)
        if sweep_days > 0:
            wanted.append(Order.id % sweep_days == (today or utcnow().date()).toordinal() % sweep_days)
        query = query.where(or_(*wanted))
    return list(db.session.scalars(query))


def still_open(since: datetime) -> list:
    """What can still change at the gateway or changed lately: orders awaiting payment; orders with a payment
    not yet settled (created, authorized: a capture or a late failure may follow) or a refund not final
    (pending); and orders that were created or changed since `since` — the order, or any of its payments or
    refunds (a refund processed after the order's last change, a webhook applied late)."""
    return [
        Order.status == OrderStatus.PENDING,
        Order.created_at >= since,
        Order.updated_at >= since,
        Order.id.in_(select(Payment.order_id).where(Payment.status.in_(UNSETTLED_PAYMENTS))),
        Order.id.in_(select(Payment.order_id).where(Payment.updated_at >= since)),
        Order.id.in_(select(Refund.order_id).where(Refund.status == RefundStatus.PENDING)),
        Order.id.in_(select(Refund.order_id).where(Refund.updated_at >= since)),
    ]


# the run ----------------------------------------------------------------------------------------------------
def reconcile(
    since: datetime,
    *,
    dry_run: bool = False,
    actor: Actor | None = None,
    full: bool = False,
    workers: int = DEFAULT_WORKERS,
    sweep_days: int = DEFAULT_SWEEP_DAYS,
    on_checked: Callable[[SyncReport], None] | None = None,
    order_ids: list[int] | None = None,
) -> ReconcileSummary:
    """Compare the orders `orders_to_check` picks (or `order_ids`) with the gateway and repair drift
    (`flask payments reconcile`). `on_checked` is called after each order (the CLI's progress bar)."""
    actor = actor or Actor.system("reconcile")
    if order_ids is None:
        order_ids = orders_to_check(since, full=full, sweep_days=sweep_days)
    reports = []
    for ours, seen in _gathered(_ours_in_batches(order_ids), get_gateway(), workers):
        reports.append(_settle_guarded(ours, seen, actor, dry_run))
        if on_checked:
            on_checked(reports[-1])
    return ReconcileSummary(reports, dry_run)


def _ours_in_batches(order_ids: list[int]) -> Iterator[Ours]:
    for start in range(0, len(order_ids), BATCH):
        yield from load_ours(order_ids[start : start + BATCH])


def _gathered(orders: Iterable[Ours], gateway: Gateway, workers: int) -> Iterator[tuple[Ours, Seen | Exception]]:
    """Each order with what the gateway reported for it, in the order given, fetched `workers` at a time.
    The fetching threads touch no database; the caller compares and repairs as the answers come back."""
    if workers <= 1:
        for ours in orders:
            yield ours, _gather_patiently(ours, gateway)
        return
    fetch = with_this_clock(_gather_patiently)  # the caller's clock goes along (the demo seed plays the past)
    window: deque = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile") as pool:
        for ours in orders:
            window.append((ours, pool.submit(fetch, ours, gateway)))
            if len(window) >= workers * AHEAD:
                done, future = window.popleft()
                yield done, future.result()
        while window:
            done, future = window.popleft()
            yield done, future.result()


def _gather_patiently(ours: Ours, gateway: Gateway) -> Seen | Exception:
    """`gather`, or the exception that stopped it (returned: it belongs to this order's report). An order
    whose fetches outlasted the adapter's budget in 429s is fetched again behind the shared back-off: a busy
    gateway slows the run down, it does not fail it."""
    for attempt in range(1, RATE_LIMITED_RETRIES + 1):
        try:
            return gather(ours, gateway)
        except GatewayRateLimited as exc:
            if attempt == RATE_LIMITED_RETRIES:
                return exc
            log.info("reconcile: order %s rate limited, fetching it again (attempt %d)", ours.order_id, attempt)
        except Exception as exc:  # reported on the order; the run goes on
            return exc
    raise AssertionError("unreachable")


def _settle_guarded(ours: Ours, seen: Seen | Exception, actor: Actor, dry_run: bool) -> SyncReport:
    """One order's settle; whatever breaks on it is that order's failure, and the run goes on to the next."""
    try:
        return settle(ours, seen, actor=actor, dry_run=dry_run)
    except Exception as exc:  # the run must finish and say what it could not check
        log.exception("reconcile: order %s failed", ours.order_id)
        db.session.rollback()
        report = SyncReport(ours.order_id, ours.number, dry_run=dry_run)
        report.error = f"{type(exc).__name__}: {exc}"
        return report
