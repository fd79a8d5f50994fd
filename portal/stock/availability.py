"""How many units of a product can still be sold (or rented for given dates).

Goods: stock − live holds (held reservations not yet expired); a committed sale has already taken its units
off `stock`. Rentals: units owned − every held (live) or committed booking whose dates overlap the asked
ones (bookings overlap when one's end ≥ the other's start and its start ≤ the other's end; dates inclusive).
A product whose stock is not tracked (None) is unlimited: None.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from portal.catalog.models import Product
from portal.extensions import db
from portal.stock.models import Reservation, ReservationStatus
from portal.timeutil import utcnow


def _live_hold(now: datetime):
    return and_(Reservation.status == ReservationStatus.HELD, Reservation.expires_at > now)


def held_quantity(product_id: int, now: datetime | None = None) -> int:
    """Units of a good held by checkouts that have not expired yet."""
    query = select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
        Reservation.product_id == product_id, _live_hold(now or utcnow())
    )
    return int(db.session.scalar(query))


def booked_statement(product_id: int, start: date, end: date, now: datetime | None = None):
    """The sum of a rental's bookings (held and live, or committed) overlapping start..end."""
    # The product and the dates are the index condition (ix_reservations_product_rental: product, end, start;
    # docs/performance.md shows the plan at 100k bookings); the status filters the few overlapping rows.
    live = or_(Reservation.status == ReservationStatus.COMMITTED, _live_hold(now or utcnow()))
    return select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
        Reservation.product_id == product_id,
        Reservation.rental_end >= start,
        Reservation.rental_start <= end,
        live,
    )


def booked_quantity(product_id: int, start: date, end: date, now: datetime | None = None) -> int:
    """Units of a rental booked (held or committed) on any day of start..end."""
    return int(db.session.scalar(booked_statement(product_id, start, end, now)))


def available(product: Product, *, start: date | None = None, end: date | None = None, now=None) -> int | None:
    """Units that can still be reserved: None when stock is not tracked. For a rental give the dates (without
    them: the units owned)."""
    if product.stock is None:
        return None
    if product.is_rental:
        if start is None or end is None:
            return product.stock
        return max(product.stock - booked_quantity(product.id, start, end, now), 0)
    return max(product.stock - held_quantity(product.id, now), 0)
