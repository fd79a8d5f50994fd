"""Reservations: units (or rental dates) held for a checkout, committed into sales, released.

`reserve` runs in the checkout's transaction: it locks the products in id order (so two checkouts of the
same products queue instead of deadlocking), checks availability (portal/stock/availability.py) line by line
— each line's hold is flushed before the next is checked, so two lines of one product count together — and
writes one held reservation per line. Commit and release run under the checkout's row lock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal.catalog.models import Product
from portal.dbutil import for_update
from portal.extensions import db
from portal.stock.availability import available
from portal.stock.models import Reservation, ReservationStatus


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def lock_products(product_ids) -> dict[int, Product]:
    """Row-lock the products, in id order (every path that takes several product locks takes them so)."""
    ids = sorted(set(product_ids))
    query = for_update(select(Product).where(Product.id.in_(ids or [0])).order_by(Product.id), of=Product)
    return {p.id: p for p in db.session.scalars(query)}


def hold_until(now: datetime) -> datetime:
    return now + timedelta(minutes=current_app.config["RESERVATION_TTL_MINUTES"])


def reserve(checkout, lines: list[dict], now: datetime) -> list[dict]:
    """Hold every snapshot line for `checkout` (in the caller's transaction). Returns the lines that are short,
    [{"line_id", "product_id", "title", "requested", "available"}]; when any is, nothing should be committed."""
    products = lock_products(line["product_id"] for line in lines)
    short, expires = [], hold_until(now)
    for line in lines:  # in line order: the n-th held reservation is the n-th line (commit_sale relies on it)
        product = products[line["product_id"]]
        start, end = _date(line.get("rental_start")), _date(line.get("rental_end"))
        left = available(product, start=start, end=end, now=now)
        if left is not None and left < line["quantity"]:
            short.append(_short(line, left))
            continue
        checkout.reservations.append(
            Reservation(
                product_id=product.id,
                quantity=line["quantity"],
                status=ReservationStatus.HELD,
                expires_at=expires,
                rental_start=start,
                rental_end=end,
            )
        )
        db.session.flush()  # the next line of this product sees this hold
    return short


def _short(line: dict, left: int) -> dict:
    return {
        "line_id": line.get("cart_line_id"),
        "product_id": line["product_id"],
        "title": line["title"],
        "requested": line["quantity"],
        "available": left,
    }


def release(checkout, reason: str) -> int:
    """Release the checkout's held reservations (caller holds the checkout's lock). Returns how many."""
    count = 0
    for reservation in checkout.reservations:
        if reservation.status == ReservationStatus.HELD:
            reservation.status = ReservationStatus.RELEASED
            reservation.expires_at = None
            reservation.released_reason = reason[:120]
            count += 1
    return count


def holds_are_live(checkout, now: datetime) -> bool:
    """Whether every line of the checkout is still held (none released, none expired)."""
    held = [r for r in checkout.reservations if r.status == ReservationStatus.HELD]
    return bool(held) and len(held) == len(checkout.lines) and all(r.expires_at > now for r in held)


def reserve_again(checkout, now: datetime) -> list[dict]:
    """For money that arrived after the holds lapsed or were released (a failed attempt, then a success):
    release what is left, then hold every line again if stock still allows. Returns the short lines."""
    release(checkout, "held again for a late payment")
    db.session.flush()
    return reserve(checkout, [dict(line) for line in checkout.lines], now)


def commit_sale(checkout, items_by_line: dict[int, int]) -> None:
    """Held → committed for every reservation (caller holds the checkout's lock and has just re-checked they are
    live): a good's stock is taken now; a rental's dates stay booked. `items_by_line`: line index → order item."""
    held = sorted((r for r in checkout.reservations if r.status == ReservationStatus.HELD), key=lambda r: r.id)
    products = lock_products(r.product_id for r in held)
    for index, reservation in enumerate(held):
        product = products[reservation.product_id]
        reservation.status = ReservationStatus.COMMITTED
        reservation.expires_at = None
        reservation.order_item_id = items_by_line.get(index)
        if product.stock is not None and not product.is_rental:
            product.stock -= reservation.quantity
