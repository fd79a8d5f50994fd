"""Admin routes: roles, CSRF, downloads, the inline PDF's framing headers, list filters and CSV."""

import pytest
from sqlalchemy import select

from portal.invoices.models import Invoice
from portal.invoices.status import InvoiceStatus
from tests.helpers import extract_csrf
from tests.invoices.conftest import pdf_text


def csrf(client, path="/admin/invoices"):
    return extract_csrf(client.get(path).get_data(as_text=True))


def invoice_of(db, order):
    db.session.expire_all()
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))


def test_a_viewer_downloads_the_pdf_with_its_checksum(auth, client, paid):
    invoice = paid().invoice
    auth.login_as("viewer")
    response = client.get(f"/admin/invoices/{invoice.id}/download")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{invoice.number.replace("/", "-")}.pdf"'
    assert response.headers["X-Checksum-SHA256"] == invoice_of_id(invoice.id).pdf_sha256
    assert invoice.number in pdf_text(response.data)
    assert response.headers["X-Frame-Options"] == "DENY"


def invoice_of_id(invoice_id):
    from portal.invoices.services import get_invoice

    return get_invoice(invoice_id)


def test_the_inline_pdf_may_be_framed_by_our_own_pages_only(auth, client, paid):
    invoice = paid().invoice
    auth.login_as("viewer")
    response = client.get(f"/admin/invoices/{invoice.id}/pdf")
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    page = client.get(f"/admin/invoices/{invoice.id}")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert f'src="/admin/invoices/{invoice.id}/pdf"' in page.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_login(client, paid):
    invoice = paid().invoice
    assert client.get(f"/admin/invoices/{invoice.id}/download").status_code == 302


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "/admin/invoices", {"order_id": "1"}),
        ("patch", "/admin/invoices/{id}/regenerate-pdf", {}),
        ("post", "/admin/invoices/{id}/void", {"reason": "x"}),
        ("post", "/admin/invoices/{id}/billing", {"name": "X", "state": "Goa"}),
        ("delete", "/admin/invoices/{id}", {}),
        ("post", "/admin/invoices/credit-notes", {"refund_id": "1"}),
    ],
)
def test_a_viewer_cannot_change_invoices(auth, client, paid, db, method, path, data):
    invoice = paid().invoice
    before = (invoice.status, invoice.buyer, invoice.pdf_sha256)
    auth.login_as("viewer")
    token = csrf(client)
    response = getattr(client, method)(path.format(id=invoice.id), data={**data, "csrf_token": token})
    assert response.status_code == 403
    after = invoice_of(db, invoice.order)
    assert (after.status, after.buyer, after.pdf_sha256) == before


def test_actions_without_the_csrf_token_are_refused(auth, client, paid, db):
    invoice = paid().invoice
    auth.login_as("finance")
    response = client.post(f"/admin/invoices/{invoice.id}/void", data={"reason": "no token"})
    assert response.status_code == 400
    assert invoice_of(db, invoice.order).status == InvoiceStatus.ISSUED


def test_finance_issues_an_invoice_for_a_paid_order(auth, client, paid, db, no_auto_invoice):
    order = paid()
    auth.login_as("finance")
    response = client.post("/admin/invoices", data={"order_id": order.id, "csrf_token": csrf(client)})
    invoice = invoice_of(db, order)
    assert response.status_code == 302 and response.location.endswith(f"/admin/invoices/{invoice.id}")
    assert invoice.status == InvoiceStatus.ISSUED
    again = client.post("/admin/invoices", data={"order_id": order.id, "csrf_token": csrf(client)})
    assert again.status_code == 409
    assert "already has an invoice" in again.get_data(as_text=True)


def test_issuing_for_an_unpaid_order_is_refused(auth, client, make):
    order = make.order()
    auth.login_as("finance")
    response = client.post("/admin/invoices", data={"order_id": order.id, "csrf_token": csrf(client)})
    assert response.status_code == 409
    assert "only paid orders are invoiced" in response.get_data(as_text=True)


def test_finance_drafts_issues_and_deletes_drafts_only(auth, client, paid, db, no_auto_invoice):
    order = paid()
    auth.login_as("finance")
    client.post("/admin/invoices", data={"order_id": order.id, "draft": "y", "csrf_token": csrf(client)})
    draft = invoice_of(db, order)
    assert draft.status == InvoiceStatus.DRAFT
    assert client.post(f"/admin/invoices/{draft.id}", data={"csrf_token": csrf(client)}).status_code == 302
    assert invoice_of(db, order) is None
    client.post("/admin/invoices", data={"order_id": order.id, "draft": "y", "csrf_token": csrf(client)})
    draft = invoice_of(db, order)
    assert client.patch(f"/admin/invoices/{draft.id}/issue", data={"csrf_token": csrf(client)}).status_code == 302
    refused = client.delete(f"/admin/invoices/{draft.id}", data={"csrf_token": csrf(client)})
    assert refused.status_code == 409
    assert invoice_of(db, order).status == InvoiceStatus.ISSUED


def test_finance_edits_billing_then_regenerates_and_both_are_in_the_history(auth, client, paid, db):
    invoice = paid().invoice
    auth.login_as("finance")
    data = {**invoice.buyer, "name": "Bharat Tools LLP", "reason": "legal name", "csrf_token": csrf(client)}
    assert client.post(f"/admin/invoices/{invoice.id}/billing", data=data).status_code == 302
    page = client.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)
    assert "buyer.name" in page and "legal name" in page
    response = client.patch(f"/admin/invoices/{invoice.id}/regenerate-pdf", data={"csrf_token": csrf(client)})
    assert response.status_code == 302
    assert "Bharat Tools LLP" in pdf_text(client.get(f"/admin/invoices/{invoice.id}/download").data)
    assert "regenerate pdf" in client.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)


def test_invalid_billing_details_answer_422_and_change_nothing(auth, client, paid, db):
    invoice = paid().invoice
    auth.login_as("finance")
    data = {**invoice.buyer, "gstin": "BAD", "csrf_token": csrf(client)}
    response = client.post(f"/admin/invoices/{invoice.id}/billing", data=data)
    assert response.status_code == 422
    assert "not a valid GSTIN" in response.get_data(as_text=True)
    assert invoice_of(db, invoice.order).buyer["gstin"] == invoice.buyer["gstin"]


def test_finance_voids_with_a_reason_and_the_number_stays(auth, client, paid, db):
    invoice = paid().invoice
    auth.login_as("finance")
    assert client.post(f"/admin/invoices/{invoice.id}/void", data={"csrf_token": csrf(client)}).status_code == 422
    response = client.patch(
        f"/admin/invoices/{invoice.id}/void", data={"reason": "sold twice", "csrf_token": csrf(client)}
    )
    assert response.status_code == 302
    voided = invoice_of(db, invoice.order)
    assert voided.status == InvoiceStatus.VOID and voided.number == invoice.number
    again = client.patch(f"/admin/invoices/{invoice.id}/void", data={"reason": "again", "csrf_token": csrf(client)})
    assert again.status_code == 409


def test_the_void_form_warns_and_a_voided_invoice_offers_a_new_one(auth, client, paid, db):
    invoice = paid().invoice
    auth.login_as("finance")
    page = client.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)
    assert f"voiding keeps its number {invoice.number} used" in page
    assert "the new invoice gets a new number" in page and "cannot be invoiced again" not in page
    client.post(f"/admin/invoices/{invoice.id}/void", data={"reason": "wrong buyer", "csrf_token": csrf(client)})
    page = client.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)
    assert 'id="reissue-form"' in page
    response = client.post("/admin/invoices", data={"order_id": invoice.order_id, "csrf_token": csrf(client)})
    assert response.status_code == 302
    db.session.expire_all()
    numbers = [i.number for i in db.session.scalars(select(Invoice).where(Invoice.order_id == invoice.order_id))]
    assert numbers[0] == invoice.number and len(numbers) == 2 and numbers[1] != invoice.number
    page = client.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)
    assert 'id="reissue-form"' not in page and f">{numbers[1]}</a>" in page  # "Replaced by"


def test_htmx_action_answers_with_a_client_redirect(auth, client, paid):
    invoice = paid().invoice
    auth.login_as("admin")
    response = client.patch(
        f"/admin/invoices/{invoice.id}/regenerate-pdf", headers={"HX-Request": "true", "X-CSRFToken": csrf(client)}
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/admin/invoices/{invoice.id}"


def test_credit_note_download_needs_a_viewer_and_unknown_ids_are_404(auth, client, paid, db):
    from tests.invoices.test_credit_notes import refund

    order = paid()
    refund(order, 1000)
    note = order.invoice.credit_notes[0]
    auth.login_as("viewer")
    response = client.get(f"/admin/invoices/credit-notes/{note.id}/download")
    assert response.status_code == 200 and note.number in pdf_text(response.data)
    assert client.get("/admin/invoices/credit-notes/999999/download").status_code == 404
    assert client.get("/admin/invoices/999999").status_code == 404
    assert client.get("/admin/invoices/999999/download").status_code == 404


def test_list_filters_search_and_csv(auth, client, paid, make):
    ka = paid(name="Karnataka Books")
    mh = paid(state="Maharashtra", gstin="27AAACB1234C1Z1", name="Mumbai Learning")
    auth.login_as("viewer")
    page = client.get("/admin/invoices?q=Mumbai").get_data(as_text=True)
    assert mh.invoice.number in page and ka.invoice.number not in page
    by_customer = client.get(f"/admin/invoices?customer={ka.customer.email}").get_data(as_text=True)
    assert ka.invoice.number in by_customer and mh.invoice.number not in by_customer
    by_number = client.get(f"/admin/invoices?q={ka.invoice.number}").get_data(as_text=True)
    assert ka.invoice.number in by_number and mh.invoice.number not in by_number
    future = client.get("/admin/invoices?from=2999-01-01").get_data(as_text=True)
    assert "No invoices match." in future
    partial = client.get("/admin/invoices?q=Mumbai", headers={"HX-Request": "true"})
    assert partial.get_data(as_text=True).startswith('<div id="invoices-table"')
    assert "HX-Request" in partial.headers["Vary"]
    csv_text = client.get("/admin/invoices?format=csv&q=Mumbai").get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("number,date,status") and len(lines) == 2
    total = mh.invoice.total
    assert lines[1].endswith(f"{total // 100}.{total % 100:02d}") and "27AAACB1234C1Z1" in lines[1]


def test_the_nav_links_the_invoice_list(auth, client):
    auth.login_as("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/invoices"' in page
