"""Gapless document numbers per series and Indian financial year (April–March).

A number is taken inside the caller's transaction: the sequence row is locked FOR UPDATE, so a concurrent
issuer waits until the first one commits (and sees its increment) or rolls back (and the value is free
again). A number therefore never repeats and is never skipped.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.dbutil import for_update
from portal.extensions import db
from portal.invoices.models import DocumentSequence

MAX_NUMBER_LENGTH = 16  # GST rule 46(b): at most 16 characters
_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]*$")  # GST allows letters, digits, '-' and '/'


class NumberFormatError(ValueError):
    """The configured prefix cannot produce a valid GST document number."""


def financial_year(day: date) -> str:
    """'2026-27' for any day from 1 April 2026 to 31 March 2027 (`day` is the business's local date:
    timeutil.local_date of the issue time, so a document issued at 00:10 on 1 April in Kolkata is 2026-27)."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def format_number(prefix: str, fy: str, sequence_no: int) -> str:
    """'INV/26-27/00001'; raises NumberFormatError when the result breaks the GST format."""
    if not _PREFIX_RE.match(prefix or ""):
        raise NumberFormatError(f"Document prefix {prefix!r} may only contain letters, digits, '-' and '/'.")
    number = f"{prefix}/{fy[2:]}/{sequence_no:05d}"
    if len(number) > MAX_NUMBER_LENGTH:
        room = MAX_NUMBER_LENGTH - len(number) + len(prefix)
        raise NumberFormatError(
            f"Document number {number!r} is longer than {MAX_NUMBER_LENGTH} characters; "
            f"shorten the prefix {prefix!r} to at most {max(room, 0)} characters."
        )
    return number


def document_series(order, kind: str) -> tuple[str, str]:
    """(series, prefix) of an order's `kind` of document ("invoice" or "credit_note"): the house's series and
    configured prefix (INVOICE_PREFIX, CREDIT_NOTE_PREFIX), or for a vendor's order the vendor's own series
    ("invoice:<vendor id>") and prefix — its invoice prefix, with a C for its credit notes ("LH", "LHC")."""
    from flask import current_app

    vendor = order.vendor if order.vendor_id else None
    if vendor is None:
        key = "INVOICE_PREFIX" if kind == "invoice" else "CREDIT_NOTE_PREFIX"
        return kind, current_app.config.get(key) or ("INV" if kind == "invoice" else "CN")
    prefix = vendor.invoice_prefix or f"V{vendor.id}"  # vendors created without one (portal.vendors assigns one)
    return f"{kind}:{vendor.id}", prefix if kind == "invoice" else prefix + "C"


def _ensure_row(series: str, fy: str) -> None:
    """Create the counter row if missing; a concurrent creator wins silently (ON CONFLICT DO NOTHING)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(DocumentSequence)
        .values(series=series, financial_year=fy, last_value=0)
        .on_conflict_do_nothing(index_elements=["series", "financial_year"])
    )
    db.session.execute(statement)


def _locked_row(series: str, fy: str) -> DocumentSequence | None:
    query = select(DocumentSequence).where(DocumentSequence.series == series, DocumentSequence.financial_year == fy)
    return db.session.scalar(for_update(query, of=DocumentSequence))


def next_sequence(series: str, fy: str) -> int:
    """Take the next value of (series, fy) in the current transaction. The caller commits."""
    row = _locked_row(series, fy)
    if row is None:
        _ensure_row(series, fy)
        row = _locked_row(series, fy)
    row.last_value += 1
    db.session.flush()
    return row.last_value
