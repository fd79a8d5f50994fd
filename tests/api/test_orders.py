"""Orders API: catalogue, pricing, idempotency, listing, statistics, cancel, payment links, invoices."""

from __future__ import annotations

import io
import threading

from sqlalchemy import func, select

from portal.history.services import Actor, history_of
from portal.orders.models import Order


def _create(api, items, **headers):
    return api.post("/api/v1/orders", json={"items": items}, headers=headers)


def test_catalogue_lists_only_purchasable_items(api, make):
    course = make.product(price=99900)
    make.product(active=False)
    make.product(kind="good", stock=0)
    kit = make.product(kind="good", stock=3)

    data = api.get("/api/v1/orders/available-courses").get_json()["data"]

    assert {p["id"] for p in data} == {course.id, kit.id}
    assert next(p for p in data if p["id"] == course.id)["tax"] == 17982


def test_a_client_supplied_price_is_ignored(api, course, sandbox):
    response = _create(api, [{"product_id": course.id, "quantity": 2, "price": 1, "unit_price": 1}])

    order = response.get_json()["data"]["order"]
    assert response.status_code == 201
    assert order["subtotal"] == 2 * 149900 and order["tax"] == 2 * 26982 and order["amount"] == 2 * 176882
    assert response.get_json()["data"]["checkout"]["amount"] == 2 * 176882


def test_duplicate_lines_are_merged(api, course, sandbox):
    order = _create(api, [{"product_id": course.id}, {"product_id": course.id, "quantity": 2}]).get_json()["data"]

    assert [(i["product_id"], i["quantity"]) for i in order["order"]["items"]] == [(course.id, 3)]


def test_invalid_items_are_refused_with_details_and_change_nothing(api, make, db):
    inactive = make.product(active=False)
    kit = make.product(kind="good", stock=1)

    unknown = _create(api, [{"product_id": 999999}])
    inactive_answer = _create(api, [{"product_id": inactive.id}])
    too_many = _create(api, [{"product_id": kit.id, "quantity": 2}])
    zero = _create(api, [{"product_id": kit.id, "quantity": 0}])
    empty = _create(api, [])

    assert unknown.status_code == inactive_answer.status_code == too_many.status_code == 422
    assert unknown.get_json()["error"]["details"] == {"unavailable_product_ids": [999999]}
    assert too_many.get_json()["error"]["details"] == {"in_stock": {str(kit.id): 1}}
    assert zero.status_code == empty.status_code == 422
    assert zero.get_json()["error"]["code"] == "validation_failed"
    assert db.session.scalar(select(func.count(Order.id))) == 0
    db.session.refresh(kit)
    assert kit.stock == 1


def test_malformed_json_is_a_400(api):
    response = api.post("/api/v1/orders", data="{nope", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"


def test_same_idempotency_key_and_body_replays_the_first_answer(api, course, sandbox, db):
    first = _create(api, [{"product_id": course.id}], **{"Idempotency-Key": "order-abc-1"})
    again = _create(api, [{"product_id": course.id, "quantity": 1}], **{"Idempotency-Key": "order-abc-1"})

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["data"]["order"]["id"] == again.get_json()["data"]["order"]["id"]
    assert first.get_json()["data"]["checkout"] == again.get_json()["data"]["checkout"]
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(api, course, make, sandbox, db):
    other = make.product()
    _create(api, [{"product_id": course.id}], **{"Idempotency-Key": "order-abc-2"})

    response = _create(api, [{"product_id": other.id}], **{"Idempotency-Key": "order-abc-2"})

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_conflict"
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_one_key_is_per_customer(api, other_api, course, sandbox, db):
    mine = _create(api, [{"product_id": course.id}], **{"Idempotency-Key": "shared-key"})
    theirs = _create(other_api, [{"product_id": course.id}], **{"Idempotency-Key": "shared-key"})

    assert mine.get_json()["data"]["order"]["id"] != theirs.get_json()["data"]["order"]["id"]


def test_two_concurrent_creates_with_one_key_make_one_order(postgres, app, api, course, sandbox, db):
    answers, barrier = [], threading.Barrier(4)
    body, token = {"items": [{"product_id": course.id}]}, api.token  # read here: the session is not shared

    def create():
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            answers.append(
                client.post(
                    "/api/v1/orders",
                    json=body,
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "race-key-1"},
                )
            )

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.get_json()["data"]["order"]["id"] for a in answers}) == 1
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_gateway_down_keeps_the_order_and_says_so_plainly(api, course, sandbox, db):
    sandbox.set_faults(down=True)

    response = _create(api, [{"product_id": course.id}])

    body = response.get_json()["data"]
    assert response.status_code == 201
    assert body["payment_ready"] is False and body["checkout"] is None
    assert "payment could not be started" in body["message"] and "Nothing was charged" in body["message"]
    order = db.session.get(Order, body["order"]["id"])
    assert order.status == "pending" and order.gateway_order_id is None
    assert any(e.action == "gateway_error" for e in history_of(order))

    still_down = api.post(f"/api/v1/orders/{order.id}/pay")
    assert still_down.status_code == 503
    assert still_down.get_json()["error"]["code"] == "gateway_unavailable"

    sandbox.clear_faults()
    resumed = api.post(f"/api/v1/orders/{order.id}/pay")
    assert resumed.status_code == 200
    assert resumed.get_json()["data"]["checkout"]["gateway_order_id"].startswith("order_")
    assert sandbox.order(resumed.get_json()["data"]["checkout"]["gateway_order_id"])["amount"] == order.total


def test_another_customers_order_is_not_found_anywhere(api, other_api, course, sandbox):
    theirs = _create(other_api, [{"product_id": course.id}]).get_json()["data"]["order"]["id"]

    answers = [
        api.get(f"/api/v1/orders/{theirs}"),
        api.patch(f"/api/v1/orders/{theirs}/cancel"),
        api.get(f"/api/v1/orders/{theirs}/payment-link"),
        api.post(f"/api/v1/orders/{theirs}/pay"),
        api.get(f"/api/v1/orders/{theirs}/invoice"),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    unknown = api.get("/api/v1/orders/987654").get_json()
    assert all(a.get_json() == unknown for a in answers[:1])
    assert other_api.get(f"/api/v1/orders/{theirs}").get_json()["data"]["status"] == "pending"


def test_my_orders_are_paginated_newest_first(api, other_api, make):
    made = [make.order(customer_user=api.user) for _ in range(3)]
    make.order(customer_user=other_api.user)

    page1 = api.get("/api/v1/orders/my-orders?per_page=2").get_json()
    page2 = api.get("/api/v1/orders/my-orders?per_page=2&page=2").get_json()

    ids = [o["id"] for o in page1["data"] + page2["data"]]
    assert ids == [o.id for o in reversed(made)]
    assert page1["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert api.get("/api/v1/orders/my-orders?per_page=101").status_code == 422


def test_statistics_count_and_total_by_status(api, make):
    paid, _payment = make.paid_order(customer_user=api.user, products=[make.product(price=50000)])
    pending = make.order(customer_user=api.user)

    stats = api.get("/api/v1/orders/statistics").get_json()["data"]

    assert stats["orders"] == 2
    by_status = {row["status"]: row for row in stats["by_status"]}
    assert by_status["pending"]["count"] == 1 and by_status["pending"]["amount"] == pending.total
    assert by_status["paid"]["amount"] == paid.total
    assert stats["spent"] == [{"currency": "INR", "amount": paid.total}]


def test_cancelling_a_pending_order_cancels_its_payment_link(api, course, sandbox, db):
    order_id = _create(api, [{"product_id": course.id}]).get_json()["data"]["order"]["id"]
    link = api.get(f"/api/v1/orders/{order_id}/payment-link").get_json()["data"]

    response = api.patch(f"/api/v1/orders/{order_id}/cancel")

    assert response.status_code == 200
    assert response.get_json()["data"]["status"] == "cancelled"
    assert sandbox.payment_link(link["payment_link_id"])["status"] == "cancelled"
    actions = [e.action for e in history_of(db.session.get(Order, order_id))]
    assert "payment_link_cancelled" in actions


def test_cancelling_a_paid_order_is_a_conflict(api, make):
    order, _payment = make.paid_order(customer_user=api.user)

    response = api.patch(f"/api/v1/orders/{order.id}/cancel")

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_state"
    assert api.get(f"/api/v1/orders/{order.id}").get_json()["data"]["status"] == "paid"


def test_payment_link_is_created_once_and_reused(api, course, sandbox):
    order_id = _create(api, [{"product_id": course.id}]).get_json()["data"]["order"]["id"]

    first = api.get(f"/api/v1/orders/{order_id}/payment-link").get_json()["data"]
    second = api.get(f"/api/v1/orders/{order_id}/payment-link").get_json()["data"]

    assert first == second
    link = sandbox.payment_link(first["payment_link_id"])
    assert link["amount"] == api.get(f"/api/v1/orders/{order_id}").get_json()["data"]["amount"]
    assert link["callback_url"].endswith("/payments/razorpay/callback")


def test_payment_link_of_a_paid_order_is_a_conflict(api, make):
    order, _payment = make.paid_order(customer_user=api.user)

    assert api.get(f"/api/v1/orders/{order.id}/payment-link").status_code == 409


def test_invoice_is_a_clear_404_until_one_is_issued(api, make):
    order = make.order(customer_user=api.user)

    response = api.get(f"/api/v1/orders/{order.id}/invoice")

    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "invoice_not_found",
        "message": "No invoice has been issued for this order yet.",
        "details": {},
    }


def test_invoice_of_a_paid_order_is_its_pdf(api, make):
    from pypdf import PdfReader

    order, _payment = make.paid_order(customer_user=api.user)  # AUTO_INVOICE issues it on payment

    response = api.get(f"/api/v1/orders/{order.id}/invoice")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "/" not in response.headers["Content-Disposition"].split("filename=")[-1]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert order.number in text and order.invoice.number in text


def test_a_payment_link_closed_at_the_gateway_is_replaced_not_reused(api, course, sandbox):
    from portal.gateway import get_gateway

    order_id = _create(api, [{"product_id": course.id}]).get_json()["data"]["order"]["id"]
    first = api.get(f"/api/v1/orders/{order_id}/payment-link").get_json()["data"]
    get_gateway().cancel_payment_link(first["payment_link_id"])  # e.g. from Razorpay's dashboard

    second = api.get(f"/api/v1/orders/{order_id}/payment-link").get_json()["data"]
    third = api.get(f"/api/v1/orders/{order_id}/payment-link").get_json()["data"]

    assert second["payment_link_id"] != first["payment_link_id"] and third == second
    assert sandbox.payment_link(second["payment_link_id"])["status"] == "created"
    assert sandbox.payment_link(second["payment_link_id"])["reference_id"].endswith("-2")


def test_the_list_answers_each_order_exactly_as_its_detail_does(api, make):
    """The list reads plain rows and the detail ORM objects (portal/api/queries.py): one answer all the same."""
    from portal.invoices.services import issue_invoice, void_invoice
    from portal.payments.services import apply_gateway_payment
    from tests.api.test_statements import settled_order

    actor = Actor.system("test")
    busy = settled_order(api.user, [make.product(), make.product(kind="good", stock=9)], refunds=2)
    apply_gateway_payment(make.payment_entity(busy, status="failed"), actor=Actor.gateway())
    voided, reissued = settled_order(api.user, [make.product()]), settled_order(api.user, [make.product()])
    void_invoice(voided.invoice.id, actor=actor, reason="wrong buyer")
    void_invoice(reissued.invoice.id, actor=actor, reason="wrong buyer")
    new_number = issue_invoice(reissued.id, actor=actor).number
    pending = make.order(customer_user=api.user)

    listed = api.get("/api/v1/orders/my-orders").get_json()["data"]

    assert len(listed) == 4
    assert {o["id"] for o in listed if o["invoice"] is None} == {voided.id, pending.id}
    assert next(o for o in listed if o["id"] == reissued.id)["invoice"]["number"] == new_number
    assert all(o == api.get(f"/api/v1/orders/{o['id']}").get_json()["data"] for o in listed)
    assert next(o for o in listed if o["id"] == busy.id)["refunds"][1]["amount"] == 1000


def test_invoice_links_are_the_routes_own_urls_under_a_script_root(app):
    from flask import url_for

    from portal.api.serializers import invoice_url

    # Mounted under a prefix (SCRIPT_NAME) whose digits could be mistaken for an order id.
    with app.test_request_context("/api/v1/orders/my-orders", environ_base={"SCRIPT_NAME": "/2147483647/shop"}):
        for order_id in (1, 7, 2147483647, 123456):
            assert invoice_url(order_id) == url_for("api.order_invoice", order_id=order_id)
