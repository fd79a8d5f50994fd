"""Invoice PDFs as jobs: rendered once issued (auto-invoice, credit notes), bulk regeneration on the queue.

Jobs run in immediate mode (TestingConfig): each enqueue runs the job after the issuing commit, in its own
app context, as a worker would. The PDFs are real (xhtml2pdf), read back with pypdf.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.invoices import tasks
from portal.invoices.models import CreditNote, Invoice
from portal.jobs.queue import configure
from portal.timeutil import utcnow
from tests.invoices.conftest import pdf_text
from tests.invoices.test_credit_notes import refund


def renders(entity_type: str, entity_id: int) -> int:
    query = select(func.count()).select_from(HistoryEvent)
    return db.session.scalar(
        query.where(
            HistoryEvent.entity_type == entity_type,
            HistoryEvent.entity_id == entity_id,
            HistoryEvent.action.in_(("render_pdf", "regenerate_pdf")),
        )
    )


@contextlib.contextmanager
def jobs_backend_down(app):
    saved = app.config["JOBS_BACKEND"], app.config["JOBS_IMMEDIATE"]
    app.config.update(JOBS_BACKEND="redis://127.0.0.1:1/0", JOBS_IMMEDIATE=False)  # nothing listens on port 1
    configure(app)
    try:
        yield
    finally:
        app.config["JOBS_BACKEND"], app.config["JOBS_IMMEDIATE"] = saved
        configure(app)


def test_the_auto_invoice_pdf_is_rendered_by_a_job_before_anyone_downloads_it(paid):
    order = paid()

    invoice = db.session.scalars(select(Invoice).where(Invoice.order_id == order.id)).one()

    assert invoice.pdf_sha256 is not None and invoice.number in pdf_text(invoice.pdf)
    assert renders("invoice", invoice.id) == 1


def test_rendering_twice_stores_one_checksum(paid):
    invoice = db.session.scalars(select(Invoice).where(Invoice.order_id == paid().id)).one()
    first = invoice.pdf_sha256

    assert tasks.render_invoice_pdf.call_local(invoice.id) == first
    assert tasks.render_invoice_pdf.call_local(invoice.id) == first
    assert renders("invoice", invoice.id) == 1


def test_a_processed_refund_s_credit_note_pdf_is_rendered_by_a_job(paid):
    order = paid()
    refund(order, 5000)

    note = db.session.scalars(select(CreditNote)).one()

    assert note.pdf_sha256 is not None and note.number in pdf_text(note.pdf)
    assert tasks.render_credit_note_pdf.call_local(note.id) == note.pdf_sha256
    assert renders("credit_note", note.id) == 1


def test_with_the_jobs_backend_down_the_invoice_is_issued_and_the_download_renders_it(app, paid, auth, client):
    with jobs_backend_down(app):
        order = paid()
    invoice = db.session.scalars(select(Invoice).where(Invoice.order_id == order.id)).one()
    assert invoice.number and invoice.pdf_sha256 is None  # the number is committed; the render job was lost

    auth.login_as("viewer")
    response = client.get(f"/admin/invoices/{invoice.id}/download")

    assert response.status_code == 200 and invoice.number in pdf_text(response.data)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).pdf_sha256 == response.headers["X-Checksum-SHA256"]


def test_regenerate_on_the_queue_renders_each_invoice_again_once(paid, runner):
    invoices = [db.session.scalars(select(Invoice).where(Invoice.order_id == paid().id)).one() for _ in range(3)]
    before = {invoice.id: invoice.pdf_generated_at for invoice in invoices}

    dry = runner.invoke(args=["invoices", "generate", "--regenerate", "--queue", "--dry-run"])
    result = runner.invoke(args=["invoices", "generate", "--regenerate", "--queue"])

    assert dry.exit_code == 0 and "render 3 PDF(s); nothing changed" in dry.output
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("invoices generate: issued 0, queued 3 PDF(s) in 1 job(s), 0 failed")
    db.session.expire_all()
    for invoice_id, generated_at in before.items():
        assert db.session.get(Invoice, invoice_id).pdf_generated_at > generated_at
        assert renders("invoice", invoice_id) == 2  # the first rendering and this one


def test_a_regeneration_job_delivered_twice_renders_nothing_twice(paid):
    invoice_id = db.session.scalar(select(Invoice.id).where(Invoice.order_id == paid().id))
    requested_at = utcnow().isoformat()  # asked for after the first rendering

    first = tasks.regenerate_invoice_pdfs.call_local([invoice_id], requested_at, "test")
    again = tasks.regenerate_invoice_pdfs.call_local([invoice_id], requested_at, "test")

    assert first == (1, [])
    assert again == (0, [])
    assert renders("invoice", invoice_id) == 2
