"""The customer sees an order's fulfilment in the API: its status, vendor, tracking and each line's kind,
rental dates and returned units — alike in `GET /orders/<id>` and in `my-orders`."""

from __future__ import annotations

from portal.history.services import Actor
from portal.orders.fulfilment import accept_order, advance
from portal.orders.returns import record_return
from tests.orders import shop

ACTOR = Actor.system("test")


def _both(api, order_id):
    detail = api.get(f"/api/v1/orders/{order_id}").get_json()["data"]
    [listed] = [o for o in api.get("/api/v1/orders/my-orders").get_json()["data"] if o["id"] == order_id]
    assert detail == listed
    return detail


def test_a_shipped_vendor_rental_shows_its_vendor_tracking_and_lines(api, customer, sandbox):
    vendor = shop.vendor(name="Lens Library")
    order, _ = shop.rental_order(sandbox, shop=vendor, customer=customer)
    order.fulfilment_status = "awaiting_vendor"
    accept_order(order.id, actor=ACTOR)
    advance(order.id, "processing", actor=ACTOR)
    advance(order.id, "shipped", actor=ACTOR, carrier="Delhivery", tracking_number="DLV-7")

    body = _both(api, order.id)

    assert body["fulfilment_status"] == "shipped"
    assert body["vendor"] == {"id": vendor.id, "name": "Lens Library"}
    assert body["tracking"] == {"carrier": "Delhivery", "number": "DLV-7"}
    rental, deposit = body["items"]
    assert (rental["line_type"], deposit["line_type"]) == ("rental", "deposit")
    assert rental["rental_start"] == order.items[0].rental_start.isoformat()
    assert rental["rental_end"] == order.items[0].rental_end.isoformat()
    assert deposit["tax_amount"] == 0 and rental["returned_quantity"] == 0


def test_returned_units_and_the_returned_status_show(api, customer, sandbox, make):
    good = make.product(kind="good", stock=4)
    order, _ = shop.goods_order(sandbox, products=[good], quantity=2, customer=customer)
    shop.shipped(order.id)
    record_return(order.id, {order.items[0].id: 2}, actor=ACTOR)

    body = _both(api, order.id)

    assert body["fulfilment_status"] == "returned"
    assert body["items"][0]["returned_quantity"] == 2
    assert body["tracking"] == {"carrier": "BlueDart", "number": "AWB123"}


def test_a_house_order_with_nothing_to_ship_has_no_vendor_and_no_tracking(api, customer, make):
    order = make.order(customer_user=customer)

    body = _both(api, order.id)

    assert (body["fulfilment_status"], body["vendor"], body["tracking"]) == ("not_required", None, None)
    assert body["items"][0]["line_type"] == "item" and body["items"][0]["rental_start"] is None
