"""Invoice jobs: the PDF rendered right after an invoice or credit note is issued, and bulk regeneration.

Issuing (auto-invoice from the payment webhook, the credit note of a processed refund) only allocates the
number and commits; these jobs render and store the PDF on a worker, so it exists before anyone downloads
it and the webhook never waits for the renderer. Each is idempotent: a PDF already stored is not rendered
again (a duplicate enqueue or a retry stores one checksum), and a regeneration job skips invoices rendered
since it was requested. A lost enqueue costs nothing: the first download still renders and stores the PDF,
as `flask invoices generate --missing` does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from portal.extensions import db
from portal.history.services import Actor
from portal.invoices import bulk
from portal.invoices.models import Invoice
from portal.jobs import job

JOB_ACTOR = Actor.system("jobs:invoices")


@job(retries=3, retry_delay=60)
def render_invoice_pdf(invoice_id: int) -> str | None:
    """Render and store an issued invoice's PDF unless it has one; its SHA-256."""
    from portal.invoices.services import pdf_bytes

    return pdf_bytes(invoice_id)[2]


@job(retries=3, retry_delay=60)
def render_credit_note_pdf(note_id: int) -> str:
    """Render and store a credit note's PDF unless it has one; its SHA-256."""
    from portal.invoices.credit_notes import credit_note_pdf

    return credit_note_pdf(note_id)[2]


@job(retries=2, retry_delay=60)
def regenerate_invoice_pdfs(invoice_ids: list[int], requested_at: str, reason: str) -> tuple[int, list[str]]:
    """Render a batch of invoices' PDFs again (`flask invoices generate --regenerate --queue`): one query for
    the batch, one transaction to store it. Invoices rendered since `requested_at` (ISO, UTC) are skipped, so
    a retried or duplicated job renders nothing twice. Returns (stored, failures)."""
    since = datetime.fromisoformat(requested_at)
    query = select(Invoice.id).where(
        Invoice.id.in_(invoice_ids), or_(Invoice.pdf_generated_at.is_(None), Invoice.pdf_generated_at < since)
    )
    todo = sorted(db.session.scalars(query))
    db.session.commit()
    if not todo:
        return 0, []
    return bulk.store_batch(bulk.render_batch(todo), actor=JOB_ACTOR, reason=reason)


def queue_regeneration(invoice_ids: list[int], *, reason: str, requested_at: datetime) -> int:
    """Enqueue the regeneration of `invoice_ids` in batches of bulk.BATCH; the number of jobs."""
    from portal.jobs import enqueue

    batches = [invoice_ids[i : i + bulk.BATCH] for i in range(0, len(invoice_ids), bulk.BATCH)]
    db.session.commit()  # end the caller's reads: outside a transaction each job is sent at once
    for batch in batches:
        enqueue(regenerate_invoice_pdfs, batch, requested_at.isoformat(), reason)
    return len(batches)
