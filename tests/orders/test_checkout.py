"""Gateway orders are made once per order: found by our receipt after a create that timed out, never doubled."""

from __future__ import annotations

import time

import pytest

from portal.extensions import db
from portal.gateway import GatewayUnavailable, build_gateway, get_gateway
from portal.history.services import history_of
from portal.orders.checkout import open_gateway_order
from portal.orders.services import place_order


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
