"""The sandbox under concurrent calls through the SDK: refunds of one payment are serialised like Razorpay's,
also across processes (two portal workers each run the in-process sandbox over one sandbox database)."""

from __future__ import annotations

import threading

import pytest
import razorpay
from razorpay.errors import BadRequestError

from portal.gateway import INPROCESS_SANDBOX_URL
from portal.gateway.transport import TimeoutSession, WSGITransport
from portal.sandbox.server import build_sandbox, create_sandbox_app, database_url
from portal.sandbox.store import Store

THREADS = 20


def _worker(app, url: str):
    """The sandbox as a worker process has it: its own Store (engine and lock) on the shared database."""
    other = build_sandbox(app.config, background=False)
    store = Store(url)
    other.store_factory = lambda: store
    other.webhooks.sync = False  # its deliveries wait in the shared table; these tests are about refunds
    return create_sandbox_app(other), store


@pytest.fixture
def other_worker(app, sandbox):
    wsgi_app, store = _worker(app, database_url(app.config))
    yield wsgi_app
    store.dispose()


def _client(wsgi_app, app) -> razorpay.Client:
    session = TimeoutSession(30)
    session.mount(INPROCESS_SANDBOX_URL, WSGITransport(lambda: wsgi_app))
    return razorpay.Client(
        session=session,
        auth=(app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"]),
        base_url=INPROCESS_SANDBOX_URL,
    )


def _race(clients, payment_id: str, amount: int) -> tuple[list[dict], list[str]]:
    """THREADS SDK clients (taking turns over `clients`' sandboxes), each with its own key, refund `amount`
    at the same moment."""
    start, refunds, refused = threading.Barrier(THREADS), [], []

    def refund(n: int) -> None:
        client = clients[n % len(clients)]
        start.wait()
        try:
            refunds.append(
                client.payment.refund(payment_id, {"amount": amount}, headers={"X-Refund-Idempotency": f"race-{n:06d}"})
            )
        except BadRequestError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=refund, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refunds, refused


@pytest.mark.parametrize("workers", [1, 2])
def test_a_twenty_way_refund_race_never_refunds_more_than_was_captured(app, rzp, sandbox, other_worker, workers):
    order = rzp.order.create({"amount": 50000, "currency": "INR"})
    payment_id = sandbox.pay(order["id"])["razorpay_payment_id"]
    sandbox.receive_webhooks()  # the portal knows nothing of this payment
    apps = [app.extensions["sandbox_app"], other_worker][:workers]

    refunds, refused = _race([_client(a, app) for a in apps], payment_id, 5000)  # 20 × ₹50 of a ₹500 payment

    assert len(refunds) == 10 and sum(r["amount"] for r in refunds) == 50000
    assert len(refused) == 10
    assert set(refused) <= {
        "The refund amount provided is greater than amount captured",
        "The payment has been fully refunded already",
    }
    payment = rzp.payment.fetch(payment_id)
    assert payment["amount_refunded"] == 50000 and payment["status"] == "refunded"
    assert rzp.payment.fetch_multiple_refund(payment_id, {})["count"] == 10


def test_the_refund_race_is_serialised_by_row_locks_on_a_postgresql_sandbox_store(app, postgres):
    """SANDBOX_DATABASE_URL on PostgreSQL: two workers' stores on one database, the payment row locked."""
    from tests.conftest import database_url as test_database_url

    (first, one), (second, two) = _worker(app, test_database_url()), _worker(app, test_database_url())
    try:
        one.reset()
        client = _client(first, app)
        order = client.order.create({"amount": 50000, "currency": "INR"})
        sandbox = first.extensions["sandbox"]
        payment = sandbox.checkout(order["id"], "success", "upi")
        refunds, refused = _race([client, _client(second, app)], payment["id"], 5000)
        assert (len(refunds), len(refused)) == (10, 10)
        assert client.payment.fetch(payment["id"])["amount_refunded"] == 50000
    finally:
        one.reset()
        one.dispose()
        two.dispose()
