"""A finance user refunds part of an order from its page, in a real browser."""

import re

from playwright.sync_api import expect

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
