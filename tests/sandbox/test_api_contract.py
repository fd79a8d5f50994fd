"""Contract: the official `razorpay` SDK, unmodified, against the sandbox — for every call the adapter makes.
Shapes, states, and errors raised as the SDK's own exception types."""

from __future__ import annotations

import re

import pytest
import requests
from razorpay.errors import BadRequestError

from tests.sandbox.conftest import sdk_client

ID = {
    "order": re.compile(r"^order_[A-Za-z0-9]{14}$"),
    "pay": re.compile(r"^pay_[A-Za-z0-9]{14}$"),
    "rfnd": re.compile(r"^rfnd_[A-Za-z0-9]{14}$"),
    "plink": re.compile(r"^plink_[A-Za-z0-9]{14}$"),
}
ORDER_KEYS = {"id", "entity", "amount", "amount_paid", "amount_due", "currency", "receipt", "offer_id", "status"}
ORDER_KEYS |= {"attempts", "notes", "created_at"}
PAYMENT_KEYS = {"id", "entity", "amount", "currency", "status", "order_id", "method", "amount_refunded"}
PAYMENT_KEYS |= {"refund_status", "captured", "email", "contact", "fee", "tax", "error_code", "error_description"}
PAYMENT_KEYS |= {"error_source", "error_step", "error_reason", "acquirer_data", "created_at", "notes"}
REFUND_KEYS = {"id", "entity", "amount", "currency", "payment_id", "notes", "receipt", "acquirer_data"}
REFUND_KEYS |= {"created_at", "batch_id", "status", "speed_processed", "speed_requested"}


def new_order(rzp, amount=50000, **extra):
    return rzp.order.create({"amount": amount, "currency": "INR", "receipt": "rcpt-1", "notes": {"k": "v"}, **extra})


def paid_payment(rzp, sandbox, amount=50000):
    order = new_order(rzp, amount)
    return rzp.payment.fetch(sandbox.pay(order["id"])["razorpay_payment_id"])


class TestOrders:
    def test_create_returns_a_razorpay_order(self, rzp):
        order = new_order(rzp)
        assert set(order) >= ORDER_KEYS
        assert ID["order"].match(order["id"])
        assert order["entity"] == "order" and order["status"] == "created"
        assert (order["amount"], order["amount_paid"], order["amount_due"], order["attempts"]) == (50000, 0, 50000, 0)
        assert order["notes"] == {"k": "v"} and order["receipt"] == "rcpt-1"

    def test_fetch_returns_the_same_order(self, rzp):
        order = new_order(rzp)
        assert rzp.order.fetch(order["id"]) == order

    def test_numeric_string_amount_is_accepted(self, rzp):
        assert rzp.order.create({"amount": "100", "currency": "INR"})["amount"] == 100

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"amount": 99, "currency": "INR"}, "The amount must be at least INR 1.00"),
            ({"amount": 10.5, "currency": "INR"}, "The amount must be an integer."),
            ({"currency": "INR"}, "The amount field is required."),
            ({"amount": 1000}, "The currency field is required."),
            (
                {"amount": 1000, "currency": "INR", "receipt": "r" * 41},
                "The receipt may not be greater than 40 characters.",
            ),
            ({"amount": 1000, "currency": "INR", "notes": {f"k{i}": "v" for i in range(16)}}, "Number of notes"),
            ({"amount": 1000, "currency": "INR", "notes": {"k": "v" * 257}}, "notes.k"),
            ({"amount": 1000, "currency": "INR", "colour": "red"}, "colour is/are not required and should not be sent"),
        ],
    )
    def test_invalid_order_is_refused_with_razorpays_message(self, rzp, sandbox, data, message):
        with pytest.raises(BadRequestError, match=re.escape(message)):
            rzp.order.create(data)
        assert sandbox.sandbox.store.latest("order") == []

    def test_unknown_order_id_is_a_bad_request(self, rzp):
        with pytest.raises(BadRequestError, match="The id provided does not exist"):
            rzp.order.fetch("order_DoesNotExist00")

    def test_order_payments_lists_every_attempt(self, rzp, sandbox):
        order = new_order(rzp)
        sandbox.pay(order["id"], outcome="failure")
        sandbox.pay(order["id"], outcome="success")
        listing = rzp.order.payments(order["id"])
        assert listing["entity"] == "collection" and listing["count"] == 2
        assert [p["status"] for p in listing["items"]] == ["captured", "failed"]
        assert rzp.order.fetch(order["id"])["attempts"] == 2


class TestPayments:
    def test_successful_checkout_captures_and_pays_the_order(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        assert set(payment) >= PAYMENT_KEYS and ID["pay"].match(payment["id"])
        assert payment["status"] == "captured" and payment["captured"] is True
        assert payment["fee"] > payment["tax"] > 0
        order = rzp.order.fetch(payment["order_id"])
        assert (order["status"], order["amount_paid"], order["amount_due"]) == ("paid", 50000, 0)

    def test_failed_checkout_has_realistic_error_fields(self, rzp, sandbox):
        order = new_order(rzp)
        answer = sandbox.pay(order["id"], outcome="failure", method="card")
        payment = rzp.payment.fetch(answer["error"]["metadata"]["payment_id"])
        assert payment["status"] == "failed" and payment["captured"] is False
        assert payment["error_code"] == "BAD_REQUEST_ERROR"
        assert payment["error_description"] == "Payment failed because the card was declined"
        assert (payment["error_source"], payment["error_step"], payment["error_reason"]) == (
            "bank",
            "payment_authorization",
            "card_declined",
        )
        assert rzp.order.fetch(order["id"])["status"] == "attempted"

    def test_manual_capture_order_stops_at_authorized_and_captures_on_request(self, rzp, sandbox):
        order = new_order(rzp, payment={"capture": "manual"})
        pay_id = sandbox.pay(order["id"])["razorpay_payment_id"]
        assert rzp.payment.fetch(pay_id)["status"] == "authorized"
        assert rzp.order.fetch(order["id"])["status"] == "attempted"
        captured = rzp.payment.capture(pay_id, 50000, {"currency": "INR"})
        assert captured["status"] == "captured" and captured["captured"] is True
        assert rzp.order.fetch(order["id"])["status"] == "paid"

    @pytest.mark.parametrize("manual", [0, False, "0", "false"])
    def test_legacy_payment_capture_zero_also_means_manual(self, rzp, sandbox, manual):
        order = new_order(rzp, payment_capture=manual)
        assert rzp.payment.fetch(sandbox.pay(order["id"])["razorpay_payment_id"])["status"] == "authorized"

    @pytest.mark.parametrize("extra", [{"payment_capture": 1}, {"payment_capture": True}, {}])
    def test_auto_capture_captures_a_successful_payment_at_once(self, rzp, sandbox, extra):
        order = new_order(rzp, **extra)
        assert rzp.payment.fetch(sandbox.pay(order["id"])["razorpay_payment_id"])["status"] == "captured"
        assert rzp.order.fetch(order["id"])["status"] == "paid"

    def test_an_invalid_payment_capture_is_refused(self, rzp):
        with pytest.raises(BadRequestError, match="payment capture field is invalid"):
            new_order(rzp, payment_capture=2)

    def test_capture_of_another_amount_is_refused(self, rzp, sandbox):
        order = new_order(rzp)
        pay_id = sandbox.pay(order["id"], outcome="authorize")["razorpay_payment_id"]
        with pytest.raises(BadRequestError, match="Capture amount must be equal to the amount authorized"):
            rzp.payment.capture(pay_id, 100, {"currency": "INR"})
        assert rzp.payment.fetch(pay_id)["status"] == "authorized"

    def test_capture_of_a_captured_payment_is_refused(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        with pytest.raises(BadRequestError, match="This payment has already been captured"):
            rzp.payment.capture(payment["id"], payment["amount"], {"currency": "INR"})

    def test_capture_of_a_failed_payment_is_refused(self, rzp, sandbox):
        order = new_order(rzp)
        pay_id = sandbox.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
        with pytest.raises(BadRequestError, match="authorized and not yet captured"):
            rzp.payment.capture(pay_id, 50000, {"currency": "INR"})

    def test_a_paid_order_takes_no_more_payments(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        answer = sandbox.pay(payment["order_id"])
        assert "already paid" in answer["error"]["description"]


class TestRefunds:
    def test_partial_then_full_refund(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        first = rzp.payment.refund(payment["id"], {"amount": 20000})
        assert set(first) >= REFUND_KEYS and ID["rfnd"].match(first["id"])
        assert (first["status"], first["amount"], first["payment_id"]) == ("processed", 20000, payment["id"])
        after = rzp.payment.fetch(payment["id"])
        assert (after["status"], after["amount_refunded"], after["refund_status"]) == ("captured", 20000, "partial")
        rest = rzp.payment.refund(payment["id"], {})
        assert rest["amount"] == 30000
        after = rzp.payment.fetch(payment["id"])
        assert (after["status"], after["amount_refunded"], after["refund_status"]) == ("refunded", 50000, "full")
        assert rzp.order.fetch(payment["order_id"])["status"] == "paid"

    def test_refunds_can_be_fetched_three_ways(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        refund = rzp.payment.refund(payment["id"], {"amount": 1000})
        assert rzp.refund.fetch(refund["id"]) == refund
        assert rzp.payment.fetch_refund_id(payment["id"], refund["id"]) == refund
        listing = rzp.payment.fetch_multiple_refund(payment["id"], {})
        assert listing["entity"] == "collection" and [r["id"] for r in listing["items"]] == [refund["id"]]

    def test_over_refund_is_refused(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        with pytest.raises(BadRequestError, match="greater than amount captured"):
            rzp.payment.refund(payment["id"], {"amount": 50001})
        assert rzp.payment.fetch(payment["id"])["amount_refunded"] == 0

    def test_refund_of_a_fully_refunded_payment_is_refused(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        rzp.payment.refund(payment["id"], {})
        with pytest.raises(BadRequestError, match="fully refunded already"):
            rzp.payment.refund(payment["id"], {"amount": 100})

    def test_refund_of_an_uncaptured_payment_is_refused(self, rzp, sandbox):
        order = new_order(rzp)
        pay_id = sandbox.pay(order["id"], outcome="authorize")["razorpay_payment_id"]
        with pytest.raises(BadRequestError, match="not been captured"):
            rzp.payment.refund(pay_id, {"amount": 100})

    def test_refund_below_the_minimum_is_refused(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        with pytest.raises(BadRequestError, match=re.escape("The amount must be at least INR 1.00")):
            rzp.payment.refund(payment["id"], {"amount": 99})

    def test_idempotency_key_replay_returns_the_first_refund(self, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        headers = {"X-Refund-Idempotency": "refund-key-0001"}
        first = rzp.payment.refund(payment["id"], {"amount": 1000}, headers=dict(headers))
        again = rzp.payment.refund(payment["id"], {"amount": 1000}, headers=dict(headers))
        assert again["id"] == first["id"]
        assert rzp.payment.fetch(payment["id"])["amount_refunded"] == 1000

    def test_idempotency_key_with_another_body_is_a_409_conflict(self, app, rzp, sandbox):
        payment = paid_payment(rzp, sandbox)
        rzp.payment.refund(payment["id"], {"amount": 1000}, headers={"X-Refund-Idempotency": "refund-key-0002"})
        with pytest.raises(BadRequestError, match="Different request with the same idempotency key"):
            rzp.payment.refund(payment["id"], {"amount": 2000}, headers={"X-Refund-Idempotency": "refund-key-0002"})
        raw = raw_post(app, f"/v1/payments/{payment['id']}/refund", {"amount": 2000}, key="refund-key-0002")
        assert raw.status_code == 409 and raw.json()["error"]["code"] == "BAD_REQUEST_ERROR"

    @pytest.mark.parametrize("key", ["short", "has spaces in it", "ünïcødé-key-123"])
    def test_malformed_idempotency_key_is_refused(self, rzp, sandbox, key):
        payment = paid_payment(rzp, sandbox)
        with pytest.raises(BadRequestError, match="idempotency key"):
            rzp.payment.refund(payment["id"], {"amount": 1000}, headers={"X-Refund-Idempotency": key})


class TestPaymentLinks:
    def create(self, rzp, **extra):
        data = {
            "amount": 25000,
            "currency": "INR",
            "reference_id": "ORD-1001",
            "description": "Course fee",
            "customer": {"email": "asha@example.com", "contact": "+919000000001"},
            "callback_url": "https://merchant.example/return",
            "callback_method": "get",
            "notes": {"order": "1001"},
        }
        return rzp.payment_link.create({**data, **extra})

    def test_create_and_fetch(self, rzp):
        link = self.create(rzp)
        assert ID["plink"].match(link["id"]) and "entity" not in link
        assert (link["status"], link["amount"], link["reference_id"]) == ("created", 25000, "ORD-1001")
        assert link["short_url"].endswith(f"/sandbox/pay/{link['id']}")
        assert rzp.payment_link.fetch(link["id"]) == link

    def test_duplicate_reference_id_is_refused(self, rzp):
        self.create(rzp)
        with pytest.raises(BadRequestError, match="reference ID already attempted"):
            self.create(rzp)

    def test_expiry_must_be_fifteen_minutes_ahead(self, rzp):
        import time

        with pytest.raises(BadRequestError, match="atleast 15 minutes in future"):
            self.create(rzp, expire_by=int(time.time()) + 60)

    def test_cancel_then_cancel_again_is_refused(self, rzp):
        link = self.create(rzp)
        cancelled = rzp.payment_link.cancel(link["id"])
        assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] > 0
        with pytest.raises(BadRequestError, match="cannot cancel"):
            rzp.payment_link.cancel(link["id"])

    def test_paying_a_link_captures_and_marks_it_paid(self, rzp, sandbox):
        link = self.create(rzp)
        answer = sandbox.pay_link(link["id"])
        assert answer["razorpay_payment_link_status"] == "paid"
        paid = rzp.payment_link.fetch(link["id"])
        assert paid["status"] == "paid" and paid["amount_paid"] == 25000 and paid["order_id"].startswith("order_")
        assert paid["payments"][0]["payment_id"] == answer["razorpay_payment_id"]
        assert rzp.payment.fetch(answer["razorpay_payment_id"])["status"] == "captured"
        with pytest.raises(BadRequestError, match="already paid"):
            rzp.payment_link.cancel(link["id"])


class TestTransport:
    def test_wrong_key_is_401_authentication_failed(self, app, sandbox):
        bad = sdk_client(app, auth=(app.config["RAZORPAY_KEY_ID"], "wrong-secret"))
        with pytest.raises(BadRequestError, match="Authentication failed"):
            bad.order.fetch("order_DoesNotExist00")
        raw = raw_get(app, "/v1/orders/order_x", auth=("nobody", "nothing"))
        assert raw.status_code == 401
        assert raw.json() == {"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}}

    def test_unknown_path_is_400_url_not_found(self, app, rzp):
        raw = raw_get(app, "/v1/no/such/thing")
        assert raw.status_code == 400
        assert raw.json()["error"]["description"] == "The requested URL was not found on the server."

    def test_get_on_a_post_only_endpoint_is_url_not_found(self, app, rzp):
        payment = paid_payment(rzp, rzp_sandbox(app))
        assert raw_get(app, f"/v1/payments/{payment['id']}/capture").status_code == 400

    def test_a_doubled_v1_path_is_url_not_found_as_at_razorpay(self, app, rzp):
        """An SDK given a base URL ending in /v1 asks for /v1/v1/…: Razorpay answers 400, so must we."""
        order = new_order(rzp)
        doubled = sdk_client(app)
        doubled.base_url += "/v1"
        with pytest.raises(BadRequestError, match="The requested URL was not found on the server"):
            doubled.order.fetch(order["id"])

    def test_api_is_served_on_the_portal_app(self, app, client, rzp):
        order = new_order(rzp)
        import base64

        token = base64.b64encode(f"{app.config['RAZORPAY_KEY_ID']}:{app.config['RAZORPAY_KEY_SECRET']}".encode())
        response = client.get(f"/v1/orders/{order['id']}", headers={"Authorization": f"Basic {token.decode()}"})
        assert response.status_code == 200 and response.json["id"] == order["id"]

    def test_state_survives_a_restart(self, app, rzp):
        from portal.sandbox.server import build_sandbox, database_url
        from portal.sandbox.store import Store

        order = new_order(rzp)
        fresh = build_sandbox(app.config, background=False)
        fresh.store_factory = lambda: Store(database_url(app.config))  # a new engine: nothing cached
        assert fresh.fetch("order", order["id"])["id"] == order["id"]
        fresh.store.dispose()


def rzp_sandbox(app):
    from portal.sandbox.testing import SandboxDriver

    return SandboxDriver(app)


def _session(app):
    from portal.gateway import INPROCESS_SANDBOX_URL
    from portal.gateway.transport import TimeoutSession, WSGITransport

    session = TimeoutSession(5)
    session.mount(INPROCESS_SANDBOX_URL, WSGITransport(lambda: app.extensions["sandbox_app"]))
    return session, INPROCESS_SANDBOX_URL


def raw_get(app, path, auth=None) -> requests.Response:
    session, base = _session(app)
    return session.get(base + path, auth=auth or (app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"]))


def raw_post(app, path, body, key=None) -> requests.Response:
    session, base = _session(app)
    headers = {"X-Refund-Idempotency": key} if key else {}
    auth = (app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"])
    return session.post(base + path, json=body, auth=auth, headers=headers)


class TestOrderList:
    def test_orders_can_be_found_by_receipt(self, rzp):
        wanted = rzp.order.create({"amount": 1000, "currency": "INR", "receipt": "ORD-find-me"})
        rzp.order.create({"amount": 2000, "currency": "INR", "receipt": "ORD-other"})
        found = rzp.order.all({"receipt": "ORD-find-me"})
        assert found["entity"] == "collection" and found["count"] == 1
        assert [o["id"] for o in found["items"]] == [wanted["id"]]

    def test_order_list_is_newest_first_and_paged(self, rzp):
        ids = [rzp.order.create({"amount": 1000 + i, "currency": "INR"})["id"] for i in range(3)]
        assert [o["id"] for o in rzp.order.all({"count": 2})["items"]] == ids[::-1][:2]
        assert [o["id"] for o in rzp.order.all({"count": 2, "skip": 2})["items"]] == ids[:1]

    def test_order_list_count_above_one_hundred_is_refused(self, rzp):
        with pytest.raises(BadRequestError, match=r"The count may not be greater than 100\."):
            rzp.order.all({"count": 101})
