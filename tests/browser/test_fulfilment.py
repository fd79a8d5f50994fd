"""The fulfilment panel in a real Chromium (JavaScript on): the vendor accepts its order, ships it with a
tracking number, marks it delivered and records a return — every step an HTMX swap of #order-fulfilment,
never a full page load, the stock figure following the return."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.auth.services import upsert_user
from tests import factories
from tests.browser.conftest import screenshot
from tests.orders import shop


def _step(page, status: str, **fields) -> None:
    page.locator("#advance-status").select_option(status)
    for name, value in fields.items():
        page.locator(f"#advance-{name}").fill(value)
    page.get_by_role("button", name="Move on").click()


def test_the_vendor_accepts_ships_delivers_and_takes_back_a_unit_through_htmx(page, login, sent, sandbox, make):
    vendor = shop.vendor(name="Clay Works")
    mug = make.product(kind="good", title="Ceramic mug", stock=6, vendor_id=vendor.id)
    order, _ = shop.goods_order(sandbox, products=[mug], quantity=2, shop=vendor, awaiting=True)
    staff = upsert_user("potter@clay.test", factories.PASSWORD, "vendor", vendor_id=vendor.id)[0]
    login(page, email=staff.email)
    page.goto(f"/admin/orders/{order.id}")
    panel = page.locator("#order-fulfilment")
    status = panel.get_by_test_id("fulfilment-status")
    expect(status).to_have_text("awaiting vendor")
    expect(panel.get_by_test_id(f"stock-{mug.id}")).to_have_text("4")
    page.evaluate("window.__samePage = true")

    panel.get_by_role("button", name="Accept order").click()
    expect(panel.get_by_role("status")).to_have_text(f"Order {order.number} accepted: unfulfilled.")
    expect(status).to_have_text("unfulfilled")

    _step(page, "processing")
    expect(status).to_have_text("processing")
    _step(page, "ready_for_shipment")
    expect(status).to_have_text("ready for shipment")

    _step(page, "shipped", carrier="BlueDart")  # no tracking number: the browser's form error comes back
    expect(panel.get_by_role("alert")).to_contain_text("tracking number")
    expect(status).to_have_text("ready for shipment")
    _step(page, "shipped", carrier="BlueDart", tracking="AWB-5521")
    expect(status).to_have_text("shipped")
    expect(panel.get_by_test_id("tracking")).to_have_text("BlueDart · AWB-5521")

    _step(page, "delivered")
    expect(status).to_have_text("delivered")
    screenshot(page, "fulfilment-delivered")

    page.locator(f"#ret-{order.items[0].id}").fill("1")
    page.get_by_role("button", name="Record return").click()
    expect(panel.get_by_role("status")).to_have_text(f"Return recorded: order {order.number} is delivered.")
    expect(panel.get_by_test_id(f"stock-{mug.id}")).to_have_text("5")
    expect(panel.get_by_test_id(f"returned-{order.items[0].id}")).to_have_text("1")

    assert page.evaluate("window.__samePage") is True  # every step swapped the panel; none reloaded the page
    assert [r.url.rsplit("/", 1)[-1] for r in sent.htmx()] == ["accept"] + ["advance"] * 5 + ["return"]
    sent.assert_csrf_only_in_header()
