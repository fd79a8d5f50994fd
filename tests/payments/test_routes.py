"""Admin payments pages: list, filters, CSV, detail, capture/status/delete/sync × role, CSRF, statements."""

from __future__ import annotations

import csv
import io
import time

import pytest

from portal.extensions import db
from portal.gateway import build_gateway
from portal.history.services import Actor
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.payments.status import PaymentStatus
from tests.admin.helpers import HX, count_queries, csrf

ROLES = ("viewer", "finance", "admin")


def _payment(make, status: str = "captured", **fields) -> Payment:
    order = make.order()
    return apply_gateway_payment(make.payment_entity(order, status=status, **fields), actor=Actor.gateway()).payment


def _reload(payment_id: int) -> Payment | None:
    db.session.expire_all()
    return db.session.get(Payment, payment_id)


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_sees_the_payments_list(auth, client, make, role):
    auth.login_as(role)
    payment = _payment(make)
    html = client.get("/admin/payments").get_data(as_text=True)
    assert payment.gateway_payment_id in html and payment.order.number in html


def test_htmx_gets_the_results_fragment(auth, client, make):
    auth.login_as("viewer")
    _payment(make)
    response = client.get("/admin/payments?status=captured", headers=HX)
    assert response.get_data(as_text=True).lstrip().startswith('<section id="payment-results"')
    assert "HX-Request" in response.headers["Vary"]


def test_filters_by_status_method_and_amount(auth, client, make):
    auth.login_as("viewer")
    card = _payment(make, "captured", method="card")
    upi = _payment(make, "failed", method="upi", error_code="BAD_REQUEST_ERROR")
    for params, shown, hidden in [
        ({"status": "captured"}, card, upi),
        ({"status": "failed"}, upi, card),
        ({"method": "upi"}, upi, card),
        ({"min": "1.00"}, card, None),
        ({"max": "1.00"}, None, card),
    ]:
        html = client.get("/admin/payments", query_string=params).get_data(as_text=True)
        if shown:
            assert shown.gateway_payment_id in html, params
        if hidden:
            assert hidden.gateway_payment_id not in html, params


@pytest.mark.parametrize("kind", ["pay", "order_number", "gateway_order", "email"])
def test_search_by_payment_id_order_and_email(auth, client, make, kind):
    auth.login_as("viewer")
    wanted = _payment(make, email="meera@example.test")
    other = _payment(make, email="someone@example.test")
    query = {
        "pay": wanted.gateway_payment_id,
        "order_number": wanted.order.number,
        "gateway_order": wanted.order.gateway_order_id,
        "email": "MEERA@example.test",
    }[kind]
    html = client.get("/admin/payments", query_string={"q": query}).get_data(as_text=True)
    assert wanted.gateway_payment_id in html
    assert other.gateway_payment_id not in html


def test_csv_export_of_the_filter(auth, client, make):
    auth.login_as("viewer")
    captured = _payment(make)
    failed = _payment(make, "failed")
    response = client.get("/admin/payments?format=csv&status=captured")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert [r["payment_id"] for r in rows] == [captured.gateway_payment_id]
    assert rows[0]["amount_minor"] == str(captured.amount)
    assert failed.gateway_payment_id not in response.get_data(as_text=True)


def test_detail_shows_gateway_data_error_and_order(auth, client, make):
    auth.login_as("viewer")
    payment = _payment(make, "failed", error_code="BAD_REQUEST_ERROR", error_description="Card declined by bank")
    html = client.get(f"/admin/payments/{payment.id}").get_data(as_text=True)
    assert "BAD_REQUEST_ERROR" in html and "Card declined by bank" in html
    assert payment.order.number in html
    assert "Gateway data" in html and "&#34;status&#34;: &#34;failed&#34;" in html


# ---------------------------------------------------------------- capture (finance)


def test_viewer_cannot_capture(auth, client, make):
    auth.login_as("viewer")
    payment = _payment(make, "authorized")
    token = csrf(client)
    response = client.post(f"/admin/payments/{payment.id}/capture", data={"confirm": "y", "csrf_token": token})
    assert response.status_code == 403
    assert _reload(payment.id).status == PaymentStatus.AUTHORIZED


def test_capture_needs_confirmation(auth, client, make):
    auth.login_as("finance")
    payment = _payment(make, "authorized")
    token = csrf(client)
    response = client.post(f"/admin/payments/{payment.id}/capture", data={"csrf_token": token})
    assert response.status_code == 422
    assert _reload(payment.id).status == PaymentStatus.AUTHORIZED


def test_capturing_a_captured_payment_is_a_409(auth, client, make):
    auth.login_as("finance")
    payment = _payment(make, "captured")
    token = csrf(client)
    response = client.post(f"/admin/payments/{payment.id}/capture", data={"confirm": "y", "csrf_token": token})
    assert response.status_code == 409
    assert "Only authorized payments can be captured" in response.get_data(as_text=True)


def test_finance_sees_the_capture_button_only_on_authorized_payments(auth, client, make):
    auth.login_as("finance")
    authorized = _payment(make, "authorized")
    captured = _payment(make, "captured")
    assert "Capture payment" in client.get(f"/admin/payments/{authorized.id}").get_data(as_text=True)
    assert "Capture payment" not in client.get(f"/admin/payments/{captured.id}").get_data(as_text=True)


# ---------------------------------------------------------------- status correction (admin)


def test_admin_corrects_a_status_with_a_reason(auth, client, make):
    auth.login_as("admin")
    payment = _payment(make, "authorized")
    token = csrf(client)
    response = client.post(
        f"/admin/payments/{payment.id}/status",
        data={"status": "failed", "reason": "bank reversed the authorisation"},
        headers={**HX, "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert "bank reversed the authorisation" in response.get_data(as_text=True)
    assert _reload(payment.id).status == PaymentStatus.FAILED


def test_status_correction_refuses_illegal_targets_and_missing_reasons(auth, client, make):
    auth.login_as("admin")
    payment = _payment(make, "captured")
    token = csrf(client)
    illegal = client.post(
        f"/admin/payments/{payment.id}/status", data={"status": "created", "reason": "x", "csrf_token": token}
    )
    no_reason = client.post(f"/admin/payments/{payment.id}/status", data={"status": "refunded", "csrf_token": token})
    assert illegal.status_code == no_reason.status_code == 422
    assert _reload(payment.id).status == PaymentStatus.CAPTURED


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_status_correction_is_admin_only(auth, client, make, role):
    auth.login_as(role)
    payment = _payment(make, "authorized")
    token = csrf(client)
    response = client.post(
        f"/admin/payments/{payment.id}/status", data={"status": "failed", "reason": "x", "csrf_token": token}
    )
    assert response.status_code == 403
    assert _reload(payment.id).status == PaymentStatus.AUTHORIZED


# ---------------------------------------------------------------- delete (admin, failed only)


def test_admin_deletes_a_failed_payment(auth, client, make):
    auth.login_as("admin")
    payment = _payment(make, "failed")
    token = csrf(client)
    response = client.delete(
        f"/admin/payments/{payment.id}", data={"confirm": "y"}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/admin/payments"
    assert _reload(payment.id) is None


def test_a_captured_payment_cannot_be_deleted(auth, client, make):
    auth.login_as("admin")
    payment = _payment(make, "captured")
    token = csrf(client)
    response = client.post(f"/admin/payments/{payment.id}/delete", data={"confirm": "y", "csrf_token": token})
    assert response.status_code == 409
    assert _reload(payment.id) is not None


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_delete_is_admin_only(auth, client, make, role):
    auth.login_as(role)
    payment = _payment(make, "failed")
    token = csrf(client)
    response = client.post(f"/admin/payments/{payment.id}/delete", data={"confirm": "y", "csrf_token": token})
    assert response.status_code == 403
    assert _reload(payment.id) is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/admin/payments/{id}/capture"),
        ("post", "/admin/payments/{id}/status"),
        ("delete", "/admin/payments/{id}"),
        ("post", "/admin/payments/{id}/delete"),
        ("post", "/admin/payments/{id}/sync"),
    ],
)
def test_every_payment_action_needs_the_csrf_token(auth, client, make, method, path):
    auth.login_as("admin")
    payment = _payment(make, "failed")
    response = getattr(client, method)(path.format(id=payment.id), data={"confirm": "y", "status": "authorized"})
    assert response.status_code == 400
    assert _reload(payment.id).status == PaymentStatus.FAILED


# ---------------------------------------------------------------- sync (finance)


def test_viewer_cannot_sync(auth, client, make):
    auth.login_as("viewer")
    payment = _payment(make)
    token = csrf(client)
    assert client.post(f"/admin/payments/{payment.id}/sync", data={"csrf_token": token}).status_code == 403


# ---------------------------------------------------------------- statements per page


def _statements(client, path: str) -> int:
    client.get(path)
    with count_queries() as statements:
        assert client.get(path).status_code == 200
    return len(statements)


def test_the_list_issues_the_same_few_statements_for_2_or_30_payments(auth, client, make):
    auth.login_as("viewer")
    for _ in range(2):
        _payment(make)
    few = _statements(client, "/admin/payments")
    for _ in range(28):
        _payment(make, "failed")
    many = _statements(client, "/admin/payments")
    assert few == many
    assert many <= 3  # user, list page (orders and customers joined), tab counts


def test_the_detail_page_issues_a_bounded_number_of_statements(auth, client, make):
    auth.login_as("viewer")
    payment = _payment(make)
    assert _statements(client, f"/admin/payments/{payment.id}") <= 6


# ---------------------------------------------------------------- against the sandbox gateway


def _order_at_gateway(make, capture_mode="auto"):
    from portal.gateway import get_gateway

    order = make.order(capture_mode=capture_mode)
    created = get_gateway().create_order(
        amount=order.total,
        currency=order.currency,
        receipt=order.number,
        notes={"order_id": str(order.id)},
        payment_capture=capture_mode == "auto",
    )
    order.gateway_order_id = created["id"]
    db.session.commit()
    return order


def _authorized_at_gateway(make, gateway_sandbox) -> Payment:
    from sqlalchemy import select

    order = _order_at_gateway(make, capture_mode="manual")  # an auto order's would be captured on arrival
    gateway_sandbox.pay(order.gateway_order_id, outcome="authorize")  # the webhook records it as authorized
    db.session.expire_all()
    return db.session.scalars(select(Payment).where(Payment.order_id == order.id)).one()


def test_finance_captures_an_authorized_payment_at_the_gateway(auth, client, make, sandbox):
    auth.login_as("finance")
    payment = _authorized_at_gateway(make, sandbox)
    assert payment.status == PaymentStatus.AUTHORIZED
    token = csrf(client)
    response = client.post(
        f"/admin/payments/{payment.id}/capture", data={"confirm": "y"}, headers={**HX, "X-CSRFToken": token}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "captured" in response.get_data(as_text=True)
    assert _reload(payment.id).status == PaymentStatus.CAPTURED
    assert sandbox.payment(payment.gateway_payment_id)["status"] == "captured"


def test_finance_syncs_an_order_whose_webhooks_were_lost(auth, client, make, sandbox):
    auth.login_as("finance")
    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    paid = sandbox.pay(order.gateway_order_id)
    token = csrf(client)
    page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Sync from gateway" in page
    response = client.post(f"/admin/orders/{order.id}/sync", headers={**HX, "X-CSRFToken": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"repaired: gateway reports payment {paid['razorpay_payment_id']} captured" in html
    assert paid["razorpay_payment_id"] in html  # the payment now shows in the panel


def _wait_for_status(sandbox, gateway_payment_id: str, status: str, seconds: float = 10) -> str:
    """The sandbox's status of a payment once it is `status` (a timed-out call finishes there on its own)."""
    deadline = time.monotonic() + seconds
    while sandbox.payment(gateway_payment_id)["status"] != status and time.monotonic() < deadline:
        time.sleep(0.05)
    return sandbox.payment(gateway_payment_id)["status"]


def test_a_capture_that_timed_out_says_its_outcome_is_unknown_not_that_nothing_changed(app, auth, client, sandbox):
    from tests.refunds.conftest import pay_through_sandbox

    auth.login_as("finance")
    _, payment = pay_through_sandbox(sandbox, outcome="authorize")
    original = app.extensions["gateway"]
    app.extensions["gateway"] = build_gateway(app, timeout=0.2, retries=0, backoff=0)
    sandbox.set_faults(latency_ms=600)
    try:
        token = csrf(client)
        response = client.post(f"/admin/payments/{payment.id}/capture", data={"confirm": "y", "csrf_token": token})
    finally:
        app.extensions["gateway"] = original
        sandbox.clear_faults()

    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "outcome of the capture is unknown" in page and "nothing was changed" not in page
    assert "Sync from gateway" in page
    assert _wait_for_status(sandbox, payment.gateway_payment_id, "captured") == "captured"  # it had gone through
    sandbox.deliver()
    assert _reload(payment.id).status == PaymentStatus.CAPTURED  # settled by the gateway's own word (its webhook)
