"""The admin refund pages and actions through the real routes (login, CSRF, roles, HTMX partials)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.history.services import Actor
from portal.refunds.models import Refund
from portal.refunds.services import create_refund
from tests.helpers import extract_csrf

HX = {"HX-Request": "true"}


def csrf(client, path="/admin/refunds") -> str:
    return extract_csrf(client.get(path).get_data(as_text=True))


def make_refund(payment, amount=1000):
    return create_refund(payment.id, amount=amount, reason="goodwill", actor=Actor.system("test"))


def count_refunds() -> int:
    return db.session.scalar(select(func.count(Refund.id)))


def test_viewer_sees_the_list_and_detail_but_cannot_refund(auth, client, paid):
    _, payment = paid()
    made = make_refund(payment)
    auth.login_as("viewer")
    assert made.gateway_refund_id in client.get("/admin/refunds").get_data(as_text=True)
    page = client.get(f"/admin/refunds/{made.id}").get_data(as_text=True)
    assert "Payment and order" in page and "Send again" not in page
    token = csrf(client)
    assert (
        client.post(
            "/admin/refunds",
            data={"csrf_token": token, "payment_id": payment.id, "amount": "1.00", "reason": "goodwill"},
        ).status_code
        == 403
    )
    assert client.patch(f"/admin/refunds/{made.id}/process", headers={"X-CSRFToken": token}).status_code == 403
    assert count_refunds() == 1


def test_confirmation_shows_the_amount_and_what_will_remain_refundable_and_moves_no_money(auth, client, paid):
    order, payment = paid(price=100000)
    auth.login_as("finance")
    response = client.post(
        "/admin/refunds/confirm",
        data={
            "csrf_token": csrf(client),
            "payment_id": payment.id,
            "mode": "amount",
            "amount": "180.00",
            "reason": "goodwill",
            "next": f"/admin/orders/{order.id}",
        },
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="refund-create-form"' in html and "<html" not in html
    assert re.search(r'data-testid="refund-amount">₹180\.00<', html)
    assert re.search(r'data-testid="refund-remaining">₹1,000\.00<', html)
    assert 'name="form_token" value="rft_' in html
    assert count_refunds() == 0


def test_finance_creates_a_partial_refund_and_returns_to_the_order(auth, client, paid):
    order, payment = paid(price=100000)
    auth.login_as("finance")
    response = client.post(
        "/admin/refunds",
        data={
            "csrf_token": csrf(client),
            "payment_id": payment.id,
            "amount": "250.00",
            "reason": "goodwill",
            "form_token": "rft_route",
            "next": f"/admin/orders/{order.id}",
        },
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/admin/orders/{order.id}")
    [made] = db.session.scalars(select(Refund)).all()
    assert (made.amount, made.status, made.order.status) == (25000, "processed", "partially_refunded")


def test_an_empty_amount_refunds_everything_that_remains(auth, client, paid):
    _, payment = paid(price=100000)
    make_refund(payment, 18000)
    auth.login_as("finance")
    client.post(
        "/admin/refunds",
        data={"csrf_token": csrf(client), "payment_id": payment.id, "amount": "", "reason": "order_cancelled"},
    )
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Refund.amount))) == [18000, 100000]


def test_a_double_submitted_form_creates_one_refund(auth, client, paid):
    _, payment = paid(price=100000)
    auth.login_as("finance")
    data = {
        "csrf_token": csrf(client),
        "payment_id": payment.id,
        "amount": "10.00",
        "reason": "goodwill",
        "form_token": "rft_twice",
    }
    assert client.post("/admin/refunds", data=data, headers=HX).headers.get("HX-Redirect")
    assert client.post("/admin/refunds", data=data, headers=HX).headers.get("HX-Redirect")
    assert count_refunds() == 1


@pytest.mark.parametrize(
    "amount, status, message",
    [("2000.00", 422, "still refundable"), ("12.345", 422, "is not an amount"), ("-5", 422, "is not an amount")],
)
def test_bad_amounts_are_refused_with_a_readable_message(auth, client, paid, amount, status, message):
    _, payment = paid(price=100000)
    auth.login_as("finance")
    response = client.post(
        "/admin/refunds",
        data={"csrf_token": csrf(client), "payment_id": payment.id, "amount": amount, "reason": "goodwill"},
        headers=HX,
    )
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert count_refunds() == 0


def test_refund_of_an_uncaptured_payment_answers_409(auth, client, paid):
    _, payment = paid(outcome="authorize")
    auth.login_as("finance")
    response = client.post(
        "/admin/refunds",
        data={"csrf_token": csrf(client), "payment_id": payment.id, "amount": "1.00", "reason": "goodwill"},
    )
    assert response.status_code == 409 and "only captured payments" in response.get_data(as_text=True)


def test_refund_by_order_lines_through_the_form(auth, client, paid, make):
    order, payment = paid(products=[make.product(price=10000)], quantity=4)
    item = order.items[0]
    auth.login_as("finance")
    client.post(
        "/admin/refunds",
        data={
            "csrf_token": csrf(client),
            "payment_id": payment.id,
            "mode": "lines",
            f"qty-{item.id}": "1",
            "reason": "not_delivered",
        },
    )
    [made] = db.session.scalars(select(Refund)).all()
    assert made.amount == item.line_total // 4 and made.lines[0]["quantity"] == 1


def test_delete_is_for_admins_and_only_for_unsent_pending_refunds(auth, client, paid, sandbox):
    _, payment = paid(price=100000)
    sent = make_refund(payment)
    sandbox.set_faults(down=True)
    unsent = make_refund(payment)
    sandbox.clear_faults()

    auth.login_as("finance")
    assert client.delete(f"/admin/refunds/{unsent.id}", headers={"X-CSRFToken": csrf(client)}).status_code == 403

    client.post("/logout", data={"csrf_token": csrf(client)})
    admin = client
    auth.login_as("admin")
    token = csrf(admin)
    refused = admin.delete(f"/admin/refunds/{sent.id}", headers={"X-CSRFToken": token, **HX})
    assert refused.status_code == 409 and "never sent" in refused.get_data(as_text=True)
    deleted = admin.post(f"/admin/refunds/{unsent.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert db.session.scalars(select(Refund.id)).all() == [sent.id]


def test_process_sends_an_unsent_refund_and_answers_the_detail_partial(auth, client, paid, sandbox):
    _order, payment = paid(price=100000)
    sandbox.set_faults(down=True)
    unsent = make_refund(payment, 5000)
    sandbox.clear_faults()
    auth.login_as("finance")
    response = client.patch(f"/admin/refunds/{unsent.id}/process", headers={"X-CSRFToken": csrf(client), **HX})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith("{#") is False
    assert 'id="refund-detail"' in html and "processed" in html and "<html" not in html
    again = client.patch(f"/admin/refunds/{unsent.id}/process", headers={"X-CSRFToken": csrf(client), **HX})
    assert again.status_code == 409 and "already processed" in again.get_data(as_text=True)


def test_process_records_a_refund_made_outside_the_gateway(auth, client, paid, sandbox):
    _order, payment = paid(price=100000)
    sandbox.set_faults(down=True)
    unsent = make_refund(payment, None)
    auth.login_as("finance")
    response = client.post(
        f"/admin/refunds/{unsent.id}/process", data={"csrf_token": csrf(client), "offline_reference": "UTR998877"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    done = db.session.get(Refund, unsent.id)
    assert (done.status, done.offline_reference, done.order.status) == ("processed", "UTR998877", "refunded")


def test_edit_changes_reason_and_notes(auth, client, paid):
    _, payment = paid()
    made = make_refund(payment)
    auth.login_as("finance")
    response = client.patch(
        f"/admin/refunds/{made.id}",
        data={"reason": "other", "notes": "typo in amount"},
        headers={"X-CSRFToken": csrf(client), **HX},
    )
    assert response.status_code == 200 and "typo in amount" in response.get_data(as_text=True)
    refused = client.patch(
        f"/admin/refunds/{made.id}", data={"reason": "other", "notes": ""}, headers={"X-CSRFToken": csrf(client), **HX}
    )
    assert refused.status_code == 422 and "Explain the reason" in refused.get_data(as_text=True)


def test_actions_need_the_csrf_token(auth, client, paid):
    _, payment = paid()
    made = make_refund(payment)
    auth.login_as("admin")
    assert client.delete(f"/admin/refunds/{made.id}").status_code == 400
    assert client.post("/admin/refunds", data={"payment_id": payment.id, "reason": "goodwill"}).status_code == 400


def test_list_filters_and_search(auth, client, paid, sandbox):
    order_a, pay_a = paid(price=100000)
    order_b, pay_b = paid(price=50000)
    big = make_refund(pay_a, 90000)
    small = make_refund(pay_b, 1000)
    failed = make_refund(pay_b, 50)  # rejected by the gateway
    auth.login_as("viewer")

    def rows(query):
        html = client.get("/admin/refunds" + query, headers=HX).get_data(as_text=True)
        return {int(n) for n in re.findall(r'id="refund-row-(\d+)"', html)}

    assert rows("") == {big.id, small.id, failed.id}
    assert rows("?status=failed") == {failed.id}
    assert rows(f"?q={big.gateway_refund_id}") == {big.id}
    assert rows(f"?q={pay_b.gateway_payment_id}") == {small.id, failed.id}
    assert rows(f"?q={order_a.number}") == {big.id}
    assert rows(f"?q={order_b.billing_email}") == {small.id, failed.id}
    assert rows("?min=10.00&max=900.00") == {small.id, big.id}
    assert rows("?min=10.01") == {big.id}
    assert rows("?from=2000-01-01&to=2000-01-31") == set()
    bad = client.get("/admin/refunds?min=abc")
    assert bad.status_code == 200 and "Use an amount like" in bad.get_data(as_text=True)


def test_csv_export_follows_the_filter(auth, client, paid):
    _, payment = paid(price=100000)
    make_refund(payment, 12345)
    auth.login_as("viewer")
    response = client.get("/admin/refunds?format=csv&status=processed")
    lines = response.get_data(as_text=True).strip().splitlines()
    assert response.mimetype == "text/csv" and len(lines) == 2 and ",123.45,12345," in lines[1]


def test_new_refund_page_from_an_order(auth, client, paid):
    order, _ = paid(price=100000)
    auth.login_as("finance")
    page = client.get(f"/admin/refunds/new?order_id={order.id}").get_data(as_text=True)
    assert "₹1,180.00" in page and 'action="/admin/refunds/confirm"' in page
    assert client.get("/admin/refunds/new").status_code == 404


def test_order_and_payment_pages_offer_the_refund_form_to_finance_only(auth, client, paid):
    order, payment = paid(price=100000)
    auth.login_as("finance")
    for path in (f"/admin/orders/{order.id}", f"/admin/payments/{payment.id}"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="refund-create-form"' in html and f'name="next" value="{path}"' in html, path
    client.post("/logout", data={"csrf_token": csrf(client)})
    auth.login_as("viewer")
    assert 'id="refund-create-form"' not in client.get(f"/admin/orders/{order.id}").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "partial"])
def test_a_refund_the_gateway_cannot_take_answers_503_and_stays_pending_to_send_again(
    auth, client, paid, sandbox, headers
):
    _order, payment = paid(price=100000)
    auth.login_as("finance")
    sandbox.set_faults(down=True)
    form = {"payment_id": payment.id, "amount": "250.00", "reason": "goodwill", "form_token": "rft_down"}
    response = client.post("/admin/refunds", data={"csrf_token": csrf(client), **form}, headers=headers)
    sandbox.clear_faults()

    assert response.status_code == 503
    html = response.get_data(as_text=True)
    [made] = db.session.scalars(select(Refund)).all()
    assert f"Refund #{made.id}" in html and "not answering" in html and "Process" in html
    assert 'id="refund-create-form"' in html and ("<html" in html) == (not headers)
    assert (made.status, made.was_sent) == ("pending", False)
    sent = client.patch(f"/admin/refunds/{made.id}/process", headers={"X-CSRFToken": csrf(client), **HX})
    assert sent.status_code == 200
    db.session.expire_all()
    assert db.session.get(Refund, made.id).status == "processed"


def test_sending_again_while_the_gateway_is_down_answers_503_on_the_refund(auth, client, paid, sandbox):
    _order, payment = paid(price=100000)
    sandbox.set_faults(down=True)
    unsent = make_refund(payment, 5000)
    auth.login_as("finance")
    response = client.patch(f"/admin/refunds/{unsent.id}/process", headers={"X-CSRFToken": csrf(client), **HX})
    sandbox.clear_faults()

    assert response.status_code == 503
    assert 'id="refund-detail"' in response.get_data(as_text=True)
    assert "not answering" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Refund, unsent.id).status == "pending"
