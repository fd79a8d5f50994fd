"""What a vendor's staff user may see: its own vendor's orders (and their payments, refunds, invoices).

Every view open to vendors (`role_required(..., vendors=True)`, `staff_blueprint_guard(..., vendors=True)`)
scopes its queries with `scope_orders` and checks single objects with `require_order_access`; another
vendor's object answers 404, so its existence is not revealed.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user


def current_vendor_id() -> int | None:
    """The signed-in vendor user's vendor id; None for everyone else (admins, finance, viewers see all)."""
    if getattr(current_user, "is_authenticated", False) and current_user.is_vendor:
        return current_user.vendor_id
    return None


def scope_orders(query, order_column=None):
    """`query` limited to the current vendor's orders (unchanged for non-vendors). `order_column` is the
    column holding an order id when the query is not on Order itself (Payment.order_id, Refund.order_id …)."""
    from sqlalchemy import select

    from portal.orders.models import Order

    vendor_id = current_vendor_id()
    if vendor_id is None:
        return query
    if order_column is None:
        return query.where(Order.vendor_id == vendor_id)
    return query.where(order_column.in_(select(Order.id).where(Order.vendor_id == vendor_id)))


def require_order_access(order) -> None:
    """404 unless the current user may see `order` (a vendor: only its own vendor's)."""
    vendor_id = current_vendor_id()
    if order is None or (vendor_id is not None and order.vendor_id != vendor_id):
        abort(404)
