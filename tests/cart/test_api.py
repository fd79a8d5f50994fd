"""The cart API: lines merge, prices come from the catalogue, bad input is refused with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.cart.models import CartLine
from portal.extensions import db
from tests.cart.conftest import days_from_today


def _lines():
    return db.session.scalar(select(func.count(CartLine.id)))


def test_an_empty_cart_says_so_in_its_problems(api):
    body = api.get("/api/v1/cart").get_json()["data"]

    assert body["lines"] == [] and body["total"] == 0
    assert [p["code"] for p in body["problems"]] == ["empty_cart"]


def test_adding_the_same_product_and_options_twice_grows_one_line(api, shop):
    lamp = shop["lamp"]
    api.post("/api/v1/cart/items", json={"product_id": lamp.id, "quantity": 1, "options": ["gift_wrap"]})
    answer = api.post("/api/v1/cart/items", json={"product_id": lamp.id, "quantity": 2, "options": ["gift_wrap"]})
    plain = api.post("/api/v1/cart/items", json={"product_id": lamp.id, "quantity": 1})

    assert answer.status_code == 201
    lines = plain.get_json()["data"]["lines"]
    assert [(line["quantity"], [o["code"] for o in line["options"]]) for line in lines] == [(3, ["gift_wrap"]), (1, [])]
    assert lines[0]["unit_price"] == 55000 and lines[0]["line_total"] == 3 * 55000 + 29700


def test_a_client_sent_price_is_ignored(api, shop):
    lamp = shop["lamp"]
    body = api.post("/api/v1/cart/items", json={"product_id": lamp.id, "quantity": 1, "price": 1}).get_json()

    assert body["data"]["lines"][0]["unit_price"] == 50000


def test_the_cart_groups_lines_by_vendor_with_subtotals_and_totals_every_figure(api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id, "quantity": 2})
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 1})
    start, end = days_from_today(3), days_from_today(4)
    api.post(
        "/api/v1/cart/items",
        json={"product_id": shop["tent"].id, "quantity": 1, "rental_start": str(start), "rental_end": str(end)},
    )

    body = api.get("/api/v1/cart").get_json()["data"]

    assert body["problems"] == []
    assert [g["vendor"]["name"] for g in body["vendors"]] == ["Asha Crafts", "Brass Works", "Camp Co"]
    assert [g["subtotal"] for g in body["vendors"]] == [118000, 141600, 70800 + 200000]
    tent = body["lines"][2]
    assert tent["days"] == 2 and tent["unit_price"] == 60000 and tent["deposit"] == 200000
    assert body["subtotal"] == 100000 + 120000 + 60000
    assert body["tax"] == 18000 + 21600 + 10800 and body["deposits"] == 200000 and body["discount"] == 0
    assert body["total"] == sum(g["subtotal"] for g in body["vendors"])


RENTAL_START, RENTAL_END = "rental_start", "rental_end"


@pytest.mark.parametrize(
    ("item", "status", "code"),
    [
        ({"product_id": 999999, "quantity": 1}, 422, "unknown_product"),
        ({"product_id": "lamp", "quantity": 0}, 422, "validation_failed"),
        ({"product_id": "lamp", "quantity": -2}, 422, "validation_failed"),
        ({"product_id": "lamp", "quantity": 10**9}, 422, "validation_failed"),
        ({"product_id": "lamp", "quantity": 1, "options": ["engraving"]}, 422, "invalid_line"),
        ({"product_id": "lamp", "quantity": 1, RENTAL_START: 1, RENTAL_END: 2}, 422, "invalid_line"),
        ({"product_id": "tent", "quantity": 1}, 422, "invalid_line"),
        ({"product_id": "tent", "quantity": 1, RENTAL_START: 5, RENTAL_END: 3}, 422, "invalid_line"),
        ({"product_id": "tent", "quantity": 1, RENTAL_START: -2, RENTAL_END: 1}, 422, "invalid_line"),
        ({"product_id": "tent", "quantity": 1, RENTAL_START: 1, RENTAL_END: 200}, 422, "invalid_line"),
        ({"product_id": "tent", "quantity": 1, RENTAL_START: "soon", RENTAL_END: 2}, 422, "validation_failed"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(api, shop, item, status, code):
    body = dict(item)
    if isinstance(body["product_id"], str):
        body["product_id"] = shop[body["product_id"]].id
    for key in (RENTAL_START, RENTAL_END):
        if isinstance(body.get(key), int):
            body[key] = str(days_from_today(body[key]))

    answer = api.post("/api/v1/cart/items", json=body)

    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["error"]["code"] == code
    assert _lines() == 0


def test_a_quantity_that_would_grow_past_the_maximum_is_refused(api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id, "quantity": 60})

    answer = api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id, "quantity": 60})

    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_line"
    assert api.get("/api/v1/cart").get_json()["data"]["lines"][0]["quantity"] == 60


def test_changing_and_removing_a_line(api, shop):
    line_id = api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id}).get_json()["data"]["lines"][0]["id"]

    changed = api.patch(f"/api/v1/cart/items/{line_id}", json={"quantity": 4}).get_json()["data"]
    removed = api.patch(f"/api/v1/cart/items/{line_id}", json={"quantity": 0}).get_json()["data"]

    assert changed["lines"][0]["quantity"] == 4
    assert removed["lines"] == []


def test_another_customers_line_answers_404_and_stays_as_it_was(api, other_api, shop):
    line_id = api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id}).get_json()["data"]["lines"][0]["id"]

    patched = other_api.patch(f"/api/v1/cart/items/{line_id}", json={"quantity": 5})
    deleted = other_api.delete(f"/api/v1/cart/items/{line_id}")

    assert patched.status_code == deleted.status_code == 404
    assert deleted.get_json()["error"]["code"] == "cart_line_not_found"
    assert api.get("/api/v1/cart").get_json()["data"]["lines"][0]["quantity"] == 1


def test_every_discount_code_is_invalid_until_the_pricing_engine_exists(api):
    answer = api.post("/api/v1/cart/discount", json={"code": "DIWALI10"})

    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_discount"
    assert api.delete("/api/v1/cart/discount").status_code == 200


def test_problems_name_an_inactive_product_a_resting_vendor_and_short_stock_in_plain_words(api, shop):
    for product, quantity in ((shop["lamp"], 1), (shop["kettle"], 2)):
        api.post("/api/v1/cart/items", json={"product_id": product.id, "quantity": quantity})
    shop["lamp"].active = False
    shop["kettle"].vendor.active = False
    shop["kettle"].stock = 1
    db.session.commit()

    problems = api.get("/api/v1/cart").get_json()["data"]["problems"]

    assert {p["code"] for p in problems} == {"product_inactive", "vendor_inactive", "out_of_stock"}
    messages = " ".join(p["message"] for p in problems)
    assert "Clay lamp is no longer sold" in messages and "Only 1 of Brass kettle" in messages


def test_the_cart_needs_a_token(client):
    assert client.get("/api/v1/cart").status_code == 401


def test_the_openapi_description_lists_the_cart_and_checkout_paths(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    assert set(paths) >= {
        "/api/v1/cart",
        "/api/v1/cart/items",
        "/api/v1/cart/items/{line_id}",
        "/api/v1/cart/discount",
        "/api/v1/checkout",
        "/api/v1/checkout/verify",
        "/api/v1/checkouts/{checkout_id}",
        "/api/v1/checkouts/{checkout_id}/cancel",
    }
    start = paths["/api/v1/checkout"]["post"]
    assert {"201", "409", "422"} <= set(start["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_line_id_past_the_databases_range_answers_404(api, method):
    answer = getattr(api, method)("/api/v1/cart/items/9463833155843810", json={"quantity": 1})

    assert answer.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/checkouts/9463833155843810", "/api/v1/cart/items/abc"])
def test_an_id_that_is_not_one_of_ours_answers_404(api, path):
    assert api.get(path).status_code in (404, 405)
    assert api.delete(path).status_code in (404, 405)
    assert api.patch(f"{path}/cancel").status_code == 404
