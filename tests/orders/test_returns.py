"""Returns (portal/orders/returns.py): goods restock by the units that came back, rentals end their booking
and get their deposit back (in full or less damages); refunds go through the real sandbox."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.catalog.models import Product, ProductKind
from portal.extensions import db
from portal.history.services import Actor, history_of
from portal.orders.fulfilment import FulfilmentError
from portal.orders.models import Order
from portal.orders.returns import record_return
from portal.refunds.models import Refund
from portal.statemachine import IllegalTransition
from portal.stock.models import Reservation
from tests import factories
from tests.helpers import run_together
from tests.orders import shop

ACTOR = Actor.system("test")


def _reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _refunds(order_id):
    return db.session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)).all()


@pytest.fixture
def delivered_goods(sandbox, make):
    """A delivered order of 3 units of a good (stock 10 → 7)."""
    good = make.product(kind=ProductKind.GOOD, stock=10, price=50000)
    order, payment = shop.goods_order(sandbox, products=[good], quantity=3)
    shop.shipped(order.id)
    return order, payment, good


def test_a_partial_return_restocks_its_units_and_keeps_the_status(delivered_goods):
    order, _, good = delivered_goods
    [line] = order.items

    record_return(order.id, {line.id: 1}, actor=ACTOR)

    order = _reload(Order, order.id)
    assert (order.fulfilment_status, order.items[0].returned_quantity) == ("delivered", 1)
    assert _reload(Product, good.id).stock == 8
    assert any(e.action == "return" and "1 ×" in e.reason for e in history_of(order))


def test_the_last_units_back_make_the_order_returned(delivered_goods):
    order, _, good = delivered_goods
    line_id = order.items[0].id
    record_return(order.id, {line_id: 1}, actor=ACTOR)

    record_return(order.id, {line_id: 2}, actor=ACTOR)

    assert _reload(Order, order.id).fulfilment_status == "returned"
    assert _reload(Product, good.id).stock == 10


def test_more_units_than_are_left_to_come_back_are_refused_and_nothing_is_written(delivered_goods):
    order, _, good = delivered_goods
    line_id = order.items[0].id
    record_return(order.id, {line_id: 2}, actor=ACTOR)

    with pytest.raises(FulfilmentError, match="only 1"):
        record_return(order.id, {line_id: 2}, actor=ACTOR)

    assert _reload(Order, order.id).items[0].returned_quantity == 2
    assert _reload(Product, good.id).stock == 9


@pytest.mark.parametrize("units", [{}, {"x": 1}, {999999: 1}, {"LINE": -1}, {"LINE": "two"}, {"LINE": 0}])
def test_bad_quantities_are_refused(delivered_goods, units):
    order, _, good = delivered_goods
    line_id = order.items[0].id
    units = {(line_id if k == "LINE" else k): v for k, v in units.items()}

    with pytest.raises(FulfilmentError):
        record_return(order.id, units, actor=ACTOR)
    assert _reload(Product, good.id).stock == 7


def test_goods_not_shipped_yet_cannot_come_back(sandbox, make):
    order, _ = shop.goods_order(sandbox)

    with pytest.raises(IllegalTransition):
        record_return(order.id, {order.items[0].id: 1}, actor=ACTOR)


def test_a_course_never_comes_back_into_stock(sandbox, make):
    good = make.product(kind=ProductKind.GOOD, stock=5)
    course = make.product(kind=ProductKind.COURSE, stock=20)
    order, _ = shop.goods_order(sandbox, products=[good, course])
    shop.shipped(order.id)
    course_line = next(i for i in order.items if i.kind == "course")

    with pytest.raises(FulfilmentError, match="nothing of this line"):
        record_return(order.id, {course_line.id: 1}, actor=ACTOR)
    assert _reload(Product, course.id).stock == 19


def test_unlimited_stock_stays_unlimited(sandbox, make):
    good = make.product(kind=ProductKind.GOOD, stock=None)
    order, _ = shop.goods_order(sandbox, products=[good])
    shop.shipped(order.id)

    record_return(order.id, {order.items[0].id: 1}, actor=ACTOR)

    assert _reload(Product, good.id).stock is None


def test_a_return_can_refund_the_returned_goods_by_line(delivered_goods, sandbox):
    order, payment, _ = delivered_goods
    line = order.items[0]

    outcome = record_return(order.id, {line.id: 1}, actor=ACTOR, refund_goods=True)

    [refund] = _refunds(order.id)
    assert not outcome.problems
    assert refund.amount == line.line_total // 3
    assert refund.lines == [{"item_id": line.id, "quantity": 1, "amount": line.line_total // 3}]
    assert sandbox.payment(payment.gateway_payment_id)["amount_refunded"] == refund.amount


def test_a_returned_rental_gets_its_deposit_back_and_frees_its_dates(sandbox):
    order, _ = shop.rental_order(sandbox, deposit=200000)
    shop.shipped(order.id)
    rental = next(i for i in order.items if i.line_type == "rental")

    outcome = record_return(order.id, {rental.id: 1}, actor=ACTOR)

    assert not outcome.problems
    assert _reload(Order, order.id).fulfilment_status == "returned"
    [refund] = _refunds(order.id)
    assert refund.amount == 200000 and "deposit" in refund.notes.lower()
    [booking] = db.session.scalars(select(Reservation)).all()
    assert (booking.status, booking.released_reason) == ("released", "returned")
    assert _reload(Product, rental.product_id).stock == 1  # units owned: a rental's stock never moves


def test_damages_are_kept_from_the_deposit_with_a_reason_in_the_history(sandbox):
    order, payment = shop.rental_order(sandbox, deposit=200000)
    shop.shipped(order.id)
    rental = next(i for i in order.items if i.line_type == "rental")

    record_return(order.id, {rental.id: 1}, actor=ACTOR, damages=50000, reason="cracked lens hood")

    [refund] = _refunds(order.id)
    assert refund.amount == 150000
    kept = next(e for e in history_of(_reload(Order, order.id)) if e.action == "deposit_kept")
    assert kept.changes["damages"] == [None, 50000] and "cracked lens hood" in kept.reason
    assert sandbox.payment(payment.gateway_payment_id)["amount_refunded"] == 150000


def test_damages_equal_to_the_whole_deposit_refund_nothing(sandbox):
    order, _ = shop.rental_order(sandbox, deposit=200000)
    shop.shipped(order.id)
    rental = next(i for i in order.items if i.line_type == "rental")

    record_return(order.id, {rental.id: 1}, actor=ACTOR, damages=200000, reason="lost the tripod")

    assert _refunds(order.id) == []


@pytest.mark.parametrize(
    ("damages", "reason", "message"),
    [(200001, "too much", "at most the deposit"), (100, "", "reason"), (-1, "x", "non-negative")],
)
def test_damages_beyond_the_deposit_or_without_a_reason_are_refused(sandbox, damages, reason, message):
    order, _ = shop.rental_order(sandbox, deposit=200000)
    shop.shipped(order.id)
    rental = next(i for i in order.items if i.line_type == "rental")

    with pytest.raises(FulfilmentError, match=message):
        record_return(order.id, {rental.id: 1}, actor=ACTOR, damages=damages, reason=reason)
    assert _reload(Order, order.id).fulfilment_status == "delivered"
    assert db.session.scalars(select(Reservation)).one().status == "committed"


def test_returning_one_of_two_rented_units_splits_the_booking_and_half_the_deposit(sandbox):
    order, _ = shop.rental_order(sandbox, deposit=100000, units=2, owned=2)
    shop.shipped(order.id)
    rental = next(i for i in order.items if i.line_type == "rental")

    record_return(order.id, {rental.id: 1}, actor=ACTOR)

    bookings = db.session.scalars(select(Reservation).order_by(Reservation.id)).all()
    assert [(b.status, b.quantity) for b in bookings] == [("committed", 1), ("released", 1)]
    assert [r.amount for r in _refunds(order.id)] == [100000]
    assert _reload(Order, order.id).fulfilment_status == "delivered"


def test_a_damages_claim_on_goods_without_a_deposit_is_refused(delivered_goods):
    order, _, _ = delivered_goods

    with pytest.raises(FulfilmentError, match="deposit"):
        record_return(order.id, {order.items[0].id: 1}, actor=ACTOR, damages=100, reason="scratched")


# ---------------------------------------------------------------- races (PostgreSQL, real threads)


def test_two_staff_recording_the_same_return_at_once_restock_it_once(app, postgres, delivered_goods):
    order, _, good = delivered_goods
    line_id = order.items[0].id

    results = run_together(app, lambda: record_return(order.id, {line_id: 3}, actor=ACTOR).order.id, 4)

    assert sorted(type(r).__name__ for r in results) == ["IllegalTransition"] * 3 + ["int"], results  # already returned
    assert _reload(Product, good.id).stock == 10
    assert _reload(Order, order.id).items[0].returned_quantity == 3


def test_returns_of_two_orders_of_one_product_at_once_both_restock(app, postgres, sandbox, make):
    good = make.product(kind=ProductKind.GOOD, stock=10)
    orders = [shop.goods_order(sandbox, products=[good], quantity=2)[0] for _ in range(2)]
    for order in orders:
        shop.shipped(order.id)
    jobs = iter([(o.id, o.items[0].id) for o in orders])

    def give_back():
        order_id, line_id = next(jobs)
        return record_return(order_id, {line_id: 2}, actor=ACTOR).order.id

    results = run_together(app, give_back, 2)

    assert sorted(results) == sorted(o.id for o in orders), results
    assert _reload(Product, good.id).stock == 10  # no lost update: each restock under the product's row lock


def test_a_checked_out_rental_of_a_vendor_is_accepted_shipped_returned_and_its_deposit_refunded(api, sandbox):
    """End to end through the cart API, the sandbox payment and the checkout's own order, allocation and booking."""
    vendor = shop.vendor(name="Lens Library")
    camera = factories.product(kind="rental", stock=1, price=80000, deposit=500000, vendor_id=vendor.id)
    start = date.today() + timedelta(days=5)
    line = {"product_id": camera.id, "quantity": 1, "rental_start": str(start), "rental_end": str(start + timedelta(2))}
    assert api.post("/api/v1/cart/items", json=line).status_code == 201
    checkout = api.post("/api/v1/checkout", json={"payment_method": "razorpay"}).get_json()["data"]
    paid = api.post("/api/v1/checkout/verify", json=sandbox.pay(checkout["gateway_order_id"])).get_json()["data"]
    [placed] = paid["orders"]
    order_id = placed["id"]
    assert _reload(Order, order_id).fulfilment_status == "awaiting_vendor"

    shop.shipped(order_id)
    rental = next(i for i in _reload(Order, order_id).items if i.line_type == "rental")
    outcome = record_return(order_id, {rental.id: 1}, actor=ACTOR, damages=100000, reason="scratched lens")

    assert not outcome.problems
    [refund] = _refunds(order_id)
    assert refund.amount == 400000  # the deposit less the damages, from this order's share of the checkout payment
    booking = db.session.scalars(select(Reservation).where(Reservation.order_item_id == rental.id)).one()
    assert (booking.status, booking.released_reason) == ("released", "returned")
    assert _reload(Order, order_id).fulfilment_status == "returned"
