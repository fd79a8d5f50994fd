from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.modelutil import Timestamps, non_negative, one_of


class ProductKind(StrEnum):
    COURSE = "course"  # digital: no stock, nothing to ship
    GOOD = "good"  # stocked, shipped, restocked when it comes back
    RENTAL = "rental"  # stock = units owned; booked by dates (rental_start..rental_end), priced per day
    SERVICE = "service"  # work done for the customer: no stock, nothing to ship


SHIPPED_KINDS = frozenset({ProductKind.GOOD, ProductKind.RENTAL})  # kinds that go through fulfilment


class Product(Timestamps, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        one_of("kind", ProductKind),
        *non_negative("price", "tax_rate_bp", "deposit"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_non_negative"),
        CheckConstraint("tax_rate_bp <= 10000", name="tax_rate_at_most_100_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default=ProductKind.COURSE, index=True)
    price: Mapped[int]  # minor units, exclusive of tax; per day for a rental
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    tax_rate_bp: Mapped[int] = mapped_column(default=1800)  # basis points: 1800 = 18% GST
    hsn_sac: Mapped[str] = mapped_column(String(8), default="999293")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    stock: Mapped[int | None]  # None: not tracked (unlimited); for a rental, the units owned
    # A rental's refundable security deposit per unit (minor units, no GST): its own invoice line, `deposit`.
    deposit: Mapped[int] = mapped_column(default=0, server_default="0")
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)

    vendor = relationship("Vendor", lazy="joined")
    options: Mapped[list[ProductOption]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductOption.position, ProductOption.id"
    )

    @property
    def is_physical(self) -> bool:
        """Goods and rentals are shipped (the fulfilment machine); courses and services are not."""
        return self.kind in SHIPPED_KINDS

    @property
    def is_rental(self) -> bool:
        return self.kind == ProductKind.RENTAL


class OptionPricing(StrEnum):
    PER_UNIT = "per_unit"  # the delta is added to each unit
    PER_LINE = "per_line"  # the delta is added once per line


class ProductOption(Timestamps, db.Model):
    """A priced extra a customer may choose on a line (gift wrap, express setup, a premium level).

    `price` is a fixed delta in minor units; `percent_bp` a percentage of the unit price (basis points).
    The pricing engine (issue 14) owns how they combine; until then a line's unit price is the product's
    price plus each chosen option's per-unit delta, and per-line deltas are added once.
    """

    __tablename__ = "product_options"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        one_of("pricing", OptionPricing),
        *non_negative("price", "percent_bp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    price: Mapped[int] = mapped_column(default=0)
    percent_bp: Mapped[int] = mapped_column(default=0)
    pricing: Mapped[str] = mapped_column(String(10), default=OptionPricing.PER_UNIT)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    extra: Mapped[dict | None] = mapped_column(JSON)  # room for the pricing engine's rules

    product: Mapped[Product] = relationship(back_populates="options")
