"""Read side of /admin/vendors: the list, and a vendor's page (its orders, revenue, pending approvals, products)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.catalog.models import Product
from portal.extensions import db
from portal.history.services import history_of
from portal.orders.models import Order
from portal.orders.status import FulfilmentStatus
from portal.payments.models import Payment, PaymentAllocation
from portal.payments.status import SETTLED
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus
from portal.vendors.models import Vendor

RECENT_ORDERS = 50


def list_vendors(q: str = "", active: str = "") -> list[Vendor]:
    """Every vendor by name (a marketplace has tens, not thousands), optionally searched or by status."""
    query = select(Vendor).order_by(Vendor.name)
    if q:
        query = query.where(func.lower(Vendor.name).like(f"%{q.lower()}%"))
    if active in ("yes", "no"):
        query = query.where(Vendor.active.is_(active == "yes"))
    return list(db.session.scalars(query))


def product_counts() -> dict[int, int]:
    statement = (
        select(Product.vendor_id, func.count()).where(Product.vendor_id.is_not(None)).group_by(Product.vendor_id)
    )
    return dict(db.session.execute(statement).all())


def figures(vendor_id: int) -> dict:
    """Paid (captured allocations of its orders), refunded (processed refunds of its orders), revenue = paid −
    refunded, per currency; orders and pending approvals (awaiting_vendor) counted."""
    orders = select(Order.id).where(Order.vendor_id == vendor_id)
    paid = dict(
        db.session.execute(
            select(PaymentAllocation.currency, func.sum(PaymentAllocation.amount))
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.order_id.in_(orders), Payment.status.in_([str(s) for s in SETTLED]))
            .group_by(PaymentAllocation.currency)
        ).all()
    )
    refunded = dict(
        db.session.execute(
            select(Refund.currency, func.sum(Refund.amount))
            .where(Refund.order_id.in_(orders), Refund.status == RefundStatus.PROCESSED)
            .group_by(Refund.currency)
        ).all()
    )
    currencies = sorted(set(paid) | set(refunded)) or ["INR"]

    def count(*where) -> int:
        return db.session.scalar(select(func.count()).select_from(Order).where(Order.vendor_id == vendor_id, *where))

    return {
        "revenue": {c: int(paid.get(c) or 0) - int(refunded.get(c) or 0) for c in currencies},
        "paid": {c: int(paid.get(c) or 0) for c in currencies},
        "refunded": {c: int(refunded.get(c) or 0) for c in currencies},
        "orders": count(),
        "pending_approvals": count(Order.fulfilment_status == FulfilmentStatus.AWAITING_VENDOR),
    }


def recent_orders(vendor_id: int) -> list[Order]:
    query = select(Order).where(Order.vendor_id == vendor_id).order_by(Order.created_at.desc(), Order.id.desc())
    return list(db.session.scalars(query.limit(RECENT_ORDERS)))


def products_of(vendor_id: int) -> list[Product]:
    return list(db.session.scalars(select(Product).where(Product.vendor_id == vendor_id).order_by(Product.title)))


def vendor_history(vendor: Vendor) -> list:
    return history_of(vendor)
