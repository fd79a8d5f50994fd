"""ORM objects → response schemas. Views never build bodies by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, request, url_for

from portal.api import schemas as s
from portal.invoices.status import InvoiceStatus
from portal.money import percent_of


def aware(moment: datetime | None) -> datetime | None:
    """Stored times are naive UTC; the API says so explicitly (RFC 3339 with an offset)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def product(item) -> s.ProductOut:
    tax = percent_of(item.price, item.tax_rate_bp)
    return s.ProductOut(
        id=item.id,
        sku=item.sku,
        title=item.title,
        description=item.description or "",
        kind=item.kind,
        price=item.price,
        tax_rate_bp=item.tax_rate_bp,
        tax=tax,
        price_with_tax=item.price + tax,
        currency=item.currency,
        in_stock=item.stock,
    )


def _item(line) -> dict:
    return {
        "product_id": line.product_id,
        "sku": line.sku,
        "title": line.title,
        "kind": line.kind,
        "unit_price": line.unit_price,
        "quantity": line.quantity,
        "tax_rate_bp": line.tax_rate_bp,
        "taxable_amount": line.taxable_amount,
        "tax_amount": line.tax_amount,
        "amount": line.line_total,
        "line_type": str(line.line_type),
        "rental_start": line.rental_start,
        "rental_end": line.rental_end,
        "returned_quantity": line.returned_quantity,
    }


def payment(row) -> dict:
    """A payment as a PaymentOut's fields (the response model validates it)."""
    return {
        "id": row.id,
        "status": str(row.status),
        "amount": row.amount,
        "currency": row.currency,
        "method": row.method,
        "gateway_payment_id": row.gateway_payment_id,
        "created_at": aware(row.created_at),
        "captured_at": aware(row.captured_at),
    }


def _refund(row) -> dict:
    return {
        "id": row.id,
        "status": str(row.status),
        "amount": row.amount,
        "currency": row.currency,
        "reason": row.reason,
        "created_at": aware(row.created_at),
        "processed_at": aware(row.processed_at),
    }


_URL_SAMPLE_ID = 2147483647  # any id the route accepts; it marks where an order's id goes in the URL
_INVOICE_URL_KEY = "portal.api_invoice_url"


def invoice_url(order_id: int) -> str:
    """url_for("api.order_invoice", order_id=...) for this request, built by url_for once per request.

    url_for costs more than the rest of an invoice link; a page of orders needs one link per order, all
    alike but for the id. Cached on the request (not on `g`: an app context can outlive one request)."""
    environ = request.environ
    parts = environ.get(_INVOICE_URL_KEY)
    if parts is None:
        head, _, tail = url_for("api.order_invoice", order_id=_URL_SAMPLE_ID).rpartition(str(_URL_SAMPLE_ID))
        parts = environ[_INVOICE_URL_KEY] = (head, tail)
    return f"{parts[0]}{order_id}{parts[1]}"


def _invoice(order_id: int, invoice) -> dict | None:
    if invoice is None or invoice.status != InvoiceStatus.ISSUED:
        return None
    return {"number": invoice.number, "url": invoice_url(order_id)}


def order(row) -> dict:
    """An Order (ORM object) as the API answers it: an OrderOut's fields."""
    return _order(row, row)


def listed_order(rows) -> dict:
    """An order of a list page, read as plain rows (queries.OrderRows): the same answer as `order`."""
    return _order(rows.order, rows)


def _order(row, children) -> dict:
    """`row` has the order's columns; `children` its items, payments, refunds and current invoice.

    Plain dicts, validated once by the response model (OrderResponse, OrderListResponse, ...): building
    an OrderOut, ItemOut, PaymentOut... per object ran pydantic's __init__ six times an order, most of the
    cost of serializing a page; pydantic-core validates the same dicts in one call for a fraction of it."""
    return {
        "id": row.id,
        "number": row.number,
        "status": str(row.status),
        "amount": row.total,
        "currency": row.currency,
        "subtotal": row.subtotal,
        "discount": row.discount,
        "tax": row.tax,
        "created_at": aware(row.created_at),
        "expires_at": aware(row.expires_at),
        "paid_at": aware(row.paid_at),
        "gateway_order_id": row.gateway_order_id,
        "payment_link_url": row.payment_link_url,
        "refund_due": bool(row.needs_refund),
        "fulfilment_status": str(row.fulfilment_status),
        "vendor": _vendor(children.vendor),
        "tracking": {"carrier": row.carrier, "number": row.tracking_number} if row.tracking_number else None,
        "items": [_item(line) for line in children.items],
        "payments": [payment(p) for p in children.payments],
        "refunds": [_refund(r) for r in children.refunds],
        "invoice": _invoice(row.id, children.invoice),
    }


def _vendor(vendor) -> dict | None:
    return {"id": vendor.id, "name": vendor.name} if vendor is not None else None


def callback_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"] + "/payments/razorpay/callback"


def checkout(row, gateway) -> s.CheckoutOut | None:
    """The parameters a Razorpay checkout needs, when the order is payable and has its gateway order."""
    if not row.is_payable or not row.gateway_order_id:
        return None
    customer = row.customer
    prefill = {"name": customer.name or "", "email": customer.email, "contact": customer.phone or ""}
    return s.CheckoutOut(
        key_id=gateway.key_id,
        gateway_order_id=row.gateway_order_id,
        amount=row.total,
        currency=row.currency,
        name=current_app.config.get("SELLER_NAME", ""),
        description=f"Order {row.number}",
        prefill=prefill,
        callback_url=callback_url(),
        checkout_url=gateway.checkout_url(row.gateway_order_id, prefill),
    )


def payment_link(row) -> s.PaymentLinkOut:
    return s.PaymentLinkOut(
        order_id=row.id, payment_link_id=row.payment_link_id, url=row.payment_link_url, expires_at=aware(row.expires_at)
    )
