from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, Timestamps, one_of
from portal.refunds.status import RefundStatus


class Refund(Timestamps, db.Model):
    __tablename__ = "refunds"
    __table_args__ = (
        one_of("status", RefundStatus),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("order_id IS NOT NULL OR checkout_id IS NOT NULL", name="refunds_an_order_or_a_checkout"),
        Index("ix_refunds_status_created", "status", "created_at", "id"),
        Index("ix_refunds_amount", "amount"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"), index=True)
    # The order whose share of the payment this refund returns. NULL only for a checkout's payment refunded
    # in full because its orders could not be created (checkout_id says which checkout; see docs/checkout.md).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id", ondelete="RESTRICT"), index=True)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(60), default="requested_by_customer")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Stable key sent as X-Refund-Idempotency: a retry after a timeout can never refund twice.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)  # double-submit guard
    initiated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(Text)
    offline_reference: Mapped[str | None] = mapped_column(String(120))
    gateway_data: Mapped[dict | None] = mapped_column(JSON)
    # A refund by order line: [{"item_id", "quantity", "amount"}]; None for a refund by amount.
    lines: Mapped[list | None] = mapped_column(JSON)

    payment = relationship("Payment", back_populates="refunds")
    order = relationship("Order")
    checkout = relationship("Checkout")
    initiated_by = relationship("User")

    @property
    def was_sent(self) -> bool:
        return self.sent_at is not None or self.gateway_refund_id is not None

    def __repr__(self) -> str:
        return f"<Refund {self.id} {self.amount} {self.status}>"
