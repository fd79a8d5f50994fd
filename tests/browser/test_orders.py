"""The orders pages in a real Chromium: filter, open, cancel through HTMX, export CSV, role limits."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def _shop(make, count: int = 6):
    customer, product = make.customer(email="asha.verma@example.test"), make.product(title="Python for Everyone")
    orders = [make.order(products=[product]) for _ in range(count)]
    target = make.order(customer_user=customer, products=[product])
    paid, _ = make.paid_order(products=[product])
    return orders, target, paid


def test_admin_filters_opens_and_cancels_an_order_through_htmx(page, login, make):
    others, target, _paid = _shop(make)
    login(page, "admin")
    page.goto("/admin/orders")
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(page.locator("#order-results tbody tr")).to_have_count(len(others) + 2)
    screenshot(page, "orders-list")

    # Live filtering: typing swaps only the results and pushes a shareable URL.
    page.evaluate("window.__samePage = true")
    page.get_by_label("Search").fill("asha.verma@example.test")
    expect(page).to_have_url(re.compile(r"q=asha\.verma%40example\.test"))
    expect(page.locator("#order-results tbody tr")).to_have_count(1)
    expect(page.locator("#order-results")).to_contain_text(target.number)
    assert page.evaluate("window.__samePage") is True  # no full reload

    # The status tab keeps the search and is itself a shareable URL.
    page.locator(".tabs").get_by_role("link", name=re.compile("^pending")).click()
    expect(page).to_have_url(re.compile(r"status=pending"))
    expect(page).to_have_url(re.compile(r"q=asha"))

    page.get_by_role("link", name=target.number).click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {target.number}"))).to_be_visible()
    screenshot(page, "order-detail")

    page.evaluate("window.__samePage = true")
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm asks first
    page.get_by_label("Reason for cancelling").fill("customer asked by phone")
    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("#order-status")).to_have_text("cancelled")
    expect(page.locator("#timeline")).to_contain_text("pending → cancelled")
    expect(page.locator("#timeline")).to_contain_text("customer asked by phone")
    expect(page.get_by_role("status").filter(has_text="cancelled.")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    assert page.evaluate("window.__samePage") is True  # the panel was swapped, not the page
    screenshot(page, "order-cancelled")


def test_export_csv_downloads_the_filtered_orders(page, login, make):
    _, target, paid = _shop(make, count=2)
    login(page, "viewer")
    page.goto("/admin/orders?status=paid")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export CSV").first.click()
    download = info.value
    assert download.suggested_filename.startswith("orders-") and download.suggested_filename.endswith(".csv")
    text = open(download.path(), encoding="utf-8").read()  # noqa: SIM115 (read once)
    lines = text.strip().splitlines()
    assert lines[0].startswith("number,created_at,status")
    assert len(lines) == 2 and paid.number in lines[1] and target.number not in text


def test_viewer_sees_no_cancel_button_and_cannot_call_it_directly(page, login, make):
    _, target, _ = _shop(make, count=1)
    login(page, "viewer")
    page.goto(f"/admin/orders/{target.id}")
    expect(page.get_by_role("heading", name=re.compile(f"Order {target.number}"))).to_be_visible()
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete order")).to_have_count(0)

    # A hand-made request with a valid CSRF token still meets the server's role check.
    status = page.evaluate(
        """async (url) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const body = new URLSearchParams({reason: "trying anyway"});
            const response = await fetch(url, {method: "PATCH", body, headers: {"X-CSRFToken": token}});
            return response.status;
        }""",
        f"/admin/orders/{target.id}/cancel",
    )
    assert status == 403
    page.reload()
    expect(page.locator("#order-status")).to_have_text("pending")


def test_a_refused_htmx_action_shows_its_message(page, login, make):
    _, target, _ = _shop(make, count=1)
    login(page, "admin")
    page.goto(f"/admin/orders/{target.id}")
    page.on("dialog", lambda dialog: dialog.accept())
    # Remove the browser-side `required` so the server's own check is what answers.
    page.evaluate("document.getElementById('cancel-reason').removeAttribute('required')")
    page.get_by_role("button", name="Cancel order").click()
    expect(page.locator("#flashes")).to_contain_text("Give a reason")
    expect(page.locator("#order-status")).to_have_text("pending")


def test_orders_list_reads_on_a_phone(page, login, make):
    _shop(make, count=3)
    login(page, "viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/orders")
    expect(page.get_by_label("Search")).to_be_visible()
    # Keyboard: the search box is reachable and usable without a mouse.
    page.get_by_label("Search").focus()
    page.keyboard.type("ORD-")
    expect(page.get_by_label("Search")).to_have_value("ORD-")
    # The filters fit the screen; only the table scrolls sideways, inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "orders-list-phone")


# ---------------------------------------------------------------- every action of the order page, JS on


def test_admin_changes_an_order_status_in_place(page, login, sent, make):
    order = make.order()
    login(page, "admin")
    page.goto(f"/admin/orders/{order.id}")
    page.locator("#status-select").select_option("expired")
    page.locator("#status-reason").fill("customer never paid")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#order-status")).to_have_text("expired")
    expect(page.locator("#order-detail").get_by_role("status")).to_have_text(f"Order {order.number} is now expired.")
    expect(page.locator("#timeline")).to_contain_text("customer never paid")
    sent.assert_csrf_only_in_header()


def test_sync_from_gateway_marks_an_order_paid_that_the_webhook_missed(page, login, sent, sandbox, make):
    from portal.gateway import get_gateway

    gateway_order = get_gateway().create_order(amount=118000, currency="INR", receipt="sync", notes={})
    order = make.order(products=[make.product(price=100000)], gateway_order_id=gateway_order["id"])
    sandbox.set_faults(drop_webhooks=True)
    sandbox.pay(gateway_order["id"])  # paid at the gateway; its webhooks never reach us
    login(page, "finance")
    page.goto(f"/admin/orders/{order.id}")
    expect(page.locator("#order-status")).to_have_text("pending")
    page.get_by_role("button", name="Sync from gateway").click()
    expect(page.locator("#order-status")).to_have_text("paid")
    expect(page.locator("#order-detail").get_by_role("status").first).to_be_visible()
    sent.assert_csrf_only_in_header()


def test_deleting_a_pending_order_with_the_box_ticked_lands_on_the_list(page, login, sent, make):
    order = make.order()
    login(page, "admin")
    page.goto(f"/admin/orders/{order.id}")
    page.locator("#delete-confirm").check()
    page.get_by_role("button", name="Delete order").click()
    page.wait_for_url(re.compile(r"/admin/orders$"))
    expect(page.locator("#flashes")).to_contain_text(f"Order {order.number} deleted.")
    expect(page.get_by_role("link", name=order.number)).to_have_count(0)
    (delete,) = sent.htmx()
    assert delete.method == "DELETE" and "?" not in delete.url
    sent.assert_csrf_only_in_header()


def test_bulk_cancel_of_ticked_rows(page, login, sent, make):
    keep, first, second = make.order(), make.order(), make.order()
    login(page, "admin")
    page.goto("/admin/orders")
    page.get_by_label(f"Select {first.number}").check()
    page.get_by_label(f"Select {second.number}").check()
    page.get_by_label("Bulk action").select_option("cancel")
    page.get_by_label("Reason for cancelling").fill("duplicate checkout")
    page.locator("#bulk-form").get_by_role("button", name="Apply").click()
    expect(page.locator("#flashes")).to_contain_text("Cancelled 2")
    for order, status in ((first, "cancelled"), (second, "cancelled"), (keep, "pending")):
        expect(page.locator(f"#order-row-{order.id} .badge")).to_have_text(status)


def test_bulk_issue_of_missing_invoices(page, login, sent, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_INVOICE", False)  # paid orders without their invoice
    order, _ = make.paid_order()
    login(page, "finance")
    page.goto("/admin/orders?status=paid")
    page.get_by_label(f"Select {order.number}").check()
    page.get_by_label("Bulk action").select_option("invoice")
    page.locator("#bulk-form").get_by_role("button", name="Apply").click()
    expect(page.locator("#flashes")).to_contain_text("Invoiced 1")
    page.get_by_role("link", name=order.number).click()
    expect(page.locator("#order-detail")).to_contain_text("issued")


def test_bulk_export_of_ticked_rows_downloads_only_those(page, login, make):
    ticked, other = make.order(), make.order()
    login(page, "viewer")
    page.goto("/admin/orders")
    page.get_by_label(f"Select {ticked.number}").check()
    page.get_by_label("Bulk action").select_option("export")
    with page.expect_download() as info:
        page.locator("#bulk-form").get_by_role("button", name="Apply").click()
    text = open(info.value.path(), encoding="utf-8").read()  # noqa: SIM115 (read once)
    assert ticked.number in text and other.number not in text
