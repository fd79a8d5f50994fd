"""Availability: goods are stock less live holds; rentals are units less every overlapping booking."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.stock.availability import available
from portal.stock.models import Reservation, ReservationStatus

NOW = datetime(2026, 12, 1, 12, 0)


def hold(product, quantity, status=ReservationStatus.HELD, expires=NOW + timedelta(minutes=30), dates=(None, None)):
    db.session.add(
        Reservation(
            product_id=product.id,
            quantity=quantity,
            status=status,
            expires_at=expires,
            rental_start=dates[0],
            rental_end=dates[1],
        )
    )
    db.session.commit()


def test_untracked_stock_is_unlimited(make):
    assert available(make.product()) is None


def test_a_good_counts_live_holds_but_not_expired_released_or_committed_ones(make):
    lamp = make.product(kind=ProductKind.GOOD, stock=10)
    hold(lamp, 2)
    hold(lamp, 3, expires=NOW - timedelta(seconds=1))
    hold(lamp, 4, status=ReservationStatus.RELEASED, expires=None)
    hold(lamp, 1, status=ReservationStatus.COMMITTED, expires=None)  # its units already left `stock`

    assert available(lamp, now=NOW) == 8


def test_a_rental_counts_every_booking_whose_dates_overlap(make):
    tent = make.product(kind=ProductKind.RENTAL, stock=3)
    hold(tent, 1, dates=(date(2026, 12, 10), date(2026, 12, 12)))
    hold(tent, 1, status=ReservationStatus.COMMITTED, expires=None, dates=(date(2026, 12, 12), date(2026, 12, 14)))
    hold(tent, 1, expires=NOW - timedelta(minutes=1), dates=(date(2026, 12, 11), date(2026, 12, 11)))

    assert available(tent, start=date(2026, 12, 12), end=date(2026, 12, 12), now=NOW) == 1
    assert available(tent, start=date(2026, 12, 13), end=date(2026, 12, 20), now=NOW) == 2
    assert available(tent, start=date(2026, 12, 15), end=date(2026, 12, 20), now=NOW) == 3
    assert available(tent, start=date(2026, 12, 1), end=date(2026, 12, 9), now=NOW) == 3


def test_availability_never_goes_below_zero(make):
    kettle = make.product(kind=ProductKind.GOOD, stock=1)
    hold(kettle, 3)

    assert available(kettle, now=NOW) == 0
