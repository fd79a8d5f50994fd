"""Refunds by order line: what `quantity` units of a line are worth, tax included.

A line of Q units with total T (taxable + tax) is worth share(n) = round(T × n / Q) for its first n
units. A refund of q more units after r already refunded is share(r + q) − share(r): the shares add
up, so refunding every unit of a line, in any number of steps, returns exactly T.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.orders.models import Order
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus


def share(line_total: int, quantity: int, units: int) -> int:
    """The value of the first `units` of a line, rounded half up to the minor unit."""
    return (2 * line_total * units + quantity) // (2 * quantity)


def refunded_quantities(order: Order) -> dict[int, int]:
    """{order item id: units already in a pending or processed refund}."""
    rows = db.session.scalars(
        select(Refund.lines).where(Refund.order_id == order.id, Refund.status != RefundStatus.FAILED.value)
    )
    taken: dict[int, int] = {}
    for lines in rows:
        for line in lines or []:
            taken[int(line["item_id"])] = taken.get(int(line["item_id"]), 0) + int(line["quantity"])
    return taken


def _clean(lines) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for line in lines:
        try:
            item_id, quantity = int(line["item_id"]), int(line["quantity"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("Each line needs an item and a whole quantity.") from None
        if quantity < 0:
            raise ValueError("Quantities cannot be negative.")
        if quantity:
            wanted[item_id] = wanted.get(item_id, 0) + quantity
    if not wanted:
        raise ValueError("Choose at least one unit of one line to refund.")
    return wanted


def line_amounts(order: Order, lines) -> list[dict]:
    """[{"item_id", "quantity", "amount"}] for `lines` ([{"item_id", "quantity"}]), or InvalidRefund."""
    from portal.refunds.errors import InvalidRefund

    try:
        wanted = _clean(lines)
    except ValueError as exc:
        raise InvalidRefund(str(exc)) from None
    items = {item.id: item for item in order.items}
    taken = refunded_quantities(order)
    priced = []
    for item_id, quantity in wanted.items():
        item = items.get(item_id)
        if item is None:
            raise InvalidRefund(f"Item {item_id} is not on order {order.number}.")
        before = taken.get(item_id, 0)
        if before + quantity > item.quantity:
            left = item.quantity - before
            raise InvalidRefund(f"Only {left} of {item.quantity} × {item.title} can still be refunded.")
        total, count = item.line_total, item.quantity
        amount = share(total, count, before + quantity) - share(total, count, before)
        priced.append({"item_id": item_id, "quantity": quantity, "amount": amount})
    return priced


def remaining_quantities(order: Order) -> dict[int, int]:
    """{order item id: units not yet in a pending or processed refund} (for the create form)."""
    taken = refunded_quantities(order)
    return {item.id: item.quantity - taken.get(item.id, 0) for item in order.items}
