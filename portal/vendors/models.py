from __future__ import annotations

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, Timestamps


class Vendor(Timestamps, db.Model):
    """A seller on the marketplace. Products without a vendor belong to the house (SELLER_* config).

    Its orders are invoiced in its own name and series (`invoice_prefix`), split CGST/SGST vs IGST by
    `state`; with `auto_approve` off its orders wait `awaiting_vendor` until its staff accept them.
    """

    __tablename__ = "vendors"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    gstin: Mapped[str | None] = mapped_column(String(15))
    state: Mapped[str | None] = mapped_column(String(60))  # place of business: the CGST/SGST vs IGST split
    address: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(255))
    auto_approve: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    invoice_prefix: Mapped[str | None] = mapped_column(String(8), unique=True)  # its own invoice series
    brand_colour: Mapped[str | None] = mapped_column(String(7))  # "#1a7f5a"
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(String(40))  # image/png, image/jpeg

    def __repr__(self) -> str:
        return f"<Vendor {self.name}>"
