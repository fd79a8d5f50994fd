from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.modelutil import Timestamps, non_negative, one_of


class ProductKind(StrEnum):
    COURSE = "course"
    PHYSICAL = "physical"


class Product(Timestamps, db.Model):
    __tablename__ = "products"
    __table_args__ = (
        one_of("kind", ProductKind),
        *non_negative("price", "tax_rate_bp"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_non_negative"),
        CheckConstraint("tax_rate_bp <= 10000", name="tax_rate_at_most_100_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default=ProductKind.COURSE, index=True)
    price: Mapped[int]  # minor units, exclusive of tax
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    tax_rate_bp: Mapped[int] = mapped_column(default=1800)  # basis points: 1800 = 18% GST
    hsn_sac: Mapped[str] = mapped_column(String(8), default="999293")
    active: Mapped[bool] = mapped_column(default=True, index=True)
    stock: Mapped[int | None]  # None: not tracked (courses)

    @property
    def is_physical(self) -> bool:
        return self.kind == ProductKind.PHYSICAL
