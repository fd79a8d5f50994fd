from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, one_of
from portal.timeutil import utcnow


class WebhookStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        one_of("status", WebhookStatus),
        Index("ix_webhook_events_status_received", "status", "received_at", "id"),
        Index("ix_webhook_events_type_received", "event_type", "received_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="razorpay")
    event_id: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default=WebhookStatus.PENDING)
    signature_valid: Mapped[bool] = mapped_column(default=True)
    headers: Mapped[dict | None] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(Text)  # the raw body, exactly as received
    gateway_payment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    gateway_order_id: Mapped[str | None] = mapped_column(String(40), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)  # what processing did, e.g. "stale: payment already captured"
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class WebhookRejection(db.Model):
    """Counts of rejected deliveries per day and reason: visible to ops, bounded in size."""

    __tablename__ = "webhook_rejections"
    __table_args__ = (UniqueConstraint("day", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(default=0)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
