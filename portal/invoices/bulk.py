"""Bulk work for `flask invoices generate`: finding what to do, and rendering PDFs on both cores.

Rendering is CPU-bound Python (xhtml2pdf + reportlab), so threads would share one core; a large run uses a
pool of worker processes instead. Each worker builds its own app and database engine (nothing is inherited
from the parent: the pool uses `spawn`), reads the invoice and returns the PDF bytes; the parent stores each
result in its own short transaction, so a crash loses at most the PDFs in flight and never a number.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.invoices.models import Invoice
from portal.invoices.services import INVOICEABLE
from portal.invoices.status import InvoiceStatus
from portal.orders.models import Order

PARALLEL_THRESHOLD = 40  # below this, starting two interpreters costs more than it saves
WORKER_CONFIG_KEYS = ("SQLALCHEMY_DATABASE_URI", "INVOICE_FONT_DIR", "SANDBOX_DATABASE_URL")
_worker_app = None


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


def _init_worker(config_name: str, overrides: dict) -> None:
    global _worker_app  # one app per worker process, built once
    from portal import create_app
    from portal.config import CONFIGS

    _worker_app = create_app(CONFIGS[config_name], **overrides)


def _render_one(invoice_id: int) -> tuple[int, bytes | None, str]:
    from portal.invoices.documents import render_invoice

    with _worker_app.app_context():
        try:
            return invoice_id, render_invoice(db.session.get(Invoice, invoice_id)), ""
        except Exception as exc:  # reported by the parent, which goes on with the rest
            return invoice_id, None, str(exc)
        finally:
            db.session.remove()


def _render_here(ids: list[int]) -> Iterator[tuple[int, bytes | None, str]]:
    from portal.invoices.documents import render_invoice

    for invoice_id in ids:
        try:
            yield invoice_id, render_invoice(db.session.get(Invoice, invoice_id)), ""
        except Exception as exc:
            yield invoice_id, None, str(exc)


def render_many(ids: list[int], workers: int) -> Iterator[tuple[int, bytes | None, str]]:
    """(invoice_id, pdf or None, error) for each id, in the order they finish."""
    if workers <= 1 or len(ids) < PARALLEL_THRESHOLD:
        yield from _render_here(ids)
        return
    config = current_app.config
    overrides = {key: config[key] for key in WORKER_CONFIG_KEYS if config.get(key) is not None}
    name = config.get("ENV_NAME", "development")
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(name, overrides)) as pool:
        yield from pool.imap_unordered(_render_one, ids, chunksize=8)
