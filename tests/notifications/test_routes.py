"""/admin/outbox: the list and its filters, the detail with its preview, resend (admin, CSRF, HTMX and not),
and the links from the order page and the dashboard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Audience, MessageStatus, OutboxMessage
from portal.notifications.outbox import queue_message
from tests.notifications.helpers import fresh, queue_test_message


def test_the_outbox_needs_a_signed_in_user(client):
    response = client.get("/admin/outbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_viewer_sees_every_message_with_its_status_and_error(auth, client):
    message_id = queue_test_message(to="ops@shop.test")  # no SMTP_URL: not_sent
    auth.login_as("viewer")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert f'id="outbox-row-{message_id}"' in page
    assert "ops@shop.test" in page and "Test message from" in page and "not sent" in page
    assert "SMTP_URL is not set" in page
    assert "Resend" not in page  # admin only


def test_filters_by_status_kind_recipient_and_order(auth, client, make):
    order = make.order()
    about_order = queue_message(
        "test_message", to="buyer@example.test", key="o:1", audience=Audience.STAFF, order=order
    )
    db.session.commit()
    other = queue_test_message(to="ops@shop.test")
    fresh(other).status = MessageStatus.FAILED
    db.session.commit()
    auth.login_as("viewer")

    placed = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "order_placed"))
    assert placed is not None  # the order's own confirmation (portal/notifications/rules.py)

    def rows(query: str) -> set[int]:
        html = client.get(f"/admin/outbox?{query}", headers={"HX-Request": "true"}).get_data(as_text=True)
        return {m.id for m in db.session.query(OutboxMessage) if f'id="outbox-row-{m.id}"' in html}

    assert rows("") == {placed, about_order.id, other}
    assert rows("status=failed") == {other}
    assert rows("kind=test_message") == {about_order.id, other}
    assert rows("kind=payment_received") == set()
    assert rows("recipient=buyer@example.test") == {about_order.id}
    assert rows(f"order={order.id}") == {placed, about_order.id}


@pytest.mark.parametrize(
    "query", ["status=bogus", "order=abc", "order=99999999999", "page=-3", "per_page=100000", "kind=%00", "page=x"]
)
def test_odd_filters_never_fail(auth, client, query):
    auth.login_as("viewer")
    assert client.get(f"/admin/outbox?{query}").status_code in (200, 400)  # 400: the NUL byte guard


def test_the_detail_shows_the_preview_text_body_and_what_it_is_about(auth, client, make):
    order = make.order()
    message = queue_message("test_message", to="a@example.test", key="d:1", audience=Audience.STAFF, order=order)
    db.session.commit()
    auth.login_as("viewer")
    page = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert f"/admin/outbox/{message.id}/preview" in page and "sandbox" in page
    assert "mail settings work" in page  # the text body
    assert f"/admin/orders/{order.id}" in page
    assert client.get("/admin/outbox/999999").status_code == 404


def test_the_preview_is_the_stored_html_under_a_sandboxing_policy(auth, client):
    message_id = queue_test_message()
    auth.login_as("viewer")
    response = client.get(f"/admin/outbox/{message_id}/preview")
    assert response.status_code == 200 and "GSTIN" in response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox") and "default-src 'none'" in policy and "script" not in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_only_an_admin_may_resend(auth, client, role):
    message_id = queue_test_message()
    auth.login_as(role)
    token = auth.csrf_token("/admin/outbox")
    assert client.post(f"/admin/outbox/{message_id}/resend", data={"csrf_token": token}).status_code == 403
    assert client.patch(f"/admin/outbox/{message_id}/resend", headers={"X-CSRFToken": token}).status_code == 403
    assert fresh(message_id).attempts == 1


def test_resend_needs_the_csrf_token(auth, client):
    message_id = queue_test_message()
    auth.login_as("admin")
    assert client.post(f"/admin/outbox/{message_id}/resend").status_code == 400
    assert fresh(message_id).attempts == 1


def test_resend_from_a_plain_form_makes_a_new_attempt_and_redirects_to_the_detail(auth, client, smtp_server):
    message_id = queue_test_message()
    auth.login_as("admin")
    token = auth.csrf_token("/admin/outbox")
    response = client.post(f"/admin/outbox/{message_id}/resend", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/outbox/{message_id}")
    assert fresh(message_id).attempts == 2 and len(smtp_server.messages) == 2
    assert db.session.query(OutboxMessage).count() == 1
    assert ": sent." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_resend_with_htmx_from_the_list_returns_the_row(auth, client, smtp_server):
    message_id = queue_test_message()
    fresh(message_id).status = MessageStatus.FAILED
    db.session.commit()
    auth.login_as("admin")
    token = auth.csrf_token("/admin/outbox")
    response = client.patch(
        f"/admin/outbox/{message_id}/resend?view=row", headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="outbox-row-{message_id}"')
    assert ">sent<" in html


def test_resend_with_htmx_from_the_detail_returns_the_panel(auth, client):
    message_id = queue_test_message()
    auth.login_as("admin")
    token = auth.csrf_token("/admin/outbox")
    response = client.patch(f"/admin/outbox/{message_id}/resend", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.get_data(as_text=True).lstrip().startswith('<article id="outbox-detail">')


def test_resend_of_a_message_being_sent_is_a_409(auth, client):
    from portal.notifications import services

    message_id = queue_test_message()
    fresh(message_id).status = MessageStatus.QUEUED
    db.session.commit()
    services.claim_message(message_id)
    auth.login_as("admin")
    token = auth.csrf_token("/admin/outbox")
    assert client.post(f"/admin/outbox/{message_id}/resend", data={"csrf_token": token}).status_code == 409


def test_the_order_page_lists_its_messages_linked_to_the_outbox(auth, client, make):
    order = make.order()
    message = queue_message("test_message", to="a@example.test", key="op:1", audience=Audience.STAFF, order=order)
    db.session.commit()
    auth.login_as("viewer")
    page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert 'id="order-messages"' in page and f"/admin/outbox/{message.id}" in page
    assert f"/admin/outbox?order={order.id}" in page


def test_the_dashboard_shows_failed_messages(auth, client):
    message_id = queue_test_message()
    row = fresh(message_id)
    row.status, row.last_error = MessageStatus.FAILED, "SMTP 550 no such user"
    db.session.commit()
    auth.login_as("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="attention-failed-messages"' in page
    assert f"/admin/outbox/{message_id}" in page and "/admin/outbox?status=failed" in page


def test_the_nav_links_the_outbox(auth, client):
    auth.login_as("viewer")
    assert 'href="/admin/outbox"' in client.get("/admin/outbox").get_data(as_text=True)
