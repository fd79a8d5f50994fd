"""`flask invoices generate`: issuing what is missing, rendering PDFs, on one or two processes."""

import os

from sqlalchemy import func, select

from portal.invoices import bulk
from portal.invoices.models import Invoice
from portal.invoices.services import get_invoice


def count(db, *where):
    return db.session.scalar(select(func.count(Invoice.id)).where(*where))


def test_missing_issues_invoices_and_renders_pdfs(runner, paid, db, no_auto_invoice, jobs_wait_for_a_worker):
    for _ in range(3):
        paid()
    result = runner.invoke(args=["invoices", "generate", "--missing"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "invoices generate: issued 3, rendered 3 PDF(s), 0 failed"
    db.session.expire_all()
    assert count(db, Invoice.pdf_sha256.is_not(None)) == 3
    again = runner.invoke(args=["invoices", "generate", "--missing"])
    assert again.output.strip().splitlines()[-1] == "invoices generate: issued 0, rendered 0 PDF(s), 0 failed"


def test_dry_run_changes_nothing(runner, paid, db, no_auto_invoice):
    paid()
    result = runner.invoke(args=["invoices", "generate", "--missing", "--dry-run"])
    assert result.exit_code == 0
    assert "would issue 1 invoice(s) and render 1 PDF(s); nothing changed" in result.output
    assert count(db) == 0


def test_regenerate_renders_every_issued_invoice_again(runner, paid, db):
    invoices = [paid().invoice for _ in range(2)]
    runner.invoke(args=["invoices", "generate"])
    result = runner.invoke(args=["invoices", "generate", "--regenerate"])
    assert result.exit_code == 0
    assert "issued 0, rendered 2 PDF(s), 0 failed" in result.output
    db.session.expire_all()
    assert all(get_invoice(i.id).pdf.startswith(b"%PDF") for i in invoices)


def test_a_bad_prefix_fails_the_run_with_a_nonzero_exit(app, runner, paid, monkeypatch, no_auto_invoice):
    paid()
    monkeypatch.setitem(app.config, "INVOICE_PREFIX", "TOO-LONG-PREFIX")
    result = runner.invoke(args=["invoices", "generate", "--missing"])
    assert result.exit_code == 1
    assert "issued 0, rendered 0 PDF(s), 1 failed" in result.output


def test_a_large_run_renders_on_one_worker_process_per_core(runner, paid, db, monkeypatch):
    invoices = [paid().invoice for _ in range(4)]
    monkeypatch.setattr(bulk, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(bulk, "BATCH", 3)  # two batches: one per worker on two cores
    seen = []
    original = bulk.render_many

    def spy(ids, workers):  # records that the pool path ran; the rendering itself is real
        seen.append(workers)
        yield from original(ids, workers)

    monkeypatch.setattr(bulk, "render_many", spy)
    result = runner.invoke(args=["invoices", "generate", "--regenerate"])
    assert result.exit_code == 0, result.output
    assert "issued 0, rendered 4 PDF(s), 0 failed" in result.output and seen == [os.cpu_count() or 1]
    db.session.expire_all()
    for invoice in invoices:
        stored = get_invoice(invoice.id)
        assert stored.pdf.startswith(b"%PDF") and stored.pdf_sha256
