"""The order page's fulfilment panel through the real app: HTMX answers the panel, a plain post redirects,
refusals answer 409 / 422 with a readable message and write nothing; roles, vendors and CSRF are checked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.services import upsert_user
from portal.catalog.models import Product
from portal.extensions import db
from portal.orders.models import Order
from portal.refunds.models import Refund
from tests import factories
from tests.helpers import extract_csrf
from tests.orders import shop

HX = {"HX-Request": "true"}


def _reload(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def _token(client, order_id):
    return extract_csrf(client.get(f"/admin/orders/{order_id}").get_data(as_text=True))


def _vendor_user(vendor):
    return upsert_user(f"staff{vendor.id}@vendor.test", factories.PASSWORD, "vendor", vendor_id=vendor.id)[0]


def _post(client, order_id, action, data=None, headers=HX):
    token = _token(client, order_id)
    return client.post(
        f"/admin/orders/{order_id}/fulfilment/{action}", data={**(data or {}), "csrf_token": token}, headers=headers
    )


@pytest.fixture
def awaiting(sandbox):
    vendor = shop.vendor(name="Clay Works")
    order, payment = shop.goods_order(sandbox, shop=vendor, awaiting=True, quantity=2)
    return order, payment, vendor


def test_the_order_page_shows_the_panel_with_accept_and_reject(auth, client, awaiting):
    auth.login_as("admin")
    order, _, _ = awaiting

    page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)

    assert 'id="order-fulfilment"' in page and "Accept order" in page and "Reject and refund" in page


def test_accepting_over_htmx_answers_the_updated_panel(auth, client, awaiting):
    auth.login_as("admin")
    order, _, _ = awaiting

    response = _post(client, order.id, "accept")

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="order-fulfilment"')
    assert "accepted: unfulfilled" in body and "Accept order" not in body
    assert _reload(Order, order.id).fulfilment_status == "unfulfilled"


def test_accepting_without_javascript_redirects_to_the_order(auth, client, awaiting):
    auth.login_as("admin")
    order, _, _ = awaiting

    response = _post(client, order.id, "accept", headers={})

    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/orders/{order.id}")


def test_accepting_twice_answers_409_with_a_readable_message(auth, client, awaiting):
    auth.login_as("admin")
    order, _, _ = awaiting
    _post(client, order.id, "accept")

    response = _post(client, order.id, "accept")

    assert response.status_code == 409
    assert "Fulfilment cannot move from &#39;unfulfilled&#39;" in response.get_data(as_text=True)


def test_a_rejection_without_a_reason_is_a_form_error(auth, client, awaiting):
    auth.login_as("admin")
    order, _, _ = awaiting

    response = _post(client, order.id, "reject", {"reason": ""})

    assert response.status_code == 422 and "Give a reason" in response.get_data(as_text=True)
    assert _reload(Order, order.id).fulfilment_status == "awaiting_vendor"


def test_the_vendor_rejects_its_own_order_and_it_is_refunded(client, auth, awaiting):
    order, payment, vendor = awaiting
    auth.login(_vendor_user(vendor).email)

    response = _post(client, order.id, "reject", {"reason": "kiln broke"})

    assert response.status_code == 200 and "1 refund(s) created" in response.get_data(as_text=True)
    assert _reload(Order, order.id).fulfilment_status == "rejected"
    assert db.session.scalars(select(Refund.amount)).all() == [payment.amount]


def test_another_vendor_cannot_see_or_act_on_the_order(client, auth, awaiting):
    order, _, _ = awaiting
    auth.login(_vendor_user(shop.vendor(name="Other shop")).email)
    token = extract_csrf(client.get("/admin/orders").get_data(as_text=True))

    response = client.post(f"/admin/orders/{order.id}/fulfilment/accept", data={"csrf_token": token}, headers=HX)

    assert response.status_code == 404
    assert _reload(Order, order.id).fulfilment_status == "awaiting_vendor"


def test_a_viewer_may_not_act(auth, client, awaiting):
    auth.login_as("viewer")
    order, _, _ = awaiting

    response = _post(client, order.id, "accept")

    assert response.status_code == 403
    assert _reload(Order, order.id).fulfilment_status == "awaiting_vendor"


@pytest.mark.parametrize("action", ["accept", "reject", "advance", "return"])
def test_every_fulfilment_action_needs_the_csrf_token(auth, client, awaiting, action):
    auth.login_as("admin")
    order, _, _ = awaiting

    response = client.post(f"/admin/orders/{order.id}/fulfilment/{action}", data={"reason": "x"}, headers=HX)

    assert response.status_code == 400
    assert _reload(Order, order.id).fulfilment_status == "awaiting_vendor"


def test_shipping_without_a_tracking_number_is_a_form_error_and_changes_nothing(auth, client, sandbox):
    auth.login_as("admin")
    order, _ = shop.goods_order(sandbox)
    _post(client, order.id, "advance", {"status": "processing"})

    response = _post(client, order.id, "advance", {"status": "shipped", "carrier": "BlueDart"})

    assert response.status_code == 422 and "tracking number" in response.get_data(as_text=True)
    assert response.headers["X-Swap-Refusal"] == "1"  # htmx swaps the panel with its message (static/js/app.js)
    order = _reload(Order, order.id)
    assert (order.fulfilment_status, order.carrier) == ("processing", None)


def test_shipping_with_carrier_and_tracking_number_shows_them(auth, client, sandbox):
    auth.login_as("admin")
    order, _ = shop.goods_order(sandbox)
    _post(client, order.id, "advance", {"status": "processing"})

    response = _post(client, order.id, "advance", {"status": "shipped", "carrier": "BlueDart", "tracking_number": "B1"})

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "is now shipped" in body and "<code>B1</code>" in body


def test_a_step_not_offered_is_a_form_error(auth, client, sandbox):
    auth.login_as("admin")
    order, _ = shop.goods_order(sandbox)

    response = _post(client, order.id, "advance", {"status": "delivered"})

    assert response.status_code == 422
    assert _reload(Order, order.id).fulfilment_status == "unfulfilled"


def test_a_return_restocks_and_the_panel_shows_the_new_stock(auth, client, sandbox, make):
    auth.login_as("admin")
    good = make.product(kind="good", stock=5)
    order, _ = shop.goods_order(sandbox, products=[good], quantity=2)
    shop.shipped(order.id)
    line = order.items[0]

    response = _post(client, order.id, "return", {f"ret-{line.id}": "1"})

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Return recorded" in body
    assert f'data-testid="stock-{good.id}">4<' in body
    assert _reload(Product, good.id).stock == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [({"ret-LINE": "9"}, "only 2"), ({}, "at least one line"), ({"ret-LINE": "x"}, "whole numbers")],
)
def test_a_bad_return_is_a_form_error_and_restocks_nothing(auth, client, sandbox, make, data, message):
    auth.login_as("admin")
    good = make.product(kind="good", stock=5)
    order, _ = shop.goods_order(sandbox, products=[good], quantity=2)
    shop.shipped(order.id)
    data = {k.replace("LINE", str(order.items[0].id)): v for k, v in data.items()}

    response = _post(client, order.id, "return", data)

    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _reload(Product, good.id).stock == 3


def test_a_refused_step_without_javascript_shows_the_page_with_its_status(auth, client, sandbox):
    auth.login_as("admin")
    order, _ = shop.goods_order(sandbox)
    _post(client, order.id, "advance", {"status": "processing"})

    response = _post(client, order.id, "advance", {"status": "shipped"}, headers={})

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body.lower() and "tracking number" in body
