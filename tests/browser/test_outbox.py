"""The outbox with JavaScript on: resend from a message's page and from its list row (HTMX swaps)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.extensions import db
from portal.notifications.models import MessageStatus
from tests.browser.conftest import screenshot
from tests.notifications.conftest import _smtp_server_process, smtp_server  # noqa: F401  (fixtures)
from tests.notifications.helpers import fresh, queue_test_message


def _failed_message(to: str = "ops@shop.test") -> int:
    message_id = queue_test_message(to=to)
    row = fresh(message_id)
    row.status, row.last_error = MessageStatus.FAILED, "SMTP 550 Requested action not taken"
    db.session.commit()
    return message_id


def test_resend_a_failed_message_from_its_page(page, login, sent, smtp_server):  # noqa: F811
    message_id = _failed_message()
    delivered = len(smtp_server.messages)
    login(page, "admin")
    page.goto(f"/admin/outbox/{message_id}")
    detail = page.locator("#outbox-detail")
    expect(detail.locator("h1 .badge")).to_have_text("failed")
    expect(page.locator("iframe.mail-preview")).to_have_attribute("sandbox", "")
    page.get_by_role("button", name="Resend").click()
    expect(detail.locator("h1 .badge")).to_have_text("sent")
    expect(detail).to_contain_text("Attempts2")
    assert len(smtp_server.messages) == delivered + 1
    screenshot(page, "outbox-detail-resent")
    (resend,) = sent.htmx()
    assert resend.method == "PATCH"
    sent.assert_csrf_only_in_header()


def test_resend_from_the_list_swaps_only_its_row(page, login, sent, smtp_server):  # noqa: F811
    failed = _failed_message("first@shop.test")
    other = _failed_message("second@shop.test")
    login(page, "admin")
    page.goto("/admin/outbox?status=failed")
    row = page.locator(f"#outbox-row-{failed}")
    expect(row).to_contain_text("failed")
    row.get_by_role("button", name="Resend").click()
    expect(row.locator(".badge")).to_have_text("sent")
    expect(page.locator(f"#outbox-row-{other} .badge")).to_have_text("failed")  # the other row is untouched
    assert fresh(failed).status == MessageStatus.SENT
    sent.assert_csrf_only_in_header()


def test_the_list_filters_with_htmx(page, login, smtp_server):  # noqa: F811
    failed = _failed_message()
    sent_id = queue_test_message(to="sent@shop.test")
    login(page, "viewer")
    page.goto("/admin/outbox")
    expect(page.locator(f"#outbox-row-{sent_id}")).to_be_visible()
    page.get_by_label("Status").select_option("failed")
    expect(page.locator(f"#outbox-row-{sent_id}")).to_have_count(0)
    expect(page.locator(f"#outbox-row-{failed}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/outbox\?status=failed(&|$)"))  # hx-push-url: a URL of its own
