"""Bulk work for `flask invoices generate`: finding what to do, and rendering PDFs on every core.

Rendering is CPU-bound Python (xhtml2pdf + reportlab), so threads would share one core; a large run uses a
pool of worker processes instead, one per core by default. Each worker builds its own app and database engine
(nothing is inherited from the parent: the pool uses `spawn`) and registers the fonts once, then renders batches
of invoices: one query loads a batch with its orders and lines, and the PDF bytes go back to the parent. The
parent is the only writer: it stores each batch in one short transaction (one lock statement and one commit for
BATCH PDFs), so a crash loses at most the PDFs in flight and never a number; a batch that cannot be stored whole
is stored one by one, so one bad invoice fails alone.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.history.services import Actor
from portal.invoices.models import Invoice
from portal.invoices.pdf import warm_up
from portal.invoices.services import INVOICEABLE, store_rendered_pdf, store_rendered_pdfs
from portal.invoices.status import InvoiceStatus
from portal.orders.models import Order

PARALLEL_THRESHOLD = 40  # below this, starting the worker interpreters (~1 s each) costs more than it saves
BATCH = 16  # invoices per task and per stored transaction: big enough to amortise a commit, small for progress
WORKER_CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "INVOICE_FONT_DIR", "SANDBOX_DATABASE_URL", "TIMEZONE")
_worker_app = None

Rendered = tuple[int, bytes | None, str]  # (invoice id, PDF or None, error)


def default_workers() -> int:
    """One rendering process per core."""
    return os.cpu_count() or 1


def orders_missing_invoice() -> list[int]:
    query = (
        select(Order.id)
        .outerjoin(Invoice, Invoice.order_id == Order.id)
        .where(Order.status.in_([str(s) for s in INVOICEABLE]), Invoice.id.is_(None))
        .order_by(Order.paid_at, Order.id)
    )
    return list(db.session.scalars(query))


def invoices_to_render(regenerate: bool) -> list[int]:
    """Issued and void invoices: all of them (regenerate) or those that have no stored PDF yet."""
    query = select(Invoice.id).where(Invoice.status != InvoiceStatus.DRAFT).order_by(Invoice.id)
    if not regenerate:
        query = query.where(Invoice.pdf_sha256.is_(None))
    return list(db.session.scalars(query))


def render_batch(ids: list[int]) -> list[Rendered]:
    """Render the PDFs of `ids`, loaded with their orders and lines in one query (two statements, not 3 each)."""
    from portal.invoices.documents import render_invoice

    query = select(Invoice).where(Invoice.id.in_(ids)).options(selectinload(Invoice.order).selectinload(Order.items))
    found = {invoice.id: invoice for invoice in db.session.scalars(query)}
    results = []
    for invoice_id in ids:
        try:
            if invoice_id not in found:
                raise LookupError(f"Invoice {invoice_id} does not exist.")
            results.append((invoice_id, render_invoice(found[invoice_id]), ""))
        except Exception as exc:  # reported by the caller, which goes on with the rest
            results.append((invoice_id, None, str(exc)))
    return results


def _init_worker(config_name: str, overrides: dict) -> None:
    global _worker_app  # one app per worker process, built once
    from portal import create_app
    from portal.config import CONFIGS

    _worker_app = create_app(CONFIGS[config_name], **overrides)
    with _worker_app.app_context():
        warm_up()  # fonts parsed and the start-up heap frozen once per worker, before the first batch


def _render_in_worker(ids: list[int]) -> list[Rendered]:
    with _worker_app.app_context():
        try:
            return render_batch(ids)
        finally:
            db.session.remove()


def _batches(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


def render_many(ids: list[int], workers: int) -> Iterator[list[Rendered]]:
    """Batches of (invoice_id, pdf or None, error), in the order they finish; on `workers` processes for a large
    run, else here."""
    if workers <= 1 or len(ids) < PARALLEL_THRESHOLD:
        if len(ids) >= PARALLEL_THRESHOLD:  # a long run here, as --workers 1 asks: set up as a worker does
            warm_up()
        for batch in _batches(ids):
            yield render_batch(batch)
        return
    config = current_app.config
    overrides = {key: config[key] for key in WORKER_CONFIG_KEYS if config.get(key) is not None}
    name = config.get("ENV_NAME", "development")
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(name, overrides)) as pool:
        yield from pool.imap_unordered(_render_in_worker, _batches(ids))


def store_batch(batch: list[Rendered], *, actor: Actor, reason: str) -> tuple[int, list[str]]:
    """Store a rendered batch: (PDFs stored, failures). One transaction for the batch; if that is refused, each
    PDF on its own, so that only the invoice at fault fails."""
    failures = [f"invoice {invoice_id}: {error}" for invoice_id, data, error in batch if data is None]
    pdfs = {invoice_id: data for invoice_id, data, _ in batch if data is not None}
    try:
        store_rendered_pdfs(pdfs, actor=actor, reason=reason)
        return len(pdfs), failures
    except Exception:  # isolated below, where each failure is reported with its reason
        stored = 0
    for invoice_id, data in pdfs.items():
        try:
            store_rendered_pdf(invoice_id, data, actor=actor, reason=reason)
            stored += 1
        except Exception as exc:
            failures.append(f"invoice {invoice_id}: {exc}")
    return stored, failures
