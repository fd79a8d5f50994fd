from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.cart.status import CheckoutStatus
from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, Timestamps, non_negative, one_of


class Cart(Timestamps, db.Model):
    """One per customer; lines merge by (product, options, rental dates). Prices are never stored here:
    they come from the catalogue each time the cart is read and at checkout."""

    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    discount_code: Mapped[str | None] = mapped_column(String(40))  # the pricing engine (issue 14) reads it

    customer = relationship("User")
    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.id"
    )


class CartLine(Timestamps, db.Model):
    __tablename__ = "cart_lines"
    __table_args__ = (
        # option_key: the sorted option codes joined by ","; "" when none. Dates NULL unless a rental:
        # NULLs are distinct in a unique constraint, so the merge by dates is done by the service, under the
        # cart's lock; this constraint still stops two identical non-rental lines.
        UniqueConstraint("cart_id", "product_id", "option_key", "rental_start", "rental_end"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("rental_end IS NULL OR rental_start <= rental_end", name="rental_dates_ordered"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    options: Mapped[list] = mapped_column(JSON, default=list)  # option codes, sorted
    option_key: Mapped[str] = mapped_column(String(400), default="")
    rental_start: Mapped[date | None] = mapped_column(Date)
    rental_end: Mapped[date | None] = mapped_column(Date)  # inclusive: start..end is end − start + 1 days

    cart: Mapped[Cart] = relationship(back_populates="lines")
    product = relationship("Product", lazy="joined", innerjoin=True)


class Checkout(Timestamps, db.Model):
    """The cart frozen for one payment: its priced lines, the reservations, one gateway order, and, once
    paid, one order per vendor (`orders`), the payment split between them by allocation rows."""

    __tablename__ = "checkouts"
    __table_args__ = (
        one_of("status", CheckoutStatus),
        *non_negative("amount"),
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_checkouts_status_created", "status", "created_at", "id"),
        Index("ix_checkouts_status_expires", "status", "expires_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # CHK-…, the gateway order's receipt
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=CheckoutStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int]  # the whole amount due (all vendors, tax and deposits included)
    payment_method: Mapped[str] = mapped_column(String(20), default="razorpay")
    gateway_order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    paid_at: Mapped[datetime | None]
    # The priced cart at checkout time: [{"product_id", "vendor_id", "quantity", "options", "rental_start",
    # "rental_end", "unit_price", "taxable", "tax", "deposit", ...}] — the orders are built from this, never
    # from today's catalogue.
    lines: Mapped[list] = mapped_column(JSON, default=list)
    failure_reason: Mapped[str | None] = mapped_column(Text)  # why it ended refunded/failed, for the customer

    customer = relationship("User")
    orders = relationship("Order", back_populates="checkout", order_by="Order.id")
    # The item type matters: a bare `Mapped[list]` maps a scalar, not a collection (the name resolves through
    # the registry; portal/stock/models.py imports nothing from here).
    reservations: Mapped[list[Reservation]] = relationship(  # noqa: F821
        back_populates="checkout", order_by="Reservation.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Checkout {self.number} {self.status}>"
