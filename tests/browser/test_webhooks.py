"""Every action on the webhook log — on the detail page and on a list row — clicked with JavaScript on."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.extensions import db
from portal.webhooks import services
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


def _event(app, make, *, pending: bool = False, fails: bool = False):
    """(event row, order): a signed payment.captured for a pending order, stored unprocessed (`pending`)
    or processed and failed (`fails`: the payment carries a status the handler refuses)."""
    order = make.order()
    entity = payloads.payment(order, "captured")
    if fails:
        entity["status"] = "teleported"
    body = payloads.body_of(payloads.envelope("payment.captured", payment=entity))
    headers = {
        "X-Razorpay-Signature": payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"]),
        "X-Razorpay-Event-Id": payloads.new_event_id(),
    }
    if pending:  # stored for the queue with its job not run yet
        event_pk = services.store(services.verify(body, headers), body, headers, claimed=False)
    else:
        event_pk = services.ingest(body, headers).event_pk
    row = db.session.get(WebhookEvent, event_pk)
    assert row.status == ("pending" if pending else "failed" if fails else "processed")
    return row, order


def _fix_payload(row) -> None:
    """What ops do before a retry: the data that made it fail is corrected."""
    row.payload = row.payload.replace('"teleported"', '"captured"')
    db.session.commit()


def test_process_a_pending_event_from_its_page(page, login, sent, app, make):
    row, order = _event(app, make, pending=True)
    login(page, "finance")
    page.goto(f"/admin/webhooks/{row.id}")
    page.get_by_role("button", name="Process now").click()
    detail = page.locator("#webhook-detail")
    expect(detail.locator("h1 .badge")).to_have_text("processed")
    expect(detail).to_contain_text(f"Order #{order.id}")
    expect(page.get_by_role("button", name="Process now")).to_have_count(0)
    sent.assert_csrf_only_in_header()


def test_retry_a_failed_event_from_its_page(page, login, sent, app, make):
    row, _ = _event(app, make, fails=True)
    _fix_payload(row)
    login(page, "finance")
    page.goto(f"/admin/webhooks/{row.id}")
    expect(page.locator("#webhook-detail h1 .badge")).to_have_text("failed")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("#webhook-detail h1 .badge")).to_have_text("processed")
    expect(page.locator("#webhook-detail")).to_contain_text("Attempts2")
    sent.assert_csrf_only_in_header()


def test_delete_an_event_from_its_page_lands_on_the_log(page, login, sent, app, make):
    row, _ = _event(app, make)
    login(page, "admin")
    page.goto(f"/admin/webhooks/{row.id}")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/admin/webhooks$"))
    expect(page.locator("#webhook-table")).to_contain_text("0 events")
    (delete,) = sent.htmx()
    assert delete.method == "DELETE" and "?" not in delete.url
    sent.assert_csrf_only_in_header()


def test_row_actions_process_retry_and_delete_swap_their_row(page, login, sent, app, make):
    pending, _ = _event(app, make, pending=True)
    failed, _ = _event(app, make, fails=True)
    _fix_payload(failed)
    login(page, "admin")
    page.goto("/admin/webhooks")
    page.evaluate("window.__samePage = true")

    page.locator(f"#webhook-row-{pending.id}").get_by_role("button", name="Process").click()
    expect(page.locator(f"#webhook-row-{pending.id} .badge")).to_have_text("processed")
    page.locator(f"#webhook-row-{failed.id}").get_by_role("button", name="Retry").click()
    expect(page.locator(f"#webhook-row-{failed.id} .badge")).to_have_text("processed")
    page.locator(f"#webhook-row-{failed.id}").get_by_role("button", name="Delete").click()
    expect(page.locator(f"#webhook-row-{failed.id}")).to_have_count(0)
    expect(page.locator(f"#webhook-row-{pending.id}")).to_have_count(1)

    assert page.evaluate("window.__samePage") is True  # rows swapped, never a reload
    assert [r.method for r in sent.htmx()] == ["PATCH", "PATCH", "DELETE"]
    sent.assert_csrf_only_in_header()
    page.reload()
    expect(page.locator("#webhook-table tbody tr")).to_have_count(1)
