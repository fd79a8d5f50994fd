"""Every action on a payment's page, clicked in a real Chromium with JavaScript on (HTMX sends the real verb)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.history.services import Actor
from portal.payments.services import apply_gateway_payment
from tests.browser.conftest import screenshot
from tests.refunds.conftest import pay_through_sandbox


def _failed_payment(make):
    order = make.order()
    return apply_gateway_payment(make.payment_entity(order, status="failed"), actor=Actor.gateway()).payment


def test_capture_of_an_authorized_payment_swaps_the_panel_to_captured(page, login, sent, sandbox):
    _, payment = pay_through_sandbox(sandbox, outcome="authorize")
    login(page, "finance")
    page.goto(f"/admin/payments/{payment.id}")
    expect(page.locator("#payment-status")).to_have_text("authorized")
    page.locator("#capture-confirm").check()
    page.get_by_role("button", name="Capture payment").click()
    expect(page.locator("#payment-status")).to_have_text("captured")
    expect(page.get_by_role("status")).to_contain_text("captured")
    expect(page.get_by_role("button", name="Capture payment")).to_have_count(0)
    sent.assert_csrf_only_in_header()


def test_admin_corrects_a_payment_status(page, login, sent, make):
    payment = _failed_payment(make)
    login(page, "admin")
    page.goto(f"/admin/payments/{payment.id}")
    page.locator("#payment-status-select").select_option("authorized")
    page.locator("#payment-status-reason").fill("bank confirmed the authorisation")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#payment-status")).to_have_text("authorized")
    expect(page.locator("#timeline")).to_contain_text("bank confirmed the authorisation")
    sent.assert_csrf_only_in_header()


def test_sync_from_gateway_applies_what_the_gateway_knows(page, login, sent, sandbox):
    _, payment = pay_through_sandbox(sandbox)
    login(page, "finance")
    page.goto(f"/admin/payments/{payment.id}")
    page.evaluate("window.__samePage = true")
    page.locator("#payment-sync-form").get_by_role("button", name="Sync from gateway").click()
    expect(page.locator("#payment-detail").get_by_role("status")).to_be_visible()
    expect(page.locator("#payment-status")).to_have_text("captured")
    assert page.evaluate("window.__samePage") is True
    sent.assert_csrf_only_in_header()


def test_deleting_a_failed_payment_with_the_box_ticked_lands_on_the_list(page, login, sent, make):
    payment = _failed_payment(make)
    login(page, "admin")
    page.goto(f"/admin/payments/{payment.id}")
    page.locator("#payment-delete-confirm").check()
    page.get_by_role("button", name="Delete payment").click()
    page.wait_for_url(re.compile(r"/admin/payments$"))
    expect(page.locator("#flashes")).to_contain_text(f"Payment {payment.gateway_payment_id} deleted.")
    expect(page.get_by_role("link", name=payment.gateway_payment_id)).to_have_count(0)
    (delete,) = sent.htmx()
    assert delete.method == "DELETE" and "?" not in delete.url
    sent.assert_csrf_only_in_header()
    screenshot(page, "payment-deleted")
