"""Concurrency on PostgreSQL with real threads: reservations never oversell, orders are made once."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from portal.auth.services import issue_token
from portal.cart.models import Checkout
from portal.cart.services import add_line
from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.orders.models import Order
from portal.payments.models import Payment, PaymentAllocation
from portal.stock.models import Reservation
from tests.cart.conftest import days_from_today
from tests.cart.test_checkout import fill_cart
from tests.helpers import run_together
from tests.webhooks import payloads


def _checkout_as(app, user):
    token, _ = issue_token(user)

    def job():
        answer = app.test_client().post("/api/v1/checkout", json={}, headers={"Authorization": f"Bearer {token}"})
        return answer.status_code, (answer.get_json()["error"]["code"] if answer.status_code >= 400 else "ok")

    return job


def run_each(app, jobs) -> list:
    """Run different jobs at one instant (run_together runs copies of one): each thread takes the next job."""
    queue, lock = iter(jobs), threading.Lock()

    def next_job():
        with lock:
            job = next(queue)
        return job()

    return run_together(app, next_job, len(jobs))


def _race(app, users) -> Counter:
    return Counter(run_each(app, [_checkout_as(app, user) for user in users]))


def test_ten_customers_racing_for_the_last_three_units_get_three_reservations(postgres, app, make, sandbox):
    kettle = make.product(kind=ProductKind.GOOD, price=120000, stock=3)
    customers = [make.customer() for _ in range(10)]
    for customer in customers:
        add_line(customer, kettle.id, 1)

    results = _race(app, customers)

    assert results == {(201, "ok"): 3, (409, "out_of_stock"): 7}, results
    assert db.session.scalar(select(func.count(Reservation.id))) == 3
    assert db.session.scalar(select(func.count(Checkout.id))) == 3


def _rent(make, start, end):
    tent = make.product(kind=ProductKind.RENTAL, price=30000, stock=1)
    customers = [make.customer() for _ in range(2)]
    for customer, (first, last) in zip(customers, (start, end), strict=True):
        add_line(customer, tent.id, 1, rental_start=days_from_today(first), rental_end=days_from_today(last))
    return customers


def test_two_rentals_of_the_one_unit_for_overlapping_dates_one_wins(postgres, app, make, sandbox):
    customers = _rent(make, (3, 6), (5, 9))

    assert _race(app, customers) == {(201, "ok"): 1, (409, "out_of_stock"): 1}


def test_two_rentals_of_the_one_unit_for_separate_dates_both_win(postgres, app, make, sandbox):
    customers = _rent(make, (3, 4), (5, 9))

    assert _race(app, customers) == {(201, "ok"): 2}


def test_verify_racing_the_webhook_makes_one_set_of_orders(postgres, app, api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    paid = sandbox.pay(data["gateway_order_id"])
    entity = sandbox.payment(paid["razorpay_payment_id"])
    body = payloads.body_of(payloads.envelope("payment.captured", payment=entity))
    signature = payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"])
    token = api.token
    jobs = [
        lambda: (
            app.test_client()
            .post("/api/v1/checkout/verify", json=paid, headers={"Authorization": f"Bearer {token}"})
            .status_code
        ),
        lambda: (
            app.test_client()
            .post(
                "/webhooks/razorpay",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Razorpay-Signature": signature,
                    "X-Razorpay-Event-Id": payloads.new_event_id(),
                },
            )
            .status_code
        ),
    ] * 3

    results = run_each(app, jobs)

    assert results == [200] * 6, results
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 3
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    assert db.session.scalar(select(func.count(PaymentAllocation.id))) == 3
    assert shop["lamp"].stock == 3


def test_payments_of_one_hot_product_verified_at_once_all_complete(postgres, app, make, sandbox):
    """Each completion takes the products' row locks before writing order items (whose foreign keys take key-share
    locks on them): without that order, two completions of one product deadlock."""
    sandbox.receive_webhooks()
    lamp = make.product(kind=ProductKind.GOOD, price=50000, stock=50)
    paid = []
    for _ in range(6):
        customer = make.customer()
        add_line(customer, lamp.id, 2)
        token, _ = issue_token(customer)
        headers = {"Authorization": f"Bearer {token}"}
        data = app.test_client().post("/api/v1/checkout", json={}, headers=headers).get_json()["data"]
        paid.append((headers, sandbox.pay(data["gateway_order_id"])))

    def verify(headers, result):
        return lambda: app.test_client().post("/api/v1/checkout/verify", json=result, headers=headers).status_code

    assert run_each(app, [verify(h, r) for h, r in paid]) == [200] * 6
    db.session.expire_all()
    assert lamp.stock == 50 - 12
    assert db.session.scalar(select(func.count(Order.id))) == 6
