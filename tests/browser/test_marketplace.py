"""The marketplace end to end in a real Chromium (JavaScript on): the storefront's cart of two vendors →
checkout → the sandbox's hosted checkout → the success page listing both orders → the admin sees both
orders and the checkout → the vendor's user signs in, sees only its own order and accepts it (HTMX)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.auth.models import Role
from portal.auth.services import upsert_user
from portal.cart.models import Checkout
from portal.extensions import db
from portal.orders.models import Order
from tests import factories
from tests.browser.conftest import screenshot, sign_in
from tests.marketplace_fixtures import two_vendor_shop


def _add(page, title: str) -> None:
    form = page.get_by_role("form", name=f"Add {title}")
    form.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(re.compile(r"/sandbox/store/"))


def _sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))


def test_a_two_vendor_cart_is_paid_once_and_each_vendor_sees_and_accepts_only_its_own(
    page, live_server, login, sent, sandbox, monkeypatch
):
    shop = two_vendor_shop()
    desk = upsert_user("desk@trail.test", factories.PASSWORD, Role.VENDOR, vendor_id=shop.trail.id)[0]
    # The hosted page sends the customer back to PUBLIC_BASE_URL's callback: here, the live server.
    monkeypatch.setattr(sandbox.sandbox, "public_base_url", live_server.url)

    page.goto("/sandbox/store/")
    expect(page.get_by_role("heading", name="Loom & Co")).to_be_visible()
    _add(page, "Silk scarf")
    _add(page, "Camp lamp")
    cart = page.locator("#store-cart-vendors")
    expect(cart).to_contain_text("Loom & Co")
    expect(cart).to_contain_text("Trail Rentals")
    page.locator("#store-cart").get_by_role("button", name=re.compile(r"^Pay ")).click()

    page.wait_for_url(re.compile(r"/sandbox/checkout/order_"))
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/payments/razorpay/callback"))
    expect(page.get_by_role("heading", name="Thank you: your order is confirmed")).to_be_visible()
    loom_order, trail_order = db.session.scalars(select_orders()).all()
    table = page.locator("#checkout-orders")
    expect(table.locator(f"#outcome-order-{loom_order.id}")).to_contain_text("Loom & Co")
    expect(table.locator(f"#outcome-order-{trail_order.id}")).to_contain_text("Trail Rentals")
    expect(table.locator(f"#outcome-order-{trail_order.id}")).to_contain_text("waiting for the seller to confirm")
    expect(page.locator("#back-to-store")).to_have_attribute("href", "/sandbox/store/")
    screenshot(page, "marketplace-success")

    login(page, "viewer")
    page.goto("/admin/orders")
    expect(page.locator("#order-results")).to_contain_text(loom_order.number)
    expect(page.locator("#order-results")).to_contain_text(trail_order.number)
    checkout = db.session.scalar(db.select(Checkout))
    page.goto("/admin/checkouts?status=paid")
    row = page.locator(f"#checkout-row-{checkout.id}")
    expect(row).to_contain_text(loom_order.number)
    expect(row).to_contain_text(trail_order.number)
    _sign_out(page)

    sign_in(page, desk.email)
    page.goto("/admin/orders")
    expect(page.locator("#order-results")).to_contain_text(trail_order.number)
    expect(page.locator("#order-results")).not_to_contain_text(loom_order.number)
    assert page.request.get(f"/admin/orders/{loom_order.id}").status == 404  # another vendor's order
    page.goto(f"/admin/orders/{trail_order.id}")
    panel = page.locator("#order-fulfilment")
    expect(panel.get_by_test_id("fulfilment-status")).to_have_text("awaiting vendor")
    page.evaluate("window.__samePage = true")
    panel.get_by_role("button", name="Accept order").click()
    expect(panel.get_by_test_id("fulfilment-status")).to_have_text("unfulfilled")
    assert page.evaluate("window.__samePage") is True  # swapped in place, no reload
    sent.assert_csrf_only_in_header()
    db.session.expire_all()
    assert db.session.get(Order, trail_order.id).fulfilment_status == "unfulfilled"
    assert db.session.get(Order, loom_order.id).fulfilment_status == "unfulfilled"  # Loom approves by itself


def select_orders():
    return db.select(Order).where(Order.checkout_id.is_not(None)).order_by(Order.vendor_id)


def test_a_declined_payment_shows_the_failure_page_and_pay_again_completes_the_same_checkout(
    page, live_server, sandbox, monkeypatch
):
    shop = two_vendor_shop()
    monkeypatch.setattr(sandbox.sandbox, "public_base_url", live_server.url)
    page.goto("/sandbox/store/")
    _add(page, "Silk scarf")
    page.locator("#store-cart").get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/sandbox/checkout/order_"))
    hosted = page.url
    page.get_by_role("button", name="Fail (card declined)").click()

    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.locator("#checkout-outcome")).to_contain_text("nothing was charged")
    page.get_by_role("button", name="Pay again").click()  # a link styled as a button
    page.wait_for_url(hosted)  # the same checkout, the same gateway order
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("heading", name="Thank you: your order is confirmed")).to_be_visible()
    checkout = db.session.scalar(db.select(Checkout))
    db.session.refresh(checkout)
    assert checkout.status == "paid" and [o.vendor_id for o in checkout.orders] == [shop.loom.id]


def test_the_checkouts_list_filters_by_tab_and_search_in_place_and_opens_a_checkout(page, login, make):
    buyer = make.customer(email="meera.rao@example.test")
    paid = make.checkout(customer_user=buyer, status="paid")
    expired, cancelled = make.checkout(status="expired"), make.checkout(status="cancelled")
    pending = make.checkout()
    login(page, "viewer")
    page.goto("/admin/checkouts")
    rows = page.locator("#checkout-results tbody tr")
    expect(rows).to_have_count(4)
    page.evaluate("window.__samePage = true")

    page.locator(".tabs").get_by_role("link", name=re.compile("^abandoned", re.I)).click()
    expect(page).to_have_url(re.compile(r"status=abandoned"))
    expect(rows).to_have_count(2)
    expect(page.locator("#checkout-results")).to_contain_text(expired.number)
    expect(page.locator("#checkout-results")).to_contain_text(cancelled.number)

    page.locator(".tabs").get_by_role("link", name=re.compile("^all", re.I)).click()
    page.get_by_label("Search").fill("meera.rao@")
    expect(page).to_have_url(re.compile(r"q=meera\.rao%40"))
    expect(rows).to_have_count(1)
    expect(page.locator("#checkout-results")).not_to_contain_text(pending.number)
    assert page.evaluate("window.__samePage") is True  # swapped in place, no reload

    page.get_by_role("link", name=paid.number).click()
    expect(page.get_by_role("heading", name=re.compile(f"Checkout {paid.number}"))).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("pending → paid")
    screenshot(page, "checkout-detail")
