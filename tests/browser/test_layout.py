"""Layout of every list and detail page at laptop (1366×768), desktop (1920) and phone (390×844) widths.

Each test saves screenshots to test-artifacts/ (look at them) and asserts the facts a reader relies on:
filter fields wide enough to read what is typed, the breadcrumb on one line above the heading, nothing
that forces the page to scroll sideways on a phone (only a table scrolls, inside its own box).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal.history.services import Actor
from portal.payments.services import apply_gateway_payment
from portal.refunds.services import create_refund
from portal.webhooks.services import ingest
from tests.browser.conftest import screenshot
from tests.webhooks import payloads

LAPTOP = {"width": 1366, "height": 768}
DESKTOP = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
MIN_FIELD_PX = 180  # a date field shows dd/mm/yyyy and its picker; a search box a pay_… id
MIN_PHONE_FIELD_PX = 140  # two fields a row on a phone

LISTS = {
    "dashboard": ("/admin/", None),
    "orders": ("/admin/orders", "#order-filters"),
    "payments": ("/admin/payments", "#payment-filters"),
    "refunds": ("/admin/refunds", "#refund-filters"),
    "invoices": ("/admin/invoices", "#invoice-filters"),
    "webhooks": ("/admin/webhooks", "#webhook-filters"),
}

FIELD_WIDTHS = """(form) => [...form.querySelectorAll('input:not([type=hidden]):not([type=checkbox]), select')]
    .map((el) => ({name: el.name, width: el.getBoundingClientRect().width}))"""


def _shop(app, make):
    """A little of everything, so each list has rows (and long ids) to lay out."""
    customer = make.customer(name="Aarav Krishnamurthy-Venkataraman", email="aarav.krishnamurthy@example.test")
    product = make.product(title="Machine Learning Foundations (12 weeks)", price=1299900)
    for _ in range(2):
        make.order(customer_user=customer, products=[product])
    order, payment = make.paid_order(customer_user=customer, products=[product])
    apply_gateway_payment(make.payment_entity(make.order(), status="failed"), actor=Actor.gateway())
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order)))
    signature = payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"])
    ingest(body, {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": payloads.new_event_id()})
    # The sandbox never saw this payment: the refund is refused, and listed as failed with its reason.
    create_refund(payment.id, amount=5000, reason="goodwill", actor=Actor.system("test"))
    return order, payment


def _narrow_fields(page, selector: str, minimum: int) -> list:
    widths = page.locator(selector).evaluate(FIELD_WIDTHS)
    assert widths, f"no filter fields in {selector}"
    return [(w["name"], round(w["width"])) for w in widths if w["width"] < minimum]


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("name", list(LISTS))
def test_list_filters_are_readable_on_laptop_desktop_and_phone(page, login, app, make, sandbox, name):
    _shop(app, make)
    path, filters = LISTS[name]
    login(page, "admin")
    for label, size, minimum in (("laptop", LAPTOP, MIN_FIELD_PX), ("desktop", DESKTOP, MIN_FIELD_PX),
                                 ("phone", PHONE, MIN_PHONE_FIELD_PX)):  # fmt: skip
        page.set_viewport_size(size)
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        screenshot(page, f"layout-{name}-{label}")
        if filters:
            assert _narrow_fields(page, filters, minimum) == [], f"{name} at {size['width']} px: squashed fields"
        assert _scroll_width(page) <= size["width"], f"{name} scrolls sideways at {size['width']} px"


DETAILS = {
    "order": lambda order, payment, refund: f"/admin/orders/{order.id}",
    "payment": lambda order, payment, refund: f"/admin/payments/{payment.id}",
    "refund": lambda order, payment, refund: f"/admin/refunds/{refund.id}",
    "webhook": lambda order, payment, refund: "/admin/webhooks/1",
}


def _breadcrumb_facts(page) -> dict:
    """Where the breadcrumb's pieces sit: every piece on one line, close together, above the h1."""
    return page.evaluate(
        """() => {
        const nav = document.querySelector('nav[aria-label=Breadcrumb]');
        const range = document.createRange();
        range.selectNodeContents(nav);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        const tops = rects.map((r) => Math.round(r.top));
        return {
            lines: new Set(tops).size <= 1 ? 1 : Math.round((Math.max(...tops) - Math.min(...tops)) / 10) + 1,
            span: Math.round(Math.max(...rects.map((r) => r.right)) - Math.min(...rects.map((r) => r.left))),
            textWidth: Math.round(rects.reduce((sum, r) => sum + r.width, 0)),
            navBottom: nav.getBoundingClientRect().bottom,
            headingTop: document.querySelector('main h1').getBoundingClientRect().top,
        };
    }"""
    )


@pytest.mark.parametrize("name", list(DETAILS))
def test_detail_breadcrumb_is_one_line_above_the_heading(page, login, app, make, sandbox, name):
    from tests.refunds.conftest import pay_through_sandbox

    order, payment = pay_through_sandbox(sandbox)
    refund = create_refund(payment.id, amount=5000, reason="goodwill", actor=Actor.system("test"))
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order)))
    signature = payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"])
    ingest(body, {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": "Ev_layout_0000000001"})
    login(page, "admin")
    path = DETAILS[name](order, payment, refund)
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(path)
        screenshot(page, f"layout-{name}-detail-{label}")
        facts = _breadcrumb_facts(page)
        assert facts["lines"] == 1, f"{name} breadcrumb wraps at {size['width']} px: {facts}"
        # Its pieces sit together (no flex space-between pushing "› #1" to the far right).
        assert facts["span"] <= facts["textWidth"] + 40, f"{name} breadcrumb is spread out: {facts}"
        assert facts["navBottom"] <= facts["headingTop"], f"{name} breadcrumb is not above the heading: {facts}"
        assert _scroll_width(page) <= size["width"], f"{name} page scrolls sideways at {size['width']} px"
