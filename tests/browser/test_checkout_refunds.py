"""A finance user refunds one vendor's order of a multi-vendor checkout from its page: only that share moves."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.cart.checkout import complete_checkout_payment, start_checkout
from portal.cart.services import add_line
from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.history.services import Actor
from portal.orders.models import Order
from tests import factories
from tests.browser.conftest import screenshot
from tests.cart.conftest import new_vendor


def _two_vendor_checkout(sandbox):
    sandbox.receive_webhooks()
    customer = factories.customer()
    for name, price in (("Asha Crafts", 50000), ("Brass Works", 120000)):
        vendor = new_vendor(name)
        product = factories.product(kind=ProductKind.GOOD, price=price, stock=5, vendor_id=vendor.id)
        add_line(customer, product.id, 1)
    checkout, _ = start_checkout(customer)
    paid = sandbox.pay(checkout.gateway_order_id)
    outcome = complete_checkout_payment(
        paid["razorpay_order_id"], paid["razorpay_payment_id"], paid["razorpay_signature"], actor=Actor.user(customer)
    )
    assert outcome.state == "paid"
    return db.session.scalars(select(Order).order_by(Order.id)).all()


def test_refunding_one_vendor_order_of_a_checkout_refunds_its_share_only(page, login, sandbox):
    lamps, kettle = _two_vendor_checkout(sandbox)  # ₹590.00 and ₹1,416.00 of one ₹2,006.00 payment
    login(page, "finance")
    page.goto(f"/admin/orders/{kettle.id}")

    form = page.locator("#refund-create-form")
    expect(form).to_contain_text("₹1,416.00 still refundable")
    form.get_by_label("Reason").select_option("quality_issue")
    form.get_by_role("button", name="Review refund").click()
    expect(page.get_by_test_id("refund-amount")).to_have_text("₹1,416.00")  # the order's share, not the payment
    page.get_by_role("button", name="Refund ₹1,416.00").click()

    page.wait_for_url(re.compile(rf"/admin/orders/{kettle.id}$"))
    expect(page.locator("#order-status")).to_have_text("refunded")
    screenshot(page, "checkout-vendor-order-refunded")
    page.goto(f"/admin/orders/{lamps.id}")
    expect(page.locator("#order-status")).to_have_text("paid")
    expect(page.locator("#refund-create-form")).to_contain_text("₹590.00 still refundable")
