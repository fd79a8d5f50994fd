"""Gateway orders are made once per order: found by our receipt after a create that timed out, never doubled;
unpaid orders (pending, or failed at the gateway) expire and give their stock back."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from portal.catalog.models import Product
from portal.extensions import db
from portal.gateway import GatewayUnavailable, build_gateway, get_gateway
from portal.history.services import Actor, history_of
from portal.orders.checkout import expire_overdue_orders, open_gateway_order, overdue_order_ids
from portal.orders.services import cancel_order, place_order
from tests.orders import shop


def unopened_order(make):
    """A pending order that has no gateway order yet (the factory gives every order one)."""
    return place_order(make.customer(), [{"product_id": make.product().id, "quantity": 1}])


def wait_for_receipt(receipt: str, count: int = 1, seconds: float = 10) -> list[dict]:
    """Gateway orders with `receipt`, once `count` of them exist (a timed-out create finishes on its own)."""
    deadline = time.monotonic() + seconds
    while True:
        found = get_gateway().find_orders_by_receipt(receipt)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_gateway_order_whose_create_timed_out_is_adopted_by_the_retry(app, make, sandbox):
    order = unopened_order(make)
    impatient = build_gateway(app, timeout=0.2, retries=0, backoff=0)
    sandbox.set_faults(latency_ms=600)
    with pytest.raises(GatewayUnavailable):  # the create reached the gateway; its answer did not come back
        impatient.create_order(
            amount=order.total,
            currency=order.currency,
            receipt=order.receipt,
            notes={"order_id": str(order.id), "order_number": order.number},
        )
    sandbox.clear_faults()
    [orphan] = wait_for_receipt(order.receipt)

    opened = open_gateway_order(order.id)

    assert opened.gateway_order_id == orphan["id"]
    assert [g["id"] for g in get_gateway().find_orders_by_receipt(order.receipt)] == [orphan["id"]]
    assert any("adopted" in (e.reason or "") for e in history_of(opened))


def test_a_gateway_order_not_created_because_the_gateway_is_down_is_created_once_on_retry(app, make, sandbox):
    order = unopened_order(make)
    sandbox.set_faults(down=True)
    with pytest.raises(GatewayUnavailable):
        open_gateway_order(order.id)
    sandbox.clear_faults()

    opened = open_gateway_order(order.id)
    again = open_gateway_order(order.id)

    assert opened.gateway_order_id and again.gateway_order_id == opened.gateway_order_id
    assert [g["id"] for g in get_gateway().find_orders_by_receipt(order.receipt)] == [opened.gateway_order_id]
    db.session.expire_all()
    reasons = [e.reason for e in history_of(opened) if e.action in ("gateway_error", "gateway_order")]
    assert len(reasons) == 2 and "outcome unknown" in reasons[0] and "created" in reasons[1]  # a 503 page


# ---------------------------------------------------------------- expiry of orders whose payment failed


def _failed_order(sandbox, make, stock: int = 5, quantity: int = 2):
    good = make.product(kind="good", stock=stock)
    order = make.order(products=[good], quantity=quantity)
    outcome = shop.pay(sandbox, order, outcome="failure")  # the hosted checkout's failure, fetched by the SDK
    assert outcome.order.status == "failed"
    return outcome.order, good


def test_an_order_whose_payment_failed_expires_and_gets_its_stock_back(sandbox, make):
    order, good = _failed_order(sandbox, make)
    assert db.session.get(Product, good.id).stock == 3
    later = order.expires_at + timedelta(minutes=1)
    assert overdue_order_ids(later) == [order.id]

    summary = expire_overdue_orders(now=later)

    db.session.expire_all()
    assert summary.expired == [order.number]
    assert db.session.get(type(order), order.id).status == "expired"
    assert db.session.get(Product, good.id).stock == 5
    assert [e.from_state for e in history_of(order) if e.to_state == "expired"] == ["failed"]


def test_an_order_whose_payment_failed_is_not_expired_before_its_time(sandbox, make):
    order, _ = _failed_order(sandbox, make)

    assert expire_overdue_orders().expired == []
    db.session.expire_all()
    assert db.session.get(type(order), order.id).status == "failed"


def test_cancelling_an_order_whose_payment_failed_restocks_it(sandbox, make):
    order, good = _failed_order(sandbox, make)

    cancel_order(order.id, actor=Actor.system("test"), reason="customer gave up")

    db.session.expire_all()
    assert db.session.get(Product, good.id).stock == 5
