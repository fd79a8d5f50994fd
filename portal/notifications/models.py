"""The outbox: one row per message, written in the transaction of the change it is about."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, one_of
from portal.timeutil import utcnow


class MessageStatus(StrEnum):
    QUEUED = "queued"  # waiting for (another) send attempt
    SENT = "sent"
    FAILED = "failed"  # gave up after the attempt limit, or the template failed; resend is an admin action
    NOT_SENT = "not_sent"  # no SMTP_URL: kept, readable in the portal, never sent


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        one_of("status", MessageStatus),
        one_of("audience", Audience),
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at", "id"),
        Index("ix_outbox_messages_created", "created_at", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a retried job, a duplicate webhook or a raced callback writes the same key, so one message.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # e.g. payment_received, staff_new_paid_order
    audience: Mapped[str] = mapped_column(String(20), default=Audience.CUSTOMER)
    recipient: Mapped[str] = mapped_column(String(255), index=True)
    subject: Mapped[str] = mapped_column(String(255), default="")  # filled when rendered
    status: Mapped[str] = mapped_column(String(20), default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    # A send job's claim: while it is in the future, one job is rendering and sending this row (see services).
    sending_until: Mapped[datetime | None]
    # What the templates need beyond the linked rows (plain JSON values: ids, strings, integer paise).
    context: Mapped[dict | None] = mapped_column(JSON)
    body_text: Mapped[str | None] = mapped_column(Text)  # the rendered message, as sent (preview)
    body_html: Mapped[str | None] = mapped_column(Text)
    # The attachments of the last rendering, by name: [{"filename", "mimetype", "size"}] (the bytes are not kept).
    attachments: Mapped[list | None] = mapped_column(JSON)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
