"""One order per vendor from a paid checkout's snapshot (never from today's catalogue), each paid by its
allocation of the checkout's one payment. Runs inside `complete_checkout_payment`'s transaction."""

from __future__ import annotations

from datetime import date

from portal.catalog.models import SHIPPED_KINDS
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.orders.models import LineType, Order, OrderItem
from portal.orders.services import billing_fields, new_order_number
from portal.orders.status import ORDER, FulfilmentStatus, OrderStatus
from portal.payments.models import PaymentAllocation
from portal.statemachine import advance_to
from portal.vendors.models import Vendor


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def vendor_groups(lines: list[dict]) -> dict[int | None, list[tuple[int, dict]]]:
    """{vendor id (None = the house): [(line index, line)]}, vendors in the order they first appear."""
    groups: dict[int | None, list[tuple[int, dict]]] = {}
    for index, line in enumerate(lines):
        groups.setdefault(line.get("vendor_id"), []).append((index, line))
    return groups


def _items(line: dict) -> list[OrderItem]:
    """The invoice lines of one snapshot line: the item (or rental), its per-line options (a fee), its deposit."""
    start, end = _date(line.get("rental_start")), _date(line.get("rental_end"))
    common = {"product_id": line["product_id"], "sku": line["sku"], "kind": line["kind"], "hsn_sac": line["hsn_sac"]}
    rental = line["kind"] == "rental"
    items = [
        OrderItem(
            **common,
            title=line["title"],
            unit_price=line["unit_price"],
            quantity=line["quantity"],
            tax_rate_bp=line["tax_rate_bp"],
            taxable_amount=line["taxable"],
            tax_amount=line["tax"],
            line_type=LineType.RENTAL if rental else LineType.ITEM,
            options=line.get("options") or None,
            rental_start=start,
            rental_end=end,
        )
    ]
    if line.get("fee"):
        items.append(
            OrderItem(
                **common,
                title=f"{line['title']}: options",
                unit_price=line["fee"],
                quantity=1,
                tax_rate_bp=line["tax_rate_bp"],
                taxable_amount=line["fee"],
                tax_amount=line["fee_tax"],
                line_type=LineType.FEE,
            )
        )
    if line.get("deposit"):
        items.append(
            OrderItem(
                **{**common, "hsn_sac": line.get("deposit_hsn_sac") or common["hsn_sac"]},
                title=f"Security deposit: {line['title']}",
                unit_price=line["deposit"] // line["quantity"],
                quantity=line["quantity"],
                tax_rate_bp=0,
                taxable_amount=line["deposit"],
                tax_amount=0,
                line_type=LineType.DEPOSIT,
                rental_start=start,
                rental_end=end,
            )
        )
    return items


def _fulfilment(vendor: Vendor | None, lines: list[dict]) -> str:
    if vendor is not None and not vendor.auto_approve:
        return FulfilmentStatus.AWAITING_VENDOR  # the vendor accepts (or rejects) it first
    shipped = any(line["kind"] in SHIPPED_KINDS for line in lines)
    return FulfilmentStatus.UNFULFILLED if shipped else FulfilmentStatus.NOT_REQUIRED


def _new_order(checkout, vendor: Vendor | None, lines: list[dict], now) -> Order:
    customer = checkout.customer
    subtotal = sum(line["taxable"] + line["fee"] + line["deposit"] for line in lines)
    tax = sum(line["tax"] + line["fee_tax"] for line in lines)
    order = Order(
        number=new_order_number(),
        customer=customer,
        currency=checkout.currency,
        subtotal=subtotal,
        discount=0,
        tax=tax,
        total=subtotal + tax,
        status=OrderStatus.PENDING,
        fulfilment_status=_fulfilment(vendor, lines),
        created_at=now,
        updated_at=now,
        vendor_id=vendor.id if vendor is not None else None,
        checkout_id=checkout.id,
        **billing_fields(customer),
    )
    order.receipt = order.number
    return order


def create_vendor_orders(checkout, payment, vendors: dict, actor: Actor, now) -> tuple[list[Order], dict[int, int]]:
    """The paid orders of `checkout` (one per vendor), their items and allocations. Returns (orders,
    {snapshot line index: the line's main order item id}) for committing the reservations."""
    orders, items_by_line = [], {}
    for vendor_id, indexed in vendor_groups(checkout.lines).items():
        lines = [line for _, line in indexed]
        order = _new_order(checkout, vendors.get(vendor_id), lines, now)
        main_items = []
        for _, line in indexed:
            items = _items(line)
            main_items.append(items[0])
            order.items.extend(items)
        db.session.add(order)
        record_event(
            order,
            action="create",
            actor=actor,
            to_state=OrderStatus.PENDING,
            reason=f"from checkout {checkout.number}",
            changes={"total": [None, order.total], "currency": [None, order.currency]},
        )
        payment.allocations.append(PaymentAllocation(order_id=order.id, amount=order.total, currency=order.currency))
        db.session.flush()
        db.session.expire(order, ["payments"])  # order.payments reads through the allocation just written
        advance_to(order, ORDER, OrderStatus.PAID, actor=actor, reason=f"payment {payment.gateway_payment_id} captured")
        order.paid_at = now
        items_by_line.update({index: item.id for (index, _), item in zip(indexed, main_items, strict=True)})
        orders.append(order)
    return orders, items_by_line
