"""Issuing, editing, voiding and deleting invoices through the services."""

import pytest
from sqlalchemy import func, select

from portal.history.services import Actor, history_of
from portal.invoices import services
from portal.invoices.models import Invoice
from portal.invoices.numbering import NumberFormatError
from portal.invoices.status import InvoiceStatus
from portal.statemachine import IllegalTransition

FINANCE = Actor("user", "finance@staff.test")


def invoice_of(order):
    return services.db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))


def test_paying_an_order_issues_its_invoice_automatically(paid):
    order = paid()
    invoice = invoice_of(order)
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.number.startswith("INV/") and len(invoice.number) <= 16
    assert invoice.total == order.total and invoice.subtotal == order.subtotal and invoice.tax == order.tax
    assert invoice.payment_reference == order.payments[0].gateway_payment_id
    # ... and the receipt (portal/notifications) attaches it: the PDF is rendered and stored once, for the email.
    assert [e.action for e in history_of(invoice)] == ["create", "transition", "render_pdf"]


def test_auto_invoice_off_leaves_the_paid_order_without_an_invoice(paid, no_auto_invoice):
    assert invoice_of(paid()) is None


def test_finance_issues_the_invoice_of_a_paid_order_once(paid, no_auto_invoice):
    order = paid()
    invoice = services.issue_invoice(order.id, actor=FINANCE)
    assert invoice.number.endswith("/00001")
    with pytest.raises(services.InvoiceExists):
        services.issue_invoice(order.id, actor=FINANCE)
    assert services.db.session.scalar(select(func.count(Invoice.id))) == 1


def test_an_unpaid_order_is_not_invoiced(make):
    order = make.order()
    with pytest.raises(services.NotInvoiceable):
        services.issue_invoice(order.id, actor=FINANCE)
    assert invoice_of(order) is None


def test_numbers_are_consecutive(paid, no_auto_invoice):
    orders = [paid() for _ in range(3)]
    numbers = [services.issue_invoice(o.id, actor=FINANCE).number for o in orders]
    assert [n[-5:] for n in numbers] == ["00001", "00002", "00003"]


def test_a_failed_issue_takes_no_number(app, paid, make, no_auto_invoice, monkeypatch):
    first = services.issue_invoice(paid().id, actor=FINANCE)
    with pytest.raises(services.NotInvoiceable):
        services.issue_invoice(make.order().id, actor=FINANCE)
    second = services.issue_invoice(paid().id, actor=FINANCE)
    assert (first.sequence_no, second.sequence_no) == (1, 2)


def test_a_too_long_prefix_is_refused_with_a_clear_error_and_changes_nothing(app, paid, no_auto_invoice, monkeypatch):
    order = paid()
    monkeypatch.setitem(app.config, "INVOICE_PREFIX", "ACMEINV")
    with pytest.raises(NumberFormatError, match="shorten the prefix 'ACMEINV' to at most 4 characters"):
        services.issue_invoice(order.id, actor=FINANCE)
    assert invoice_of(order) is None


def test_intra_state_sale_splits_cgst_and_sgst(paid):
    invoice = invoice_of(paid(state="karnataka ", prices=((33333, 1, 1800),)))
    assert invoice.igst == 0
    assert invoice.cgst + invoice.sgst == invoice.tax == 6000
    assert (invoice.cgst, invoice.sgst) == (3000, 3000)


def test_inter_state_sale_charges_igst(paid):
    invoice = invoice_of(paid(state="Maharashtra", gstin="27AAACB1234C1Z1"))
    assert (invoice.cgst, invoice.sgst, invoice.igst) == (0, 0, invoice.tax)


def test_draft_gets_its_number_only_when_issued_and_can_be_deleted(paid, no_auto_invoice):
    order = paid()
    draft = services.create_invoice(order.id, actor=FINANCE, issue=False)
    assert draft.number is None and draft.status == InvoiceStatus.DRAFT
    services.delete_draft(draft.id, actor=FINANCE)
    assert invoice_of(order) is None
    issued = services.issue_draft(services.create_invoice(order.id, actor=FINANCE, issue=False).id, actor=FINANCE)
    assert issued.number.endswith("/00001")


def test_an_issued_invoice_is_never_deleted(paid):
    invoice = invoice_of(paid())
    with pytest.raises(IllegalTransition):
        services.delete_draft(invoice.id, actor=FINANCE)
    assert invoice_of(invoice.order) is not None


def test_voiding_keeps_the_number_used(paid):
    invoice = invoice_of(paid())
    voided = services.void_invoice(invoice.id, actor=FINANCE, reason="duplicate sale")
    assert voided.status == InvoiceStatus.VOID and voided.number == invoice.number
    assert voided.pdf_sha256 is not None
    next_invoice = invoice_of(paid())
    assert next_invoice.sequence_no == voided.sequence_no + 1
    with pytest.raises(IllegalTransition):
        services.void_invoice(invoice.id, actor=FINANCE, reason="again")


def test_a_voided_invoice_is_replaced_by_a_new_one_with_a_new_number_and_the_void_is_kept(paid):
    order = paid()
    first = invoice_of(order)
    services.void_invoice(first.id, actor=FINANCE, reason="wrong buyer")
    second = services.issue_invoice(order.id, actor=FINANCE, reason="reissued for the right buyer")
    assert second.id != first.id and second.number != first.number
    assert second.sequence_no == first.sequence_no + 1 and second.status == InvoiceStatus.ISSUED
    kept = services.get_invoice(first.id)
    assert kept.status == InvoiceStatus.VOID and kept.number == first.number
    services.db.session.expire_all()
    assert [i.id for i in order.invoices] == [first.id, second.id] and order.invoice.id == second.id
    with pytest.raises(services.InvoiceExists):  # one current invoice at a time
        services.issue_invoice(order.id, actor=FINANCE)
    assert services.invoice_pdf_for_order(order.id)[0] == services.pdf_filename(second)


def test_the_database_refuses_two_current_invoices_for_one_order(paid):
    from sqlalchemy.exc import IntegrityError

    invoice = invoice_of(paid())
    twin = Invoice(order_id=invoice.order_id, status=InvoiceStatus.DRAFT, currency="INR")
    services.db.session.add(twin)
    with pytest.raises(IntegrityError):
        services.db.session.commit()
    services.db.session.rollback()


def test_voiding_needs_a_reason(paid):
    invoice = invoice_of(paid())
    with pytest.raises(services.InvalidBillingDetails):
        services.void_invoice(invoice.id, actor=FINANCE, reason="  ")
    assert services.get_invoice(invoice.id).status == InvoiceStatus.ISSUED


def test_editing_the_buyer_state_moves_tax_to_igst_and_is_recorded(paid):
    invoice = invoice_of(paid())
    total, tax = invoice.total, invoice.tax
    values = dict(invoice.buyer, state="Tamil Nadu", gstin="33AAACB1234C1Z9")
    edited = services.edit_billing(invoice.id, values, actor=FINANCE, reason="customer moved")
    assert (edited.igst, edited.cgst, edited.sgst, edited.total, edited.tax) == (tax, 0, 0, total, tax)
    edit = next(e for e in history_of(edited) if e.action == "edit")
    assert edit.changes["buyer.state"] == ["Karnataka", "Tamil Nadu"]
    assert edit.reason == "customer moved"


def test_bad_billing_details_change_nothing(paid):
    invoice = invoice_of(paid())
    before = dict(invoice.buyer)
    with pytest.raises(services.InvalidBillingDetails) as caught:
        services.edit_billing(invoice.id, dict(before, gstin="NOT-A-GSTIN", state=""), actor=FINANCE)
    assert set(caught.value.errors) == {"gstin", "state"}
    services.db.session.expire_all()
    assert services.get_invoice(invoice.id).buyer == before


def test_pdf_is_rendered_lazily_once_and_regenerated_with_history(paid, jobs_wait_for_a_worker):
    invoice = invoice_of(paid())  # its receipt, which would render the PDF to attach it, is still queued
    assert invoice.pdf_sha256 is None and services.pdf_is_outdated(invoice)
    name, data, checksum = services.pdf_bytes(invoice.id)
    assert name == invoice.number.replace("/", "-") + ".pdf" and data.startswith(b"%PDF")
    assert services.pdf_bytes(invoice.id)[2] == checksum
    services.edit_billing(invoice.id, dict(invoice.buyer, name="Bharat Tools LLP"), actor=FINANCE)
    assert services.pdf_is_outdated(services.get_invoice(invoice.id))
    regenerated = services.regenerate_pdf(invoice.id, actor=FINANCE)
    assert not services.pdf_is_outdated(regenerated)
    actions = [e.action for e in history_of(regenerated)]
    assert actions[-3:] == ["render_pdf", "edit", "regenerate_pdf"]


def test_invoice_pdf_for_order_serves_issued_invoices_only(paid, no_auto_invoice, make):
    order = paid()
    assert services.invoice_pdf_for_order(order.id) is None
    services.create_invoice(order.id, actor=FINANCE, issue=False)
    assert services.invoice_pdf_for_order(order.id) is None
    services.issue_draft(invoice_of(order).id, actor=FINANCE)
    filename, data = services.invoice_pdf_for_order(order.id)
    assert filename.startswith("INV-") and data.startswith(b"%PDF")
