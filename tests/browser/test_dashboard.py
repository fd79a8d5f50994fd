"""The dashboard in a real Chromium: figures, attention panel, the SVG chart and its table, on laptop and phone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def _shop(make):
    product = make.product(title="Data Science Bootcamp", price=499900)
    for _ in range(3):
        make.paid_order(products=[product])
    make.order(products=[product])


def test_dashboard_shows_figures_chart_and_the_same_numbers_as_a_table(page, login, make):
    _shop(make)
    login(page, "finance")
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    chart = page.get_by_role("img", name="Net revenue per day")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(30)
    # The chart is readable without seeing it: the figures open as a table (keyboard: Enter on the summary).
    page.get_by_text("Show the figures as a table").focus()
    page.keyboard.press("Enter")
    table = page.get_by_role("table", name="Orders placed and net revenue per day (Asia/Kolkata)")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text("₹17,696.46")  # 3 × ₹5,898.82
    screenshot(page, "dashboard")


def test_dashboard_reads_on_a_phone(page, login, make):
    _shop(make)
    login(page, "viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/admin/")
    expect(page.get_by_role("img", name="Net revenue per day")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # nothing forces sideways scrolling
    screenshot(page, "dashboard-phone")
