"""Finance finds an invoice in the list and downloads its PDF through a real browser."""

import io
import re
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from portal.history.services import Actor
from portal.invoices import services
from portal.payments.services import apply_gateway_payment
from portal.refunds.services import create_refund
from tests.browser.conftest import screenshot
from tests.refunds.conftest import pay_through_sandbox


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


# ---------------------------------------------------------------- every invoice action, JavaScript on


def test_draft_by_hand_then_issue_it(page, login, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_INVOICE", False)
    order = paid_order(make)
    login(page, "finance")
    page.goto("/admin/invoices")
    page.get_by_text("Issue an invoice or a credit note by hand").click()
    page.get_by_label("Paid order id").fill(str(order.id))
    page.get_by_label("Save as a draft").check()
    page.get_by_role("button", name="Create invoice").click()
    expect(page.get_by_text("Draft invoice created")).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("draft")
    page.get_by_role("button", name="Issue (allocate the number)").click()
    expect(page.locator("h1 .badge")).to_have_text("issued")
    expect(page.locator("#flashes")).to_contain_text("issued")


def test_delete_a_draft_lands_on_the_list(page, login, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_INVOICE", False)
    order = paid_order(make)
    draft = services.create_invoice(order.id, actor=Actor.system("test"), issue=False)
    login(page, "finance")
    page.goto(f"/admin/invoices/{draft.id}")
    page.get_by_role("button", name="Delete draft").click()
    page.wait_for_url(re.compile(r"/admin/invoices$"))
    expect(page.locator("#flashes")).to_contain_text("Draft deleted")


def test_edit_billing_then_regenerate_the_pdf(page, login, make):
    invoice = paid_order(make).invoice
    services.pdf_bytes(invoice.id)  # rendered once, before the change
    login(page, "finance")
    page.goto(f"/admin/invoices/{invoice.id}")
    page.get_by_text("Edit billing details").click()
    page.get_by_label("Buyer name").fill("Browser Books Pvt Ltd")
    page.get_by_label("Reason for the change").fill("legal name")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.locator("#flashes")).to_contain_text("Billing details saved")
    expect(page.get_by_text("Bill to")).to_be_visible()
    expect(page.locator("article").filter(has_text="Bill to")).to_contain_text("Browser Books Pvt Ltd")
    expect(page.get_by_text("regenerate it")).to_be_visible()
    page.get_by_role("button", name="Regenerate PDF").click()
    expect(page.locator("#flashes")).to_contain_text("PDF regenerated")
    expect(page.get_by_text("regenerate it")).to_have_count(0)


def test_credit_note_by_hand_for_a_refund_made_before_the_invoice(page, login, sandbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_INVOICE", False)  # refunded before it was invoiced: no credit note yet
    order, payment = pay_through_sandbox(sandbox, price=100000)
    refund = create_refund(payment.id, amount=11800, reason="goodwill", actor=Actor.system("test"))
    invoice = services.create_invoice(order.id, actor=Actor.system("test"))
    login(page, "finance")
    page.goto("/admin/invoices")
    page.get_by_text("Issue an invoice or a credit note by hand").click()
    page.get_by_label("Processed refund id").fill(str(refund.id))
    page.get_by_role("button", name="Issue credit note").click()
    page.wait_for_url(re.compile(rf"/admin/invoices/{invoice.id}$"))
    expect(page.locator("#flashes")).to_contain_text("Credit note")
    notes = page.locator("section[aria-labelledby=credit-notes]")
    expect(notes).to_contain_text("₹118.00")
