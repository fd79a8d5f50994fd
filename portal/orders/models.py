from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, Timestamps, non_negative, one_of
from portal.orders.status import ORDER, PAYABLE, FulfilmentStatus, OrderStatus
from portal.search import trigram_index


class CaptureMode(StrEnum):
    """Who captures an authorized payment: the gateway or we at once (auto, Razorpay's `payment_capture=1`),
    or finance with the portal's Capture action (manual, `payment_capture=0`)."""

    AUTO = "auto"
    MANUAL = "manual"


class Order(Timestamps, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        one_of("status", OrderStatus),
        one_of("fulfilment_status", FulfilmentStatus),
        one_of("capture_mode", CaptureMode),
        *non_negative("subtotal", "discount", "tax", "total"),
        UniqueConstraint("customer_id", "idempotency_key"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_customer_created", "customer_id", "created_at", "id"),
        Index("ix_orders_total", "total"),
        # Admin list keyset pages: (sort column, id) so a seek + ORDER BY ... LIMIT reads only one page.
        Index("ix_orders_created_id", "created_at", "id"),
        Index("ix_orders_status_total", "status", "total", "id"),
        Index("ix_orders_billing_gstin", "billing_gstin"),  # the invoices list's search by GSTIN
        # The search box's email prefix (`LIKE 'asha%'`): a plain index serves LIKE only under the C collation.
        Index(
            "ix_orders_billing_email_prefix", "billing_email", postgresql_ops={"billing_email": "varchar_pattern_ops"}
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(default=0)
    discount: Mapped[int] = mapped_column(default=0)
    tax: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(30), default=OrderStatus.PENDING)
    fulfilment_status: Mapped[str] = mapped_column(String(30), default=FulfilmentStatus.NOT_REQUIRED, index=True)
    gateway_order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    receipt: Mapped[str | None] = mapped_column(String(40))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    notes: Mapped[dict | None] = mapped_column(JSON)
    capture_mode: Mapped[str] = mapped_column(String(10), default=CaptureMode.AUTO, server_default=CaptureMode.AUTO)
    needs_refund: Mapped[bool] = mapped_column(default=False, index=True)  # payment landed after cancel/expiry
    payment_link_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    payment_link_url: Mapped[str | None] = mapped_column(String(255))
    billing_name: Mapped[str | None] = mapped_column(String(120))
    billing_email: Mapped[str | None] = mapped_column(String(255), index=True)
    billing_address: Mapped[str | None] = mapped_column(Text)
    billing_state: Mapped[str | None] = mapped_column(String(60))
    billing_gstin: Mapped[str | None] = mapped_column(String(15))
    # Marketplace: the vendor whose order this is (None = the house), and the checkout it came from.
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id", ondelete="RESTRICT"), index=True)
    # Shipping (the fulfilment machine): set when the order moves to `shipped`.
    carrier: Mapped[str | None] = mapped_column(String(60))
    tracking_number: Mapped[str | None] = mapped_column(String(80))

    customer = relationship("User", lazy="joined", innerjoin=True)
    vendor = relationship("Vendor")
    checkout = relationship("Checkout", back_populates="orders")
    allocations = relationship("PaymentAllocation", back_populates="order", order_by="PaymentAllocation.id")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    # Every payment that paid (part of) this order: through the allocation rows, so a checkout's one payment
    # shows on each vendor order it paid. Read-only: a payment is linked by creating its allocation.
    payments = relationship("Payment", secondary="payment_allocations", order_by="Payment.id", viewonly=True)
    refunds = relationship("Refund", back_populates="order", order_by="Refund.id", viewonly=True)
    invoices = relationship("Invoice", back_populates="order", order_by="Invoice.id")

    @property
    def invoice(self):
        """The order's current invoice: the one that is not void, else the last voided one (None if never)."""
        return current_invoice(self.invoices)

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE

    def can_move_to(self, status: str) -> bool:
        return ORDER.can(self.status, status)

    @property
    def next_statuses(self) -> list[str]:
        return sorted(ORDER.next_states(self.status))

    @property
    def has_physical_items(self) -> bool:
        return self.fulfilment_status != FulfilmentStatus.NOT_REQUIRED

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


def current_invoice(invoices):
    """Of an order's invoices (oldest first; rows or objects with a `status`), the current one: the one that
    is not void, else the last voided one, else None. Order.invoice, and the API's list that reads rows."""
    current = [i for i in invoices if i.status != "void"]
    return current[-1] if current else (invoices[-1] if invoices else None)


# The lists' search by the start of a customer's name, in any case: `lower(billing_name) LIKE 'asha%'`.
# varchar_pattern_ops lets PostgreSQL use the index for LIKE whatever the database's collation.
Index(
    "ix_orders_billing_name_lower",
    func.lower(Order.billing_name).label("billing_name_lower"),
    postgresql_ops={"billing_name_lower": "varchar_pattern_ops"},
)
# The search box's "contains" match on the customer's name and email (portal.search), any case.
trigram_index("ix_orders_billing_name_trgm", func.lower(Order.billing_name), "billing_name_trgm")
trigram_index("ix_orders_billing_email_trgm", Order.billing_email, "billing_email_trgm")


class LineType(StrEnum):
    ITEM = "item"  # a course, good or service sold
    RENTAL = "rental"  # a rented item for rental_start..rental_end (days × daily price)
    DEPOSIT = "deposit"  # a rental's refundable security deposit (no GST)
    FEE = "fee"  # a charge of its own (delivery, damages kept from a deposit)


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (
        *non_negative("unit_price", "quantity", "tax_rate_bp", "taxable_amount", "tax_amount", "returned_quantity"),
        one_of("line_type", LineType),
        CheckConstraint("returned_quantity <= quantity", name="returned_at_most_sold"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))  # snapshot at order time
    kind: Mapped[str] = mapped_column(String(20))
    hsn_sac: Mapped[str] = mapped_column(String(8))
    unit_price: Mapped[int]  # snapshot, minor units, exclusive of tax
    quantity: Mapped[int]
    tax_rate_bp: Mapped[int]
    taxable_amount: Mapped[int]  # unit_price × quantity
    tax_amount: Mapped[int]
    line_type: Mapped[str] = mapped_column(String(10), default=LineType.ITEM, server_default=LineType.ITEM)
    options: Mapped[list | None] = mapped_column(JSON)  # [{"code", "label", "price"}] chosen, snapshot
    rental_start: Mapped[date | None] = mapped_column(Date)
    rental_end: Mapped[date | None] = mapped_column(Date)
    returned_quantity: Mapped[int] = mapped_column(default=0, server_default="0")  # units come back (restocked)

    order: Mapped[Order] = relationship(back_populates="items")

    @hybrid_property
    def line_total(self) -> int:
        return self.taxable_amount + self.tax_amount
