"""Vendors in a real Chromium: staff filter the orders list by vendor (HTMX swap), and a vendor's staff user
signs in to its own page and sees only its own orders."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.extensions import db
from portal.history.services import Actor
from portal.vendors.services import create_vendor
from tests.browser.conftest import screenshot


def _vendor_with_order(make, name: str, prefix: str):
    vendor = create_vendor(name=name, invoice_prefix=prefix, actor=Actor.system("test"))
    order = make.order(products=[make.product(vendor_id=vendor.id, title=f"{name} item")], vendor_id=vendor.id)
    return vendor, order


def test_staff_filter_the_orders_list_by_vendor_without_a_reload(page, login, make):
    (lens, lens_order), (_books, books_order) = (
        _vendor_with_order(make, "Lens Hire", "LH"),
        _vendor_with_order(make, "Kannada Books", "KB"),
    )
    login(page, "viewer")
    page.goto("/admin/orders")
    expect(page.locator("#order-results tbody tr")).to_have_count(2)
    page.evaluate("window.__samePage = true")
    page.locator("select[name=vendor]").select_option(label="Lens Hire")
    expect(page).to_have_url(re.compile(rf"vendor={lens.id}"))
    expect(page.locator("#order-results tbody tr")).to_have_count(1)
    expect(page.locator("#order-results")).to_contain_text(lens_order.number)
    expect(page.locator("#order-results")).not_to_contain_text(books_order.number)
    assert page.evaluate("window.__samePage") is True
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Vendors")).to_be_visible()


def test_a_vendor_user_lands_on_its_page_and_sees_only_its_orders(page, login, make):
    (lens, lens_order), (_books, books_order) = (
        _vendor_with_order(make, "Lens Hire", "LH"),
        _vendor_with_order(make, "Kannada Books", "KB"),
    )
    user = make.staff("viewer", email="desk@lens.test")
    user.role, user.vendor_id = "vendor", lens.id
    db.session.commit()
    login(page, email="desk@lens.test")
    expect(page).to_have_url(re.compile(rf"/admin/vendors/{lens.id}$"))
    expect(page.get_by_role("heading", name=re.compile("Lens Hire"))).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Vendors")).to_have_count(0)
    expect(nav.get_by_role("link", name="Webhooks")).to_have_count(0)
    screenshot(page, "vendor-home")
    nav.get_by_role("link", name="Orders").click()
    expect(page.locator("#order-results tbody tr")).to_have_count(1)
    expect(page.locator("#order-results")).to_contain_text(lens_order.number)
    expect(page.locator("select[name=vendor]")).to_have_count(0)  # no vendor filter for a vendor's staff
    page.goto(f"/admin/orders/{books_order.id}")
    expect(page.get_by_text(re.compile("not found|No such", re.I)).first).to_be_visible()
