from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint, column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.invoices.status import InvoiceStatus
from portal.modelutil import NEVER_REUSE_IDS, Timestamps, non_negative, one_of
from portal.search import trigram_index


class DocumentSequence(db.Model):
    """Gapless counters per series and Indian financial year; the row is locked while a number is taken."""

    __tablename__ = "document_sequences"
    __table_args__ = (UniqueConstraint("series", "financial_year"), *non_negative("last_value"))

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(20))  # invoice, credit_note
    financial_year: Mapped[str] = mapped_column(String(7))  # 2026-27
    last_value: Mapped[int] = mapped_column(default=0)


class Invoice(Timestamps, db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        one_of("status", InvoiceStatus),
        *non_negative("subtotal", "tax", "cgst", "sgst", "igst", "total"),
        UniqueConstraint("series", "financial_year", "sequence_no"),
        Index("ix_invoices_issued_at", "issued_at", "id"),
        Index("ix_invoices_order_id", "order_id"),
        # An order has at most one invoice that is not void: a voided one keeps its number and a new
        # invoice (with a new number) may replace it. The database settles two concurrent issuers.
        Index(
            "uq_invoices_order_current",
            "order_id",
            unique=True,
            postgresql_where=text("status <> 'void'"),
            sqlite_where=text("status <> 'void'"),
        ),
        Index("ix_invoices_total", "total"),  # the search box's exact-amount match
        # A status tab in the list's order (issued_at DESC, id DESC): a rare status ("void") reads its own
        # entries only, where the date index would be walked past every issued invoice.
        Index("ix_invoices_status_issued", "status", "issued_at", "id"),
        trigram_index("ix_invoices_number_trgm", column("number"), "number_trgm"),  # a part of a number
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    # The number series: "invoice" for the house, "invoice:<vendor id>" for a vendor (its own prefix).
    series: Mapped[str] = mapped_column(String(20), default="invoice", server_default="invoice")
    financial_year: Mapped[str | None] = mapped_column(String(7))
    sequence_no: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT, index=True)
    issued_at: Mapped[datetime | None]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(default=0)
    tax: Mapped[int] = mapped_column(default=0)
    cgst: Mapped[int] = mapped_column(default=0)
    sgst: Mapped[int] = mapped_column(default=0)
    igst: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    seller: Mapped[dict | None] = mapped_column(JSON)  # snapshot of the issuer at issue time
    buyer: Mapped[dict | None] = mapped_column(JSON)
    place_of_supply: Mapped[str | None] = mapped_column(String(60))
    payment_reference: Mapped[str | None] = mapped_column(String(40))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_generated_at: Mapped[datetime | None]
    billing_edited_at: Mapped[datetime | None]  # a PDF rendered before this is out of date
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(String(255))

    order = relationship("Order", back_populates="invoices")
    credit_notes: Mapped[list[CreditNote]] = relationship(back_populates="invoice", order_by="CreditNote.id")


class CreditNote(Timestamps, db.Model):
    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("series", "financial_year", "sequence_no"),
        *non_negative("amount", "tax"),
        trigram_index("ix_credit_notes_number_trgm", column("number"), "number_trgm"),  # a part of a number
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="RESTRICT"), unique=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    # "credit_note" for the house, "credit_note:<vendor id>" for a vendor's invoice (its own prefix).
    series: Mapped[str] = mapped_column(String(20), default="credit_note", server_default="credit_note")
    financial_year: Mapped[str] = mapped_column(String(7))
    sequence_no: Mapped[int]
    issued_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]
    tax: Mapped[int] = mapped_column(default=0)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    invoice: Mapped[Invoice] = relationship(back_populates="credit_notes")
    refund = relationship("Refund")
