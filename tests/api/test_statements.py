"""Every customer API endpoint runs a constant, small number of SQL statements, whatever the page size.

Statements are counted with a `before_cursor_execute` listener on the app's real engine (the sandbox has its
own engine and is not counted). Budgets are for the worst case — no token cache (REDIS_URL unset), so the
token is read from the database on every request; tests/api/test_token_cache.py covers the cached case.
Each endpoint is measured twice, on a small and a large case, and must cost the same both times.
"""

from __future__ import annotations

import itertools
import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.history.services import Actor
from portal.payments.services import apply_gateway_payment
from portal.refunds.settlement import apply_gateway_refund
from tests import factories

# The target of issue 20: at most 4 statements for the lists and the detail (token, the page with its items,
# invoices and count, its payments, its refunds).
READ_BUDGET = 4
_refund_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_token_cache(app):
    """The worst case, whatever REDIS_URL the suite runs with: every request reads its token."""
    cache = app.extensions.get("api_token_cache")
    app.extensions["api_token_cache"] = None
    yield
    app.extensions["api_token_cache"] = cache


@contextmanager
def statements():
    """Collects the SQL statements the app's engine runs inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture(autouse=True)
def _messages_wait_for_the_worker(jobs_wait_for_a_worker):
    """A request writes its outbox rows (portal/notifications); their send job runs on the worker, not in the
    request: counted here is the request alone."""


def warm(api) -> None:
    """One request first: a token's first use records `last_used_at` (an UPDATE, then at most every five
    minutes); what is counted below is the steady state."""
    assert api.get("/api/v1/orders/statistics").status_code == 200


def counted(call):
    """(response, statement count) of one request, with nothing of the test's left in the session (a request
    in production starts with an empty one)."""
    db.session.expunge_all()
    with statements() as seen:
        response = call()
    assert response.status_code < 400, response.get_data(as_text=True)
    if os.environ.get("SHOW_SQL"):  # SHOW_SQL=1 pytest -s ...: what each counted request ran
        print(f"\n{len(seen)} statements:", *(" ".join(s.split())[:160] for s in seen), sep="\n  ")
    return response, len(seen)


def settled_order(customer, products, refunds: int = 1):
    """A paid order (a captured payment, its invoice issued on payment) with `refunds` processed refunds."""
    order = factories.order(customer_user=customer, products=products)
    payment = factories.payment_entity(order)
    apply_gateway_payment(payment, actor=Actor.gateway())
    for _ in range(refunds):
        refund = {"id": f"rfnd_S{next(_refund_ids):012d}", "entity": "refund", "payment_id": payment["id"]}
        refund.update(amount=1000, currency="INR", status="processed")
        apply_gateway_refund(refund, actor=Actor.gateway())
    return order


def test_my_orders_costs_the_same_few_statements_at_every_page_size(api, make):
    products = [make.product(), make.product(kind="good", stock=None)]
    for _ in range(100):
        settled_order(api.user, products)
    warm(api)

    counts = {}
    for per_page in (1, 20, 100):
        response, counts[per_page] = counted(lambda n=per_page: api.get(f"/api/v1/orders/my-orders?per_page={n}"))
        orders = response.get_json()["data"]
        assert len(orders) == per_page and response.get_json()["meta"]["total"] == 100
        assert all(o["payments"] and o["refunds"] and o["invoice"] and len(o["items"]) == 2 for o in orders)
    _, past_the_end = counted(lambda: api.get("/api/v1/orders/my-orders?per_page=20&page=9"))

    assert counts[1] == counts[20] == counts[100], counts
    assert counts[100] <= READ_BUDGET and past_the_end <= READ_BUDGET


def test_an_order_costs_the_same_few_statements_however_much_it_holds(api, make):
    small = settled_order(api.user, [make.product()])
    large = settled_order(api.user, [make.product() for _ in range(6)], refunds=3)
    failed = factories.payment_entity(large, status="failed", id="pay_Tfailedattempt1")
    apply_gateway_payment(failed, actor=Actor.gateway())
    warm(api)

    small_id, large_id = small.id, large.id  # read outside the count (the objects expired at their commit)

    small_answer, small_count = counted(lambda: api.get(f"/api/v1/orders/{small_id}"))
    large_answer, large_count = counted(lambda: api.get(f"/api/v1/orders/{large_id}"))

    data = large_answer.get_json()["data"]
    assert len(data["items"]) == 6 and len(data["payments"]) == 2 and len(data["refunds"]) == 3 and data["invoice"]
    assert small_answer.get_json()["data"]["invoice"]
    assert small_count == large_count <= READ_BUDGET


def test_statistics_and_the_catalogue_do_not_grow_with_orders_or_products(api, make):
    product = make.product()
    settled_order(api.user, [product])
    warm(api)
    _, stats_one = counted(lambda: api.get("/api/v1/orders/statistics"))
    _, catalogue_one = counted(lambda: api.get("/api/v1/orders/available-courses"))
    products, customer = [make.product() for _ in range(10)], db.session.merge(api.user)  # counted() expunged it
    for _ in range(10):
        settled_order(customer, products)
        make.order(customer_user=customer)

    _, stats_many = counted(lambda: api.get("/api/v1/orders/statistics"))
    _, catalogue_many = counted(lambda: api.get("/api/v1/orders/available-courses"))

    assert stats_one == stats_many <= 3
    assert catalogue_one == catalogue_many <= 2


# Placing an order reads the customer, writes the order (order, items, history), opens its gateway order under
# the row lock (read, lock, history, update) and answers the order as the detail does.
CREATE_BUDGET = 15  # + the order-placed message: its key check and its outbox row (portal/notifications)


def test_placing_an_order_costs_the_same_for_one_line_or_ten(api, make, sandbox):
    one = [{"product_id": make.product().id}]
    ten = [{"product_id": make.product().id, "quantity": 2} for _ in range(10)]
    warm(api)

    _, one_count = counted(lambda: api.post("/api/v1/orders", json={"items": one}))
    with statements() as sql:
        answer, ten_count = counted(lambda: api.post("/api/v1/orders", json={"items": ten}))
    if db.engine.dialect.name == "sqlite":  # its driver cannot batch INSERT ... RETURNING: one per line
        ten_count -= sum(statement.startswith("INSERT INTO order_items") for statement in sql) - 1
    _, replay_count = counted(
        lambda: api.post("/api/v1/orders", json={"items": one}, headers={"Idempotency-Key": "statements-1"})
    )

    assert answer.status_code == 201 and len(answer.get_json()["data"]["order"]["items"]) == 10
    assert answer.get_json()["data"]["payment_ready"] is True
    assert one_count == ten_count <= CREATE_BUDGET and replay_count <= CREATE_BUDGET + 1


# Budgets of the endpoints that act; each is measured on a one-line and a five-line order and must not differ.
ACTIONS = {
    "payment-link": (lambda api, order_id: api.get(f"/api/v1/orders/{order_id}/payment-link"), 8),
    "pay": (lambda api, order_id: api.post(f"/api/v1/orders/{order_id}/pay"), 6),
    "cancel": (lambda api, order_id: api.patch(f"/api/v1/orders/{order_id}/cancel"), 15),  # + its message (2)
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_acting_on_an_order_costs_the_same_whatever_it_holds(action, api, make, sandbox):
    call, budget = ACTIONS[action]
    warm(api)
    counts = []
    for lines in (1, 5):
        items = [{"product_id": make.product(kind="good", stock=10).id} for _ in range(lines)]
        order_id = api.post("/api/v1/orders", json={"items": items}).get_json()["data"]["order"]["id"]
        counts.append(counted(lambda order_id=order_id: call(api, order_id))[1])

    assert counts[0] == counts[1] <= budget, counts


def test_verifying_a_payment_costs_the_same_whatever_the_order_holds(api, make, sandbox):
    warm(api)
    counts = []
    for lines in (1, 5):
        items = [{"product_id": make.product().id} for _ in range(lines)]
        created = api.post("/api/v1/orders", json={"items": items}).get_json()["data"]
        paid = sandbox.pay(created["checkout"]["gateway_order_id"], outcome="success")
        answer, count = counted(lambda paid=paid: api.post("/api/v1/orders/verify-payment", json=paid))
        assert answer.get_json()["data"]["order"]["status"] == "paid"
        counts.append(count)

    assert counts[0] == counts[1] <= 11, counts


def test_an_invoice_download_costs_the_same_whatever_the_order_holds(api, make):
    orders = [settled_order(api.user, [make.product() for _ in range(lines)]) for lines in (1, 5)]
    ids = [order.id for order in orders]
    for order_id in ids:  # the first download renders and stores the PDF (portal/invoices); then it is read
        assert api.get(f"/api/v1/orders/{order_id}/invoice").status_code == 200

    counts = [counted(lambda order_id=order_id: api.get(f"/api/v1/orders/{order_id}/invoice"))[1] for order_id in ids]

    assert counts[0] == counts[1] <= 5, counts  # token, ownership, then portal/invoices reads 3


def test_signing_in_and_revoking_cost_a_few_statements(client, api):
    warm(api)
    credentials = {"email": api.user.email, "password": factories.PASSWORD}
    _, sign_in = counted(lambda: client.post("/api/v1/auth/token", json=credentials))
    _, revoke = counted(lambda: api.delete("/api/v1/auth/token"))

    assert sign_in <= 3 and revoke <= 3
