"""What a vendor's staff user may see: its own vendor's orders (and their payments, refunds, invoices).

Every view open to vendors (`role_required(..., vendors=True)`, `staff_blueprint_guard(..., vendors=True)`)
scopes its queries with `scope_orders` (or the same condition, `vendor_clause`, in a list's filter) and checks
single objects with `require_order_access` — or, for a whole blueprint, `guard_objects`, which checks every
`<int:…_id>` of its URLs before the view runs. Another vendor's object answers 404, so its existence is not
revealed.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user


def current_vendor_id() -> int | None:
    """The signed-in vendor user's vendor id; None for everyone else (admins, finance, viewers see all)."""
    if getattr(current_user, "is_authenticated", False) and current_user.is_vendor:
        return current_user.vendor_id
    return None


def vendor_clause(order_column=None):
    """The condition `scope_orders` applies (None for non-vendors): the order is the current vendor's.
    `order_column` holds an order id when the rows are not orders (Payment.order_id, Refund.order_id …)."""
    from sqlalchemy import select

    from portal.orders.models import Order

    vendor_id = current_vendor_id()
    if vendor_id is None:
        return None
    if order_column is None:
        return Order.vendor_id == vendor_id
    return order_column.in_(select(Order.id).where(Order.vendor_id == vendor_id))


def scope_orders(query, order_column=None):
    """`query` limited to the current vendor's orders (unchanged for non-vendors). `order_column` is the
    column holding an order id when the query is not on Order itself (Payment.order_id, Refund.order_id …)."""
    clause = vendor_clause(order_column)
    return query if clause is None else query.where(clause)


def require_order_access(order) -> None:
    """404 unless the current user may see `order` (a vendor: only its own vendor's)."""
    vendor_id = current_vendor_id()
    if order is None or (vendor_id is not None and order.vendor_id != vendor_id):
        abort(404)


def guard_objects(blueprint, **order_ids) -> None:
    """Before every view of `blueprint`: for a vendor user, each URL argument named in `order_ids` must
    belong to one of its vendor's orders, else 404. Each value maps the argument to a SELECT of the
    order ids its object belongs to (a checkout's payment belongs to several orders: one is enough)."""
    from sqlalchemy import exists, select

    from portal.extensions import db
    from portal.orders.models import Order

    @blueprint.before_request
    def _only_own_objects():
        vendor_id = current_vendor_id()
        if vendor_id is None:
            return
        for name, order_ids_of in order_ids.items():
            value = (request.view_args or {}).get(name)
            if value is None:
                continue
            owned = exists().where(Order.id.in_(order_ids_of(value)), Order.vendor_id == vendor_id)
            if not db.session.scalar(select(owned)):
                abort(404)
