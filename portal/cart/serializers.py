"""Cart and checkout → the API's JSON shapes (plain dicts the schemas validate)."""

from __future__ import annotations

from datetime import UTC

from portal.cart.view import CartView
from portal.vendors.models import Vendor


def _utc(moment):
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def vendor_ref(vendor: Vendor | None) -> dict | None:
    return {"id": vendor.id, "name": vendor.name} if vendor is not None else None


def cart(view: CartView) -> dict:
    lines = []
    for priced in view.lines:
        line, product, f = priced.line, priced.product, priced.figures
        base = product.price * f.days if f.days is not None else product.price
        lines.append(
            {
                "id": line.id,
                "product_id": product.id,
                "title": product.title,
                "kind": str(product.kind),
                "vendor_id": product.vendor_id,
                "quantity": line.quantity,
                "options": [{"code": o.code, "label": o.label, "price": o.delta(base)} for o in priced.options],
                "rental_start": line.rental_start,
                "rental_end": line.rental_end,
                "days": f.days,
                "unit_price": f.unit_price,
                "taxable": f.taxable + f.fee,
                "tax": f.tax + f.fee_tax,
                "deposit": f.deposit,
                "line_total": f.line_total,
                "currency": product.currency,
            }
        )
    vendors = [
        {
            "vendor": vendor_ref(group.lines[0].product.vendor) if group.vendor_id else None,
            "line_ids": [p.line.id for p in group.lines],
            "subtotal": group.subtotal,
        }
        for group in view.vendors
    ]
    return {
        "id": view.cart.id,
        "lines": lines,
        "vendors": vendors,
        "subtotal": view.subtotal,
        "discount": view.discount,
        "discount_code": view.cart.discount_code,
        "tax": view.tax,
        "deposits": view.deposits,
        "total": view.total,
        "currency": view.currency,
        "problems": view.problems,
    }


def checkout_vendors(checkout, vendors: dict[int, Vendor]) -> list[dict]:
    """One entry per vendor of the snapshot with what its order will total."""
    totals: dict[int | None, int] = {}
    for line in checkout.lines:
        key = line.get("vendor_id")
        totals[key] = totals.get(key, 0) + line["total_due"]
    return [{"vendor": vendor_ref(vendors.get(k)) if k else None, "amount": v} for k, v in totals.items()]


def checkout_order(order) -> dict:
    return {
        "id": order.id,
        "number": order.number,
        "vendor": vendor_ref(order.vendor),
        "amount": order.total,
        "currency": order.currency,
        "status": str(order.status),
        "fulfilment_status": str(order.fulfilment_status),
    }


def _checkout(checkout, vendors) -> dict:
    """What every checkout body carries."""
    return {
        "id": checkout.id,
        "number": checkout.number,
        "status": str(checkout.status),
        "amount": checkout.amount,
        "currency": checkout.currency,
        "expires_at": _utc(checkout.expires_at),
        "gateway_order_id": checkout.gateway_order_id,
        "vendors": checkout_vendors(checkout, vendors),
    }


def started(checkout, vendors, key_id: str) -> dict:
    """POST /api/v1/checkout's body: the checkout parameters (key_id null when nothing is left to pay)."""
    return {**_checkout(checkout, vendors), "key_id": key_id if checkout.gateway_order_id else None}


def checkout_detail(checkout, vendors) -> dict:
    return {
        **_checkout(checkout, vendors),
        "paid_at": _utc(checkout.paid_at),
        "failure_reason": checkout.failure_reason,
        "orders": [checkout_order(o) for o in checkout.orders],
    }
