"""The browser pages: hosted checkout, payment-link page, the sandbox dashboard, and the CLI."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import razorpay

from portal.gateway import get_gateway
from tests.helpers import extract_csrf


def new_order(amount=123450):
    return get_gateway().create_order(amount=amount, currency="INR", receipt="rcpt-9", notes={})


def query(response) -> dict:
    location = urlsplit(response.headers["Location"])
    return {"path": location.path, **{k: v[0] for k, v in parse_qs(location.query).items()}}


def test_checkout_page_shows_amount_merchant_methods_and_outcomes(app, client, sandbox):
    order = new_order()
    page = client.get(f"/sandbox/checkout/{order['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "₹1,234.50" in html and app.config["SELLER_NAME"] in html
    for method in ("card", "upi", "netbanking", "wallet"):
        assert f'value="{method}"' in html
    for outcome in ("success", "authorize", "failure"):
        assert f'name="outcome" value="{outcome}"' in html
    assert "<script" not in html and "style=" not in html  # strict CSP: static files only


def test_unknown_checkout_is_404(client, sandbox):
    assert client.get("/sandbox/checkout/order_DoesNotExist00").status_code == 404


def test_checkout_redirects_to_the_callback_with_a_signature_the_sdk_accepts(app, client, sandbox):
    order = new_order()
    response = client.post(f"/sandbox/checkout/{order['id']}", data={"outcome": "success", "method": "card"})
    assert response.status_code == 302
    params = query(response)
    assert params["path"] == "/payments/razorpay/callback"
    assert response.headers["Location"].startswith(app.config["PUBLIC_BASE_URL"])
    sdk = razorpay.Client(auth=(app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"]))
    signed = {k: params[k] for k in ("razorpay_order_id", "razorpay_payment_id", "razorpay_signature")}
    assert sdk.utility.verify_payment_signature(signed) is True
    tampered = {**signed, "razorpay_payment_id": "pay_Tampered0000000"}
    with pytest.raises(razorpay.errors.SignatureVerificationError):
        sdk.utility.verify_payment_signature(tampered)


def test_failed_checkout_redirects_with_razorpays_error_fields(client, sandbox):
    order = new_order()
    response = client.post(f"/sandbox/checkout/{order['id']}", data={"outcome": "failure", "method": "card"})
    params = query(response)
    assert params["error[code]"] == "BAD_REQUEST_ERROR" and params["error[reason]"] == "card_declined"
    assert json.loads(params["error[metadata]"])["order_id"] == order["id"]


def test_checkout_json_answer_for_scripts(client, sandbox):
    order = new_order()
    response = client.post(
        f"/sandbox/checkout/{order['id']}",
        data={"outcome": "success", "method": "upi"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert set(response.json) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}


def test_bad_outcome_is_refused_and_changes_nothing(client, sandbox):
    order = new_order()
    response = client.post(
        f"/sandbox/checkout/{order['id']}", data={"outcome": "maybe"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400 and response.json["error"]["field"] == "outcome"
    assert sandbox.order(order["id"])["attempts"] == 0


def test_payment_link_page_returns_with_the_link_signature(app, client, sandbox):
    link = get_gateway().create_payment_link(
        amount=20000, currency="INR", reference_id="REF-9", description="Course fee", customer={},
        callback_url="https://merchant.example/back", expire_by=None, notes={},
    )  # fmt: skip
    page = client.get(f"/sandbox/pay/{link['id']}")
    assert page.status_code == 200 and "Course fee" in page.get_data(as_text=True)
    response = client.post(f"/sandbox/pay/{link['id']}", data={"outcome": "success", "method": "upi"})
    params = query(response)
    assert response.headers["Location"].startswith("https://merchant.example/back?")
    sdk = razorpay.Client(auth=(app.config["RAZORPAY_KEY_ID"], app.config["RAZORPAY_KEY_SECRET"]))
    assert sdk.utility.verify_payment_link_signature(
        {
            "payment_link_id": params["razorpay_payment_link_id"],
            "payment_link_reference_id": params["razorpay_payment_link_reference_id"],
            "payment_link_status": params["razorpay_payment_link_status"],
            "razorpay_payment_id": params["razorpay_payment_id"],
            "razorpay_signature": params["razorpay_signature"],
        }
    )
    assert "This payment link is paid." in client.get(f"/sandbox/pay/{link['id']}").get_data(as_text=True)


def test_dashboard_shows_entities_deliveries_and_knobs(client, sandbox):
    order = new_order()
    sandbox.pay(order["id"])
    sandbox.set_faults(duplicate_webhooks=True)
    html = client.get("/sandbox/").get_data(as_text=True)
    assert order["id"] in html and "order.paid" in html
    assert 'id="sandbox-faults"' in html and "duplicate_webhooks" in html


def test_cli_faults_shows_and_sets_knobs(runner, sandbox):
    result = runner.invoke(args=["sandbox", "faults", "--set", "down=true", "--set", "latency_ms=50"])
    assert result.exit_code == 0, result.output
    assert sandbox.faults()["down"] is True and sandbox.faults()["latency_ms"] == 50
    assert "faults changed: down=True, latency_ms=50" in result.output
    assert runner.invoke(args=["sandbox", "faults", "--clear"]).exit_code == 0
    assert sandbox.faults()["down"] is False


def test_cli_faults_refuses_bad_input(runner, sandbox):
    assert runner.invoke(args=["sandbox", "faults", "--set", "nope=1"]).exit_code != 0
    assert runner.invoke(args=["sandbox", "faults", "--set", "down=perhaps"]).exit_code != 0
    assert sandbox.faults()["down"] is False


def test_cli_reset_forgets_everything(runner, sandbox):
    new_order()
    result = runner.invoke(args=["sandbox", "reset"])
    assert result.exit_code == 0 and sandbox.sandbox.store.latest("order") == []


def test_demo_store_buys_a_course_through_the_customer_api_and_hosted_checkout(app, client, sandbox, make):
    from portal.auth.models import Role
    from portal.auth.services import upsert_user
    from portal.demo.seed import DEMO_CUSTOMER, DEMO_PASSWORD

    upsert_user(DEMO_CUSTOMER, DEMO_PASSWORD, Role.CUSTOMER)
    course = make.product(title="Sandbox Algebra", price=49900)
    page = client.get("/sandbox/store/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Sandbox Algebra" in html
    token = extract_csrf(html)
    bought = client.post("/sandbox/store/buy", data={"csrf_token": token, "product_id": course.id})
    assert bought.status_code == 302 and "/sandbox/checkout/order_" in bought.headers["Location"]
    gateway_order_id = urlsplit(bought.headers["Location"]).path.rsplit("/", 1)[1]
    sandbox.pay(gateway_order_id)
    assert sandbox.order(gateway_order_id)["status"] == "paid"
    assert "<td>paid</td>" in client.get("/sandbox/store/").get_data(as_text=True)


def test_demo_store_buy_needs_the_csrf_token(client, sandbox):
    assert client.post("/sandbox/store/buy", data={"product_id": 1}).status_code == 400


def test_demo_store_explains_a_missing_demo_customer(client, sandbox):
    assert "flask demo seed" in client.get("/sandbox/store/").get_data(as_text=True)


def test_the_checkout_carries_the_customer_the_portal_prefilled_into_the_payment(app, client, sandbox, make):
    """The API's checkout_url carries Razorpay's prefill[email]/prefill[contact]; the page prefills its form; the
    payment (at the sandbox and in our books) has the order's customer, not the docs' sample customer."""
    from sqlalchemy import select

    from portal.auth.services import issue_token
    from portal.extensions import db
    from portal.payments.models import Payment

    customer = make.customer(email="meera.iyer@example.in", phone="+919812345678")
    token, _ = issue_token(customer)
    placed = client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": make.product().id}]},
        headers={"Authorization": f"Bearer {token}"},
    ).json["data"]["checkout"]
    url = urlsplit(placed["checkout_url"])
    prefilled = parse_qs(url.query)
    assert prefilled["prefill[email]"] == ["meera.iyer@example.in"]
    assert prefilled["prefill[contact]"] == ["+919812345678"]

    page = client.get(f"{url.path}?{url.query}").get_data(as_text=True)
    assert 'name="email" value="meera.iyer@example.in"' in page and 'name="contact" value="+919812345678"' in page

    paid = sandbox.pay(placed["gateway_order_id"], email="meera.iyer@example.in", contact="+919812345678")
    at_gateway = sandbox.payment(paid["razorpay_payment_id"])
    assert (at_gateway["email"], at_gateway["contact"]) == ("meera.iyer@example.in", "+919812345678")
    ours = db.session.scalars(select(Payment)).one()
    assert (ours.email, ours.contact) == ("meera.iyer@example.in", "+919812345678")


def test_a_malformed_email_at_checkout_is_refused(client, sandbox):
    order = new_order()
    response = client.post(
        f"/sandbox/checkout/{order['id']}",
        data={"outcome": "success", "method": "upi", "email": "not-an-email"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400 and response.json["error"]["field"] == "email"
