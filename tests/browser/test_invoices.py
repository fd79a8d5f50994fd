"""Finance finds an invoice in the list and downloads its PDF through a real browser."""

import io
import re
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from portal.history.services import Actor
from portal.payments.services import apply_gateway_payment
from tests.browser.conftest import screenshot


def paid_order(make):
    customer = make.customer(name="Browser Books", billing_state="Karnataka", gstin="29AAACB1234C1Z5")
    order = make.order(customer_user=customer, products=[make.product(price=250000, title="Accounting 101")])
    return apply_gateway_payment(make.payment_entity(order), actor=Actor.gateway()).order


def test_finance_downloads_an_invoice_pdf(page, login, make):
    invoice = paid_order(make).invoice
    login(page, "finance")
    page.goto("/admin/invoices")
    page.get_by_role("searchbox").fill("Browser Books")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=invoice.number).click()
    expect(page).to_have_url(re.compile(rf"/admin/invoices/{invoice.id}$"))
    expect(page.locator("h1")).to_contain_text(invoice.number)
    expect(page.locator("iframe[title='Invoice PDF']")).to_have_attribute("src", f"/admin/invoices/{invoice.id}/pdf")
    screenshot(page, "invoice-detail")

    with page.expect_download() as caught:
        page.get_by_role("button", name="Download PDF").click()
    download = caught.value
    assert download.suggested_filename == invoice.number.replace("/", "-") + ".pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(download.path()).read_bytes())).pages)
    assert invoice.number in text and "Accounting 101" in text and "₹2,950.00" in text


def test_finance_voids_an_invoice_from_its_page(page, login, make):
    invoice = paid_order(make).invoice
    login(page, "finance")
    page.goto(f"/admin/invoices/{invoice.id}")
    page.get_by_text("Void this invoice").click()
    page.get_by_label("Reason", exact=True).fill("duplicate order")
    page.get_by_role("button", name="Void invoice").click()
    expect(page.get_by_text("voided; its number stays used")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("void")
