"""A finance user refunds part of an order from its page, in a real browser."""

import re

from playwright.sync_api import expect

from portal.history.services import Actor
from portal.refunds.services import create_refund
from tests.browser.conftest import screenshot
from tests.refunds.conftest import pay_through_sandbox


def test_partial_refund_from_the_order_page_updates_its_totals_and_timeline(page, login, sandbox):
    order, _ = pay_through_sandbox(sandbox, price=100000)  # ₹1,180.00 captured
    login(page, "finance")
    page.goto(f"/admin/orders/{order.id}")
    expect(page.locator("#order-status")).to_have_text("paid")

    form = page.locator("#refund-create-form")
    form.get_by_label("Amount (₹)").fill("250.00")
    form.get_by_label("Reason").select_option("goodwill")
    form.get_by_label("Notes").fill("Course started late")
    form.get_by_role("button", name="Review refund").click()

    # The confirmation (an HTMX swap of the same component): nothing has moved yet.
    expect(page.get_by_test_id("refund-amount")).to_have_text("₹250.00")
    expect(page.get_by_test_id("refund-remaining")).to_have_text("₹930.00")
    screenshot(page, "refund-confirmation")
    page.get_by_role("button", name="Refund ₹250.00").click()

    # Back on the order page, reloaded: status, refunds table, payment's refunded total and the timeline.
    page.wait_for_url(re.compile(rf"/admin/orders/{order.id}$"))
    expect(page.locator("#order-status")).to_have_text("partially refunded")
    expect(page.locator("#flashes")).to_contain_text("processed")
    refunds = page.locator("section[aria-labelledby=refunds-h]")
    expect(refunds).to_contain_text("₹250.00")
    expect(refunds).to_contain_text("processed")
    expect(page.locator("section[aria-labelledby=payments-h]")).to_contain_text("₹250.00")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("paid → partially_refunded")
    expect(timeline).to_contain_text("pending → processed")
    # The form now offers only what remains.
    expect(page.locator("#refund-create-form")).to_contain_text("₹930.00 still refundable")
    screenshot(page, "refund-order-after")


def _unsent_refund(sandbox, amount: int = 10000):
    """A pending refund the gateway never received (it was down when the refund was made)."""
    _, payment = pay_through_sandbox(sandbox, price=100000)
    sandbox.set_faults(down=True)
    refund = create_refund(payment.id, amount=amount, reason="goodwill", actor=Actor.system("test"))
    sandbox.clear_faults()
    assert refund.status == "pending" and not refund.was_sent
    return refund


def test_create_a_refund_from_the_payment_page_with_a_change_of_mind(page, login, sent, sandbox):
    _, payment = pay_through_sandbox(sandbox, price=100000)
    login(page, "finance")
    page.goto(f"/admin/payments/{payment.id}")
    form = page.locator("#refund-create-form")
    form.get_by_label("Amount (₹)").fill("100.00")
    form.get_by_label("Reason").select_option("duplicate_payment")
    form.get_by_role("button", name="Review refund").click()
    expect(page.get_by_test_id("refund-amount")).to_have_text("₹100.00")
    page.get_by_role("button", name="Change").click()  # back to the form (hx-get), then review again
    page.locator("#refund-create-form").get_by_label("Amount (₹)").fill("120.00")
    page.locator("#refund-create-form").get_by_label("Reason").select_option("duplicate_payment")
    page.locator("#refund-create-form").get_by_role("button", name="Review refund").click()
    page.get_by_role("button", name="Refund ₹120.00").click()
    page.wait_for_url(re.compile(rf"/admin/payments/{payment.id}$"))  # back where it was opened
    expect(page.locator("#flashes")).to_contain_text("₹120.00 processed")
    expect(page.locator("#payment-status")).to_have_text("partially refunded")
    expect(page.locator("section[aria-labelledby=p-refunds-h] tbody").first).to_contain_text("₹120.00")
    sent.assert_csrf_only_in_header()


def test_send_now_sends_an_unsent_refund_and_shows_it_processed(page, login, sent, sandbox):
    refund = _unsent_refund(sandbox)
    login(page, "finance")
    page.goto(f"/admin/refunds/{refund.id}")
    expect(page.locator("#refund-status")).to_have_text("pending")
    page.get_by_role("button", name="Send now").click()
    expect(page.locator("#refund-status")).to_have_text("processed")
    expect(page.locator("#refund-detail").get_by_role("status")).to_contain_text("processed")
    expect(page.get_by_role("button", name="Send now")).to_have_count(0)
    sent.assert_csrf_only_in_header()


def test_record_a_refund_made_outside_the_gateway(page, login, sent, sandbox):
    refund = _unsent_refund(sandbox)
    login(page, "finance")
    page.goto(f"/admin/refunds/{refund.id}")
    page.get_by_text("Record a refund made outside the gateway").click()
    page.locator(f"#offline-reference-{refund.id}").fill("UTR 4455667788")
    page.get_by_role("button", name="Record as processed").click()
    expect(page.locator("#refund-status")).to_have_text("processed")
    expect(page.locator("#refund-detail")).to_contain_text("UTR 4455667788")
    sent.assert_csrf_only_in_header()


def test_edit_reason_and_notes_saves_them_in_place(page, login, sent, sandbox):
    refund = _unsent_refund(sandbox)
    login(page, "finance")
    page.goto(f"/admin/refunds/{refund.id}")
    page.evaluate("window.__samePage = true")
    page.get_by_text("Edit reason and notes").click()
    page.locator(f"#edit-reason-{refund.id}").select_option("quality_issue")
    page.locator(f"#edit-notes-{refund.id}").fill("video lessons would not play")
    page.get_by_role("button", name="Save").click()
    detail = page.locator("#refund-detail")
    expect(detail.get_by_role("status")).to_have_text("Reason and notes saved.")
    expect(detail.locator(".facts").first).to_contain_text("video lessons would not play")
    expect(page.locator(".timeline")).to_contain_text("reason/notes edited")
    assert page.evaluate("window.__samePage") is True
    (edit,) = sent.htmx()
    assert edit.method == "PATCH"
    sent.assert_csrf_only_in_header()


def test_admin_deletes_an_unsent_refund(page, login, sent, sandbox):
    refund = _unsent_refund(sandbox)
    login(page, "admin")
    page.goto(f"/admin/refunds/{refund.id}")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/admin/refunds\?q="))
    expect(page.locator("#flashes")).to_contain_text(f"Refund #{refund.id} deleted.")
    expect(page.locator("#refund-results")).not_to_contain_text("₹100.00")
    (delete,) = sent.htmx()
    assert delete.method == "DELETE" and "?" not in delete.url
    sent.assert_csrf_only_in_header()
