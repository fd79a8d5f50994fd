from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, Timestamps, non_negative, one_of
from portal.payments.status import PAYMENT, SETTLED, DisputeStatus, PaymentStatus


class Payment(Timestamps, db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        one_of("status", PaymentStatus),
        *non_negative("amount", "amount_refunded"),
        Index("ix_payments_status_created", "status", "created_at", "id"),
        Index("ix_payments_amount", "amount"),
        Index("ix_payments_created_id", "created_at", "id"),  # admin list keyset pages
        # The search box's email prefix (`LIKE 'asha%'`): a plain index serves LIKE only under the C collation.
        Index("ix_payments_email_prefix", "email", postgresql_ops={"email": "varchar_pattern_ops"}),
        # ... and its "contains" match (portal.search): a pg_trgm GIN index, on PostgreSQL.
        Index(
            "ix_payments_email_trgm", "email", postgresql_using="gin", postgresql_ops={"email": "gin_trgm_ops"}
        ).ddl_if(dialect="postgresql"),
        # Dashboard revenue per day: an index-only range scan by capture time.
        Index("ix_payments_captured_at", "captured_at", postgresql_include=["status", "amount", "amount_refunded"]),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The order it pays, for a single order; NULL for a checkout's payment, which pays several vendor orders
    # (checkout_id). Either way, `allocations` say which order each part of the money paid.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id", ondelete="RESTRICT"), index=True)
    gateway_payment_id: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(30), default=PaymentStatus.CREATED)
    method: Mapped[str | None] = mapped_column(String(30), index=True)
    amount_refunded: Mapped[int] = mapped_column(default=0)  # processed refunds only
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    contact: Mapped[str | None] = mapped_column(String(30))
    fee: Mapped[int | None]
    gateway_tax: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(60))
    error_description: Mapped[str | None] = mapped_column(Text)
    error_reason: Mapped[str | None] = mapped_column(String(120))
    authorized_at: Mapped[datetime | None]
    captured_at: Mapped[datetime | None]
    gateway_data: Mapped[dict | None] = mapped_column(JSON)  # last payment entity seen from the gateway

    order = relationship("Order")
    checkout = relationship("Checkout")
    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", order_by="PaymentAllocation.id", cascade="all, delete-orphan"
    )
    refunds = relationship("Refund", back_populates="payment", order_by="Refund.id")
    disputes: Mapped[list[Dispute]] = relationship(back_populates="payment", order_by="Dispute.id")

    @property
    def is_settled(self) -> bool:
        return self.status in SETTLED

    @property
    def next_statuses(self) -> list[str]:
        return sorted(PAYMENT.next_states(self.status))

    def __repr__(self) -> str:
        return f"<Payment {self.gateway_payment_id} {self.status}>"


class PaymentAllocation(db.Model):
    """The part of a payment that paid one order: one row for a single order's payment (its whole amount),
    one per vendor order for a checkout's payment. A refund of an order refunds at most its share."""

    __tablename__ = "payment_allocations"
    __table_args__ = (UniqueConstraint("payment_id", "order_id"), *non_negative("amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    order = relationship("Order", back_populates="allocations")


class Dispute(Timestamps, db.Model):
    __tablename__ = "disputes"
    __table_args__ = (one_of("status", DisputeStatus), *non_negative("amount"))

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    gateway_dispute_id: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=DisputeStatus.OPEN, index=True)
    phase: Mapped[str | None] = mapped_column(String(30))
    reason_code: Mapped[str | None] = mapped_column(String(60))
    respond_by: Mapped[datetime | None]
    gateway_data: Mapped[dict | None] = mapped_column(JSON)

    payment: Mapped[Payment] = relationship(back_populates="disputes")
