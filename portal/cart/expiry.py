"""Checkouts not paid in time: `expired`, their reservations released (stock and rental dates return).

The `release_expired_reservations` schedule (portal/cart/tasks.py) runs it every minute; `flask checkout
release-expired [--dry-run]` by hand. Idempotent and row-locked: each checkout is locked and re-checked, so a
payment racing it either completes the checkout first or finds it expired (and is refunded), and two runs at
once expire each checkout once. A held reservation past its `expires_at` already counts for nothing in
availability, so stock is never held longer than RESERVATION_TTL_MINUTES even before this runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal.cart.lookup import lock_checkout
from portal.cart.models import Checkout
from portal.cart.status import CHECKOUT, OPEN, CheckoutStatus
from portal.extensions import db
from portal.history.services import Actor
from portal.statemachine import transition
from portal.stock.reservations import release
from portal.timeutil import utcnow


@dataclass
class ReleaseSummary:
    checkouts: list[str] = field(default_factory=list)
    reservations: int = 0

    def line(self, dry_run: bool) -> str:
        if dry_run:
            return f"would expire {len(self.checkouts)} checkout(s): {', '.join(self.checkouts) or 'none'}"
        return f"expired {len(self.checkouts)} checkout(s); released {self.reservations} reservation(s)"


def overdue_checkout_ids(now=None) -> list[int]:
    """Pending or failed checkouts past their reservation window, oldest first."""
    query = (
        select(Checkout.id)
        .where(Checkout.status.in_([str(s) for s in OPEN]), Checkout.expires_at <= (now or utcnow()))
        .order_by(Checkout.expires_at, Checkout.id)
    )
    return list(db.session.scalars(query))


def release_expired(*, dry_run: bool = False, now=None, on_each=None) -> ReleaseSummary:
    """Expire every overdue checkout and release its reservations; `on_each` after each one (a progress bar)."""
    now = now or utcnow()
    summary = ReleaseSummary()
    for checkout_id in overdue_checkout_ids(now):
        if on_each:
            on_each()
        if dry_run:
            summary.checkouts.append(db.session.get(Checkout, checkout_id).number)
            continue
        released = _expire_one(checkout_id, now)
        if released is not None:
            summary.checkouts.append(released[0])
            summary.reservations += released[1]
    return summary


def _expire_one(checkout_id: int, now) -> tuple[str, int] | None:
    try:
        checkout = lock_checkout(checkout_id)
        if checkout.status not in OPEN or checkout.expires_at > now:  # paid or expired meanwhile
            db.session.rollback()
            return None
        transition(
            checkout, CHECKOUT, CheckoutStatus.EXPIRED, actor=Actor.system("checkout expire"), reason="not paid in time"
        )
        count = release(checkout, "checkout expired")
        number = checkout.number
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return number, count
