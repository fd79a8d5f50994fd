"""Credit notes: issued when a refund on an invoiced order is processed, in their own gapless series."""

import pytest
from sqlalchemy import select

from portal.history.services import Actor, history_of
from portal.invoices.credit_notes import CreditNoteNotAllowed, issue_credit_note
from portal.invoices.models import CreditNote
from portal.refunds.settlement import apply_gateway_refund

FINANCE = Actor("user", "finance@staff.test")


def refund(order, amount, status="processed", suffix="a"):
    payment = order.payments[0]
    entity = {"id": f"rfnd_{suffix}{payment.id:08d}", "entity": "refund", "amount": amount, "currency": "INR",
              "payment_id": payment.gateway_payment_id, "status": status}  # fmt: skip
    return apply_gateway_refund(entity, actor=Actor.gateway())


def notes(db):
    return db.session.scalars(select(CreditNote).order_by(CreditNote.id)).all()


def test_a_processed_refund_issues_a_credit_note_automatically(paid, db):
    order = paid()
    processed = refund(order, 5000)
    [note] = notes(db)
    assert note.refund_id == processed.id and note.invoice_id == order.invoice.id
    assert note.number.startswith("CN/") and note.number.endswith("/00001") and len(note.number) <= 16
    assert note.amount == 5000 and note.tax == 763  # 5000 × 18/118, half up
    # The refund-processed message attaches the note, rendering (and storing) its PDF once.
    assert [e.action for e in history_of(note)] == ["create", "render_pdf"]
    assert "credit_note" in [e.action for e in history_of(order.invoice)]


def test_issuing_again_returns_the_same_note(paid, db):
    order = paid()
    processed = refund(order, 5000)
    assert issue_credit_note(processed.id, actor=FINANCE).id == notes(db)[0].id
    assert len(notes(db)) == 1


def test_partial_refunds_credit_the_whole_tax_exactly(paid, db):
    order = paid(prices=((33333, 1, 1800),))
    invoice = order.invoice
    first = order.total // 3
    refund(order, first, suffix="a")
    refund(order, first, suffix="b")
    refund(order, order.total - 2 * first, suffix="c")
    credited = notes(db)
    assert [n.sequence_no for n in credited] == [1, 2, 3]
    assert sum(n.amount for n in credited) == invoice.total
    assert sum(n.tax for n in credited) == invoice.tax


def test_a_pending_refund_gets_no_credit_note(paid, db):
    pending = refund(paid(), 5000, status="pending")
    assert notes(db) == []
    with pytest.raises(CreditNoteNotAllowed, match="only processed"):
        issue_credit_note(pending.id, actor=FINANCE)


def test_a_refund_on_an_uninvoiced_order_gets_no_credit_note(paid, db, no_auto_invoice):
    processed = refund(paid(), 5000)
    with pytest.raises(CreditNoteNotAllowed, match="no invoice"):
        issue_credit_note(processed.id, actor=FINANCE)
    assert notes(db) == []


def test_a_voided_invoice_is_not_credited(paid, db):
    from portal.invoices.services import void_invoice

    order = paid()
    void_invoice(order.invoice.id, actor=FINANCE, reason="cancelled sale")
    processed = refund(order, order.total)
    assert notes(db) == []
    with pytest.raises(CreditNoteNotAllowed, match="void invoice"):
        issue_credit_note(processed.id, actor=FINANCE)
