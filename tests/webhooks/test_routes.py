"""POST /webhooks/razorpay (signature, storage, de-duplication) and the /admin/webhooks pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import build_gateway
from portal.payments.models import Payment
from portal.webhooks.models import WebhookEvent, WebhookRejection
from tests.helpers import extract_csrf
from tests.webhooks import payloads

SDK_FIXTURE = Path("/work/shared/fixtures/razorpay-sdk/fake_payment_authorized_webhook.json")
SDK_SIGNATURE = "d60e67fd884556c045e9be7dad57903e33efc7172c17c6e3ef77db42d2b366e9"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _rejections() -> dict[str, int]:
    return {r.reason: r.count for r in db.session.scalars(select(WebhookRejection))}


@pytest.fixture
def sdk_secret(app, monkeypatch):
    """The app's webhook secret set to the SDK tests' `key_secret` (through the real gateway adapter)."""
    monkeypatch.setitem(app.config, "RAZORPAY_WEBHOOK_SECRET", "key_secret")
    monkeypatch.setitem(app.extensions, "gateway", build_gateway(app))


@pytest.mark.skipif(not SDK_FIXTURE.exists(), reason="SDK fixture not present")
def test_the_sdk_fixture_with_its_known_signature_is_accepted(deliver, sdk_secret):
    body = SDK_FIXTURE.read_bytes()
    response = deliver.raw(body, signature=SDK_SIGNATURE)
    assert response.status_code == 200
    event = db.session.scalar(select(WebhookEvent))
    assert event.event_type == "payment.authorized" and event.payload.encode() == body
    assert event.status == "ignored"  # order_100000000order is not one of ours


@pytest.mark.skipif(not SDK_FIXTURE.exists(), reason="SDK fixture not present")
def test_the_sdk_fixture_with_one_byte_changed_is_rejected(deliver, sdk_secret):
    body = bytearray(SDK_FIXTURE.read_bytes())
    body[body.index(b"1000000")] = ord("2")  # amount 1000000 → 2000000
    response = deliver.raw(bytes(body), signature=SDK_SIGNATURE)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert _count(WebhookEvent) == 0


def test_bad_signature_is_refused_counted_and_nothing_applied(deliver, make):
    order = make.order()
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order)))
    response = deliver.raw(body, signature=payloads.sign(body, "not-the-secret"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert _count(WebhookEvent) == 0 and _count(Payment) == 0
    assert _rejections() == {"bad_signature": 1}


def test_missing_signature_is_refused_and_counted(deliver, make):
    order = make.order()
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order)))
    response = deliver.raw(body, signature=None)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "missing_signature"
    assert _count(WebhookEvent) == 0 and _count(Payment) == 0
    assert _rejections() == {"missing_signature": 1}


def test_a_flood_of_forgeries_adds_no_rows(deliver):
    for n in range(30):
        deliver.raw(b'{"event": "payment.captured", "n": %d}' % n, signature="0" * 64)
    assert _count(WebhookRejection) == 1 and _rejections() == {"bad_signature": 30}
    assert _count(WebhookEvent) == 0


def test_malformed_json_with_a_valid_signature_is_refused(deliver):
    response = deliver.raw(b'{"event": "payment.captured", "payload": ')
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed"
    assert _count(WebhookEvent) == 0 and _rejections() == {"malformed": 1}


def test_json_that_is_not_an_event_is_refused(deliver):
    assert deliver.raw(b"[1, 2, 3]").status_code == 400
    assert deliver.raw(b'{"entity": "event"}').status_code == 400
    assert _count(WebhookEvent) == 0


def test_duplicate_delivery_is_answered_2xx_and_applied_once(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured")
    first = deliver("payment.captured", payment=entity, event_id="EvDup000000001")
    second = deliver("payment.captured", payment=entity, event_id="EvDup000000001")
    assert first.get_json()["status"] == "processed"
    assert second.status_code == 200 and second.get_json()["status"] == "duplicate"
    assert _count(WebhookEvent) == 1
    event = db.session.scalar(select(WebhookEvent))
    assert event.attempts == 1


def test_without_an_event_id_the_body_hash_deduplicates(deliver, make):
    order = make.order()
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order)))
    assert deliver.raw(body, event_id=None).get_json()["status"] == "processed"
    assert deliver.raw(body, event_id=None).get_json()["status"] == "duplicate"
    assert db.session.scalar(select(WebhookEvent.event_id)).startswith("sha256:")


def test_processing_failure_is_stored_as_failed_and_still_answered_2xx(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured")
    entity["status"] = "teleported"  # apply_gateway_payment refuses an unknown status
    response = deliver("payment.captured", payment=entity)
    assert response.status_code == 200 and response.get_json()["status"] == "failed"
    event = db.session.scalar(select(WebhookEvent))
    assert event.status == "failed" and "teleported" in event.last_error and event.attempts == 1
    assert _count(Payment) == 0


def test_event_without_its_entity_is_stored_failed(deliver):
    response = deliver("payment.captured")
    assert response.status_code == 200 and response.get_json()["status"] == "failed"
    assert "without a payment entity" in db.session.scalar(select(WebhookEvent.last_error))


def test_the_endpoint_needs_no_login_and_no_csrf_token(deliver, make, app):
    assert app.config["WTF_CSRF_ENABLED"] is True
    order = make.order()
    assert deliver("payment.authorized", payment=payloads.payment(order, "authorized")).status_code == 200


# --- the portal -------------------------------------------------------------------------------


def _stored(deliver, make, status_event="payment.captured", **fields):
    order = make.order()
    entity = {**payloads.payment(order, "captured"), **fields}
    deliver(status_event, payment=entity)
    return db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first(), order


def test_webhook_log_needs_a_signed_in_user(client):
    response = client.get("/admin/webhooks")
    assert response.status_code in (302, 401)


def test_log_lists_newest_first_with_filters_and_search(deliver, make, auth, client):
    first, _ = _stored(deliver, make)
    second, order = _stored(deliver, make, status_event="payment.authorized", status="authorized")
    auth.login_as("viewer")
    page = client.get("/admin/webhooks").get_data(as_text=True)
    assert page.index(f"webhook-row-{second.id}") < page.index(f"webhook-row-{first.id}")
    only = client.get("/admin/webhooks?type=payment.authorized").get_data(as_text=True)
    assert f"webhook-row-{second.id}" in only and f"webhook-row-{first.id}" not in only
    found = client.get(f"/admin/webhooks?q={order.gateway_order_id}").get_data(as_text=True)
    assert f"webhook-row-{second.id}" in found and f"webhook-row-{first.id}" not in found
    none = client.get("/admin/webhooks?status=failed").get_data(as_text=True)
    assert "No events match." in none
    dated = client.get("/admin/webhooks?from=2001-01-01&to=2001-01-02").get_data(as_text=True)
    assert "No events match." in dated


def test_log_pages_and_htmx_gets_only_the_table(deliver, make, auth, client):
    for _ in range(3):
        _stored(deliver, make)
    auth.login_as("viewer")
    page2 = client.get("/admin/webhooks?per_page=2&page=2", headers={"HX-Request": "true"})
    html = page2.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="webhook-table"') and "page 2 of 2" in html
    assert page2.headers["Vary"] == "HX-Request" or "HX-Request" in page2.headers["Vary"]
    assert html.count("webhook-row-") == 1


def test_csv_export_follows_the_filter(deliver, make, auth, client):
    event, _ = _stored(deliver, make)
    auth.login_as("viewer")
    response = client.get("/admin/webhooks?format=csv&status=processed")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("id,event_id,event_type,status")
    assert len(lines) == 2 and lines[1].startswith(f"{event.id},{event.event_id},payment.captured,processed")
    empty = client.get("/admin/webhooks?format=csv&status=failed").get_data(as_text=True).strip().splitlines()
    assert len(empty) == 1


def test_detail_shows_payload_headers_signature_and_links(deliver, make, auth, client):
    event, order = _stored(deliver, make)
    auth.login_as("viewer")
    html = client.get(f"/admin/webhooks/{event.id}").get_data(as_text=True)
    assert event.event_id in html and "X-Razorpay-Signature" in html and "verified" in html
    assert f'href="/admin/orders/{order.id}"' in html and f'href="/admin/payments/{event.payment_id}"' in html
    assert "&#34;entity&#34;: &#34;event&#34;" in html or '"entity": "event"' in html


def test_viewer_cannot_retry_or_delete(deliver, make, auth, client):
    event, _ = _stored(deliver, make, status="teleported")
    auth.login_as("viewer")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    assert client.patch(f"/admin/webhooks/{event.id}/retry", headers={"X-CSRFToken": token}).status_code == 403
    assert client.delete(f"/admin/webhooks/{event.id}", headers={"X-CSRFToken": token}).status_code == 403
    assert db.session.get(WebhookEvent, event.id) is not None


def test_actions_need_the_csrf_token(deliver, make, auth, client):
    event, _ = _stored(deliver, make, status="teleported")
    auth.login_as("finance")
    assert client.patch(f"/admin/webhooks/{event.id}/retry").status_code == 400


def test_retry_of_a_failed_event_as_htmx_returns_the_updated_row(deliver, make, auth, client):
    event, order = _stored(deliver, make, status="teleported")
    assert event.status == "failed"
    payload = event.payload.replace('"teleported"', '"captured"')
    event.payload = payload  # ops fixed what made it fail (here: the data), the retry applies it
    db.session.commit()
    auth.login_as("finance")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    response = client.patch(
        f"/admin/webhooks/{event.id}/retry?view=row", headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="webhook-row-{event.id}"')
    assert "processed" in html
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).attempts == 2
    assert db.session.get(type(order), order.id).status == "paid"


def test_retry_of_a_processed_event_is_a_409(deliver, make, auth, client):
    event, _ = _stored(deliver, make)
    auth.login_as("finance")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    response = client.post(f"/admin/webhooks/{event.id}/retry", data={"csrf_token": token})
    assert response.status_code == 409 and "Cannot retry" in response.get_data(as_text=True)


def test_process_a_pending_event_from_a_plain_form_redirects_to_the_detail(deliver, make, auth, client):
    event, _ = _stored(deliver, make)
    event.status, event.attempts = "pending", 0  # as if the process died between store and dispatch
    db.session.commit()
    auth.login_as("finance")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    response = client.post(f"/admin/webhooks/{event.id}/process", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/webhooks/{event.id}")
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).status == "processed"


def test_process_from_the_detail_panel_returns_the_panel(deliver, make, auth, client):
    event, _ = _stored(deliver, make)
    event.status = "pending"
    db.session.commit()
    auth.login_as("finance")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    response = client.patch(f"/admin/webhooks/{event.id}/process", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.get_data(as_text=True).lstrip().startswith('<article id="webhook-detail"')


def test_admin_deletes_an_event_with_htmx_from_the_row(deliver, make, auth, client):
    event, _ = _stored(deliver, make)
    auth.login_as("admin")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    response = client.delete(
        f"/admin/webhooks/{event.id}?view=row", headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert db.session.get(WebhookEvent, event.id) is None


def test_admin_deletes_from_the_detail_page_with_a_plain_form(deliver, make, auth, client):
    event, _ = _stored(deliver, make)
    auth.login_as("admin")
    token = extract_csrf(client.get(f"/admin/webhooks/{event.id}").get_data(as_text=True))
    response = client.post(f"/admin/webhooks/{event.id}", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/webhooks")
    assert db.session.get(WebhookEvent, event.id) is None


def test_rejections_are_visible_on_the_log(deliver, auth, client):
    deliver.raw(b"{}", signature="f" * 64)
    auth.login_as("viewer")
    html = client.get("/admin/webhooks").get_data(as_text=True)
    assert "signature did not match" in html


def test_the_delivery_url_answers_only_post_in_json_with_safe_headers(client, deliver, make):
    from tests.webhooks import payloads

    refused = client.get("/webhooks/razorpay")
    stored = deliver("payment.captured", payment=payloads.payment(make.order()))

    assert refused.status_code == 405 and refused.headers["Allow"] == "POST"
    assert refused.get_json()["error"]["code"] == "method_not_allowed"
    for response in (refused, stored):
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
