"""The demo storefront's cart: products of two vendors into one cart through the customer API, Pay → the
sandbox's hosted checkout; refusals in the API's words; CSRF on every form."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from portal.cart.models import Checkout
from portal.extensions import db
from tests.helpers import extract_csrf
from tests.marketplace_fixtures import two_vendor_shop


@pytest.fixture
def shop(sandbox):
    return two_vendor_shop()


def store(client) -> str:
    page = client.get("/sandbox/store/")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def post(client, path: str, **data):
    token = extract_csrf(store(client))
    return client.post(path, data={"csrf_token": token, **data})


def add(client, product, quantity=1, **dates):
    return post(client, "/sandbox/store/cart/items", product_id=product.id, quantity=quantity, **dates)


def rental_dates(days_ahead=3, length=2) -> dict:
    start = date.today() + timedelta(days=days_ahead)
    return {"rental_start": start.isoformat(), "rental_end": (start + timedelta(days=length - 1)).isoformat()}


def test_the_store_lists_every_vendors_products_under_its_name(client, shop):
    page = store(client)
    assert "Loom &amp; Co" in page and "Trail Rentals" in page
    assert "Silk scarf" in page and "Two-person tent" in page and "a day" in page


def test_adding_goods_of_two_vendors_shows_one_cart_with_a_subtotal_per_vendor(client, shop):
    assert add(client, shop.scarf, 2).status_code == 302
    assert add(client, shop.lamp).status_code == 302
    page = store(client)
    assert 'id="store-cart-lines"' in page and page.count('id="cart-line-') == 2
    vendors = page.split('id="store-cart-vendors"')[1].split("</ul>")[0]
    assert "Loom &amp; Co" in vendors and "Trail Rentals" in vendors
    assert "Pay ₹" in page


def test_a_rental_is_added_with_its_dates(client, shop):
    dates = rental_dates()
    add(client, shop.tent, **dates)
    page = store(client)
    assert f"{dates['rental_start']} → {dates['rental_end']}" in page


def test_a_refused_line_shows_the_apis_reason_and_adds_nothing(client, shop):
    response = add(client, shop.tent, rental_start="2001-01-01", rental_end="2001-01-02")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Could not add it to the cart" in page
    assert 'id="cart-line-' not in page


def test_changing_a_quantity_to_zero_and_removing_empty_the_cart(client, shop):
    add(client, shop.scarf)
    add(client, shop.lamp)
    line_ids = [int(chunk.split('"')[0]) for chunk in store(client).split('id="cart-line-')[1:]]
    post(client, f"/sandbox/store/cart/items/{line_ids[0]}", quantity=0)
    post(client, f"/sandbox/store/cart/items/{line_ids[1]}/remove")
    assert "Your cart is empty." in store(client)


def test_pay_checks_the_cart_out_once_and_opens_the_hosted_checkout(client, shop):
    add(client, shop.scarf)
    add(client, shop.lamp)
    page = store(client)
    key = page.split('name="idempotency_key" value="')[-1].split('"')[0]
    token = extract_csrf(page)
    first = client.post("/sandbox/store/checkout", data={"csrf_token": token, "idempotency_key": key})
    again = client.post("/sandbox/store/checkout", data={"csrf_token": token, "idempotency_key": key})
    assert first.status_code == 302 and "/sandbox/checkout/order_" in first.headers["Location"]
    assert again.headers["Location"] == first.headers["Location"]  # a double click: one checkout
    gateway_order_id = urlsplit(first.headers["Location"]).path.rsplit("/", 1)[1]
    checkout = db.session.query(Checkout).one()
    assert checkout.gateway_order_id == gateway_order_id and len(checkout.reservations) == 2


def test_pay_again_opens_the_same_gateway_order_while_the_checkout_is_open(client, shop, sandbox):
    add(client, shop.scarf)
    token = extract_csrf(store(client))
    opened = client.post("/sandbox/store/checkout", data={"csrf_token": token, "idempotency_key": "k-1"})
    checkout = db.session.query(Checkout).one()
    retry = client.get(f"/sandbox/store/checkouts/{checkout.id}/pay")
    assert retry.status_code == 302 and retry.headers["Location"] == opened.headers["Location"]


def test_pay_again_on_another_customers_checkout_is_refused(client, shop, make):
    other = make.checkout()
    store(client)
    response = client.get(f"/sandbox/store/checkouts/{other.id}/pay")
    assert response.status_code == 302 and "/sandbox/checkout/" not in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/sandbox/store/cart/items",
        "/sandbox/store/cart/items/1",
        "/sandbox/store/cart/items/1/remove",
        "/sandbox/store/checkout",
    ],
)
def test_every_cart_form_needs_the_csrf_token(client, shop, path):
    assert client.post(path, data={"product_id": shop.scarf.id, "quantity": 1}).status_code == 400


def test_my_orders_show_each_vendors_order_and_its_tracking_once_shipped(client, shop, sandbox):
    from portal.history.services import Actor
    from portal.orders.fulfilment import advance
    from portal.orders.models import Order

    add(client, shop.scarf)
    add(client, shop.lamp)
    token = extract_csrf(store(client))
    opened = client.post("/sandbox/store/checkout", data={"csrf_token": token, "idempotency_key": "mine-1"})
    gateway_order_id = urlsplit(opened.headers["Location"]).path.rsplit("/", 1)[1]
    client.get("/payments/razorpay/callback", query_string=sandbox.pay(gateway_order_id))
    loom = db.session.query(Order).filter_by(vendor_id=shop.loom.id).one()
    for step in ("processing", "shipped"):
        tracking = "DLV-1" if step == "shipped" else None
        advance(loom.id, step, actor=Actor.system(), carrier=tracking and "Delhivery", tracking_number=tracking)
    mine = store(client).split('id="store-orders"')[1].split("</table>")[0]
    assert "Loom &amp; Co" in mine and "Trail Rentals" in mine
    assert "shipped" in mine and "Delhivery DLV-1" in mine and "awaiting vendor" in mine
