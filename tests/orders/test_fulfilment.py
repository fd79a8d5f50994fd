"""Vendor approval and shipping (portal/orders/fulfilment.py), through the real database and the sandbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.catalog.models import Product, ProductKind
from portal.extensions import db
from portal.history.services import Actor, history_of
from portal.orders.fulfilment import FulfilmentError, accept_order, advance, reject_order
from portal.orders.models import Order
from portal.orders.services import TrackingRequired
from portal.orders.status import FulfilmentStatus
from portal.refunds.models import Refund
from portal.statemachine import IllegalTransition
from portal.stock.models import Reservation
from tests.helpers import run_together
from tests.orders import shop

ACTOR = Actor.system("test")


def _reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def test_accepting_an_order_of_goods_leaves_it_unfulfilled_and_records_who(sandbox):
    order, _ = shop.goods_order(sandbox, shop=shop.vendor(), awaiting=True)

    accept_order(order.id, actor=ACTOR)

    order = _reload(Order, order.id)
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED
    moves = [(e.from_state, e.to_state) for e in history_of(order) if e.action == "transition"]
    assert ("awaiting_vendor", "unfulfilled") in moves


def test_accepting_an_order_with_nothing_to_ship_leaves_nothing_to_fulfil(sandbox, make):
    course = make.product(kind=ProductKind.COURSE)
    order, _ = shop.goods_order(sandbox, products=[course], shop=shop.vendor(), awaiting=True)

    accept_order(order.id, actor=ACTOR)

    assert _reload(Order, order.id).fulfilment_status == FulfilmentStatus.NOT_REQUIRED


def test_an_order_not_awaiting_approval_cannot_be_accepted_again(sandbox):
    order, _ = shop.goods_order(sandbox, shop=shop.vendor(), awaiting=True)
    accept_order(order.id, actor=ACTOR)

    with pytest.raises(IllegalTransition):
        accept_order(order.id, actor=ACTOR)


def test_rejecting_refunds_the_orders_share_and_returns_its_stock(sandbox, make):
    good = make.product(kind=ProductKind.GOOD, stock=10, price=50000)
    order, payment = shop.goods_order(sandbox, products=[good], quantity=2, shop=shop.vendor(), awaiting=True)
    assert _reload(Product, good.id).stock == 8

    outcome = reject_order(order.id, reason="out of print", actor=ACTOR)

    assert not outcome.problems
    order = _reload(Order, order.id)
    assert order.fulfilment_status == FulfilmentStatus.REJECTED
    assert _reload(Product, good.id).stock == 10
    [refund] = db.session.scalars(select(Refund).where(Refund.order_id == order.id)).all()
    assert refund.amount == payment.amount and refund.payment_id == payment.id
    assert "out of print" in refund.notes
    assert sandbox.payment(payment.gateway_payment_id)["amount_refunded"] == payment.amount


def test_rejecting_a_rental_frees_its_dates(sandbox):
    order, _ = shop.rental_order(sandbox, shop=shop.vendor())
    db.session.get(Order, order.id).fulfilment_status = FulfilmentStatus.AWAITING_VENDOR
    db.session.commit()

    reject_order(order.id, reason="the camera is broken", actor=ACTOR)

    [booking] = db.session.scalars(select(Reservation)).all()
    assert (booking.status, booking.released_reason) == ("released", "rejected")


def test_a_rejection_needs_a_reason_and_changes_nothing_without_one(sandbox):
    order, _ = shop.goods_order(sandbox, shop=shop.vendor(), awaiting=True)

    with pytest.raises(FulfilmentError):
        reject_order(order.id, reason="  ", actor=ACTOR)

    assert _reload(Order, order.id).fulfilment_status == FulfilmentStatus.AWAITING_VENDOR
    assert db.session.scalar(select(Refund.id)) is None


def test_an_accepted_order_cannot_be_rejected(sandbox):
    order, _ = shop.goods_order(sandbox, shop=shop.vendor(), awaiting=True)
    accept_order(order.id, actor=ACTOR)

    with pytest.raises(IllegalTransition):
        reject_order(order.id, reason="changed my mind", actor=ACTOR)
    assert db.session.scalar(select(Refund.id)) is None


def test_goods_move_through_every_shipping_step_with_the_tracking_recorded(sandbox):
    order, _ = shop.goods_order(sandbox)
    for step in ("processing", "ready_for_shipment"):
        advance(order.id, step, actor=ACTOR)
    advance(order.id, "shipped", actor=ACTOR, carrier=" Delhivery ", tracking_number="DLV-42")
    advance(order.id, "in_transit", actor=ACTOR)
    advance(order.id, "delivered", actor=ACTOR)

    order = _reload(Order, order.id)
    assert (order.fulfilment_status, order.carrier, order.tracking_number) == ("delivered", "Delhivery", "DLV-42")
    shipped = next(e for e in history_of(order) if e.to_state == "shipped")
    assert shipped.changes["tracking_number"] == [None, "DLV-42"]
    assert "Delhivery" in shipped.reason


def test_shipping_without_a_tracking_number_is_refused_and_changes_nothing(sandbox):
    order, _ = shop.goods_order(sandbox)
    advance(order.id, "processing", actor=ACTOR)

    with pytest.raises(TrackingRequired):
        advance(order.id, "shipped", actor=ACTOR, carrier="BlueDart", tracking_number=" ")

    order = _reload(Order, order.id)
    assert (order.fulfilment_status, order.carrier) == ("processing", None)


def test_a_step_that_skips_ahead_is_an_illegal_transition(sandbox):
    order, _ = shop.goods_order(sandbox)

    with pytest.raises(IllegalTransition):
        advance(order.id, "delivered", actor=ACTOR)


def test_an_unpaid_order_does_not_move(make):
    order = make.order(products=[make.product(kind=ProductKind.GOOD, stock=3)])

    with pytest.raises(IllegalTransition):
        advance(order.id, "processing", actor=ACTOR)
    assert _reload(Order, order.id).fulfilment_status == FulfilmentStatus.UNFULFILLED


@pytest.mark.parametrize("target", ["returned", "rejected"])
def test_returns_and_rejections_are_not_plain_steps(sandbox, target):
    order, _ = shop.goods_order(sandbox)

    with pytest.raises(FulfilmentError):
        advance(order.id, target, actor=ACTOR)


def test_accept_and_reject_racing_leave_exactly_one_outcome(app, postgres, sandbox):
    order, _ = shop.goods_order(sandbox, shop=shop.vendor(), awaiting=True)
    calls = iter(
        [lambda: accept_order(order.id, actor=ACTOR), lambda: reject_order(order.id, reason="no", actor=ACTOR)]
    )
    jobs = [next(calls), next(calls)]
    picks = iter(jobs)

    results = run_together(app, lambda: next(picks)(), 2)

    assert sum(isinstance(r, IllegalTransition) for r in results) == 1, results
    order = _reload(Order, order.id)
    refunds = db.session.scalars(select(Refund.id)).all()
    assert (order.fulfilment_status, len(refunds)) in {("unfulfilled", 0), ("rejected", 1)}
