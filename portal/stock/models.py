from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.modelutil import Timestamps, one_of


class ReservationStatus(StrEnum):
    HELD = "held"  # counts against availability until expires_at
    COMMITTED = "committed"  # became a sale (goods: stock taken; rentals: the dates stay booked)
    RELEASED = "released"  # expired, payment failed, cancelled: counts for nothing


class Reservation(Timestamps, db.Model):
    """Units of one product held for a checkout. Availability of a good = stock − live holds; of a rental
    for dates = units owned − every held or committed booking whose dates overlap."""

    __tablename__ = "reservations"
    __table_args__ = (
        one_of("status", ReservationStatus),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("rental_end IS NULL OR rental_start <= rental_end", name="rental_dates_ordered"),
        # Live holds of a product (goods availability) and the release schedule's scan.
        Index("ix_reservations_product_status_expires", "product_id", "status", "expires_at"),
        Index("ix_reservations_status_expires", "status", "expires_at"),
        # A rental's bookings overlapping [start, end]: rental_end >= start AND rental_start <= end.
        Index("ix_reservations_product_rental", "product_id", "rental_end", "rental_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=ReservationStatus.HELD)
    expires_at: Mapped[datetime | None]  # a hold's end; None once committed or released
    rental_start: Mapped[date | None] = mapped_column(Date)
    rental_end: Mapped[date | None] = mapped_column(Date)
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id", ondelete="SET NULL"), index=True)
    released_reason: Mapped[str | None] = mapped_column(String(120))

    checkout = relationship("Checkout", back_populates="reservations")
    product = relationship("Product")
