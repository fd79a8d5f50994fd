"""Figures for the dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.models import Order
from portal.orders.status import OrderStatus
from portal.payments.models import Payment
from portal.payments.status import SETTLED
from portal.timeutil import utcnow


def orders_by_status() -> dict[str, int]:
    rows = db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
    counts = {str(s): 0 for s in OrderStatus}
    counts.update(dict(rows))
    return counts


def net_revenue(days: int | None = None) -> int:
    """Captured minus refunded, in minor units, for payments captured in the last `days` days."""
    query = select(func.coalesce(func.sum(Payment.amount - Payment.amount_refunded), 0)).where(
        Payment.status.in_([str(s) for s in SETTLED])
    )
    if days is not None:
        query = query.where(Payment.captured_at >= utcnow() - timedelta(days=days))
    return int(db.session.scalar(query))


def summary() -> dict:
    return {
        "orders_by_status": orders_by_status(),
        "revenue": {
            label: net_revenue(days)
            for label, days in (("today", 1), ("7 days", 7), ("30 days", 30), ("all time", None))
        },
    }
