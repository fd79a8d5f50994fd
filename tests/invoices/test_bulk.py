"""Bulk rendering and storing (portal/invoices/bulk.py): batches loaded in a constant number of statements,
stored in one transaction each, and a bad invoice failing alone."""

from sqlalchemy import event

from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.invoices import bulk, services
from portal.invoices.models import Invoice

ACTOR = Actor.system("test:bulk")


def statements_while(db, work):
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return result, seen


def test_a_batch_is_loaded_in_the_same_number_of_statements_whatever_its_size(paid, db):
    ids = [paid(prices=((10000, 1, 1800), (5000, 2, 500))).invoice.id for _ in range(4)]
    counts = []
    for batch in (ids[:1], ids):
        db.session.expunge_all()  # nothing cached from an earlier load
        results, seen = statements_while(db, lambda batch=batch: bulk.render_batch(batch))
        assert [data[:4] for _, data, _ in results] == [b"%PDF"] * len(batch)
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 3


def test_a_batch_is_stored_in_one_transaction_with_a_checksum_and_history_row_each(paid, db):
    ids = [paid().invoice.id for _ in range(3)]
    pdfs = {invoice_id: f"%PDF-{invoice_id}".encode() for invoice_id in ids}
    _, seen = statements_while(db, lambda: services.store_rendered_pdfs(pdfs, actor=ACTOR, reason="bulk"))
    assert sum(1 for s in seen if "FROM invoices" in s and s.lstrip().upper().startswith("SELECT")) == 1
    db.session.expire_all()
    for invoice_id in ids:
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.pdf == pdfs[invoice_id] and invoice.pdf_sha256 == services.sha256(pdfs[invoice_id])
    events = db.session.query(HistoryEvent).filter_by(entity_type="invoice", action="regenerate_pdf").count()
    assert events == 3


def test_a_batch_holding_a_draft_is_stored_one_by_one_and_only_the_draft_fails(paid, db, no_auto_invoice):
    issued = [services.issue_invoice(paid().id, actor=ACTOR).id for _ in range(2)]
    draft = services.create_invoice(paid().id, actor=ACTOR, issue=False).id
    batch = [(issued[0], b"%PDF-a", ""), (draft, b"%PDF-d", ""), (issued[1], b"%PDF-b", ""), (999999, None, "gone")]
    stored, failures = bulk.store_batch(batch, actor=ACTOR, reason="bulk")
    assert stored == 2
    assert [f.split(":")[0] for f in failures] == ["invoice 999999", f"invoice {draft}"]
    db.session.expire_all()
    assert [db.session.get(Invoice, i).pdf for i in issued] == [b"%PDF-a", b"%PDF-b"]
    assert db.session.get(Invoice, draft).pdf is None
