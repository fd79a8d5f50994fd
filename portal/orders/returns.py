"""Returns: goods and rentals that come back, the stock they give back, and rental deposits refunded.

A return is recorded with the units of each line that came back (≤ sold − already returned), from
`shipped`, `in_transit` or `delivered`. In one transaction, under the order's row lock and the products'
row locks: `OrderItem.returned_quantity` grows, a good's stock grows by the units (unlimited stock stays
None; courses and services have nothing to return and are refused), a rental's booking ends (its committed
reservation released with the reason "returned": the dates no longer block, so an early return frees later
dates), and a history row lists the units. The order becomes `returned` once every unit of its goods and
rentals is back; a partial return keeps the status and is the history row alone.

Then, each its own transaction and gateway call (the return stays recorded whatever the gateway says):
the returned rentals' deposits are refunded — in full, or less `damages` with a reason (the kept amount is
recorded in the order's history; it is not a new invoice line: the deposit line already billed it, without
GST, and the kept part is simply not refunded) — and, with `refund_goods`, the returned lines themselves.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.money import format_money
from portal.orders.fulfilment import REASON_MAX, FulfilmentError, Outcome, refund_share
from portal.orders.models import LineType, Order, OrderItem
from portal.orders.services import get_order_for_update, lock_products, move_fulfilment
from portal.orders.status import FulfilmentStatus
from portal.refunds.lines import share
from portal.statemachine import IllegalTransition
from portal.stock.models import Reservation, ReservationStatus

RETURNABLE_FROM = frozenset({FulfilmentStatus.SHIPPED, FulfilmentStatus.IN_TRANSIT, FulfilmentStatus.DELIVERED})
RETURNABLE_LINES = frozenset({LineType.ITEM, LineType.RENTAL})


def record_return(
    order_id: int,
    quantities: dict[int, int],
    *,
    actor: Actor,
    damages: int = 0,
    reason: str = "",
    refund_goods: bool = False,
) -> Outcome:
    """Record the units that came back ({order item id: units}), restock them, refund deposits. Commits.

    Raises FulfilmentError (bad quantities or damages: nothing written) or IllegalTransition (the order
    is not paid, or not shipped yet / already returned)."""
    try:
        order = get_order_for_update(order_id)
        wanted = _checked(order, quantities)
        deposits = _deposit_values(order, wanted)
        _check_damages(damages, reason, sum(deposits.values()))
        _take_back(order, wanted, actor)
        if damages:
            _record_damages(order, damages, reason, actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    outcome = Outcome(order)
    _refund_deposits(outcome, deposits, damages, reason, actor)
    if refund_goods:
        _refund_lines(outcome, wanted, actor)
    return outcome


def returnable(order: Order) -> dict[int, int]:
    """{item id: units that may still come back} for the lines a return can take (the form's maxima)."""
    return {
        item.id: item.quantity - item.returned_quantity
        for item in order.items
        if item.line_type in RETURNABLE_LINES and item.kind in _SHIPPED and item.quantity > item.returned_quantity
    }


_SHIPPED = frozenset({"good", "rental"})


def _checked(order: Order, quantities: dict) -> dict[int, int]:
    if order.fulfilment_status not in RETURNABLE_FROM:
        raise IllegalTransition("fulfilment", order.fulfilment_status, FulfilmentStatus.RETURNED)
    move_check = returnable(order)
    items = {item.id: item for item in order.items}
    wanted: dict[int, int] = {}
    for raw_id, raw_units in (quantities or {}).items():
        item_id, units = _whole(raw_id), _whole(raw_units)
        if item_id not in items:
            raise FulfilmentError(f"Line {raw_id} is not on order {order.number}.")
        if units < 0:
            raise FulfilmentError("Returned quantities cannot be negative.")
        if units and item_id not in move_check:
            raise FulfilmentError(f"{items[item_id].title}: nothing of this line can come back.")
        if units > move_check.get(item_id, 0):
            left = move_check.get(item_id, 0)
            raise FulfilmentError(f"{items[item_id].title}: only {left} unit(s) can still come back.")
        if units:
            wanted[item_id] = units
    if not wanted:
        raise FulfilmentError("Give the number of units that came back for at least one line.")
    return wanted


def _whole(value) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise FulfilmentError("Quantities are whole numbers of units.") from None
    if abs(number) > 1_000_000:
        raise FulfilmentError("That quantity is out of range.")
    return number


def _deposit_line(order: Order, rental: OrderItem) -> OrderItem | None:
    """The deposit line of a rental line: same product (and dates, when the deposit carries them)."""
    for item in order.items:
        same_dates = item.rental_start in (None, rental.rental_start) and item.rental_end in (None, rental.rental_end)
        if item.line_type == LineType.DEPOSIT and item.product_id == rental.product_id and same_dates:
            return item
    return None


def _deposit_values(order: Order, wanted: dict[int, int]) -> dict[int, int]:
    """{deposit item id: what the returned units' deposit is worth} (the share of the units, as refunds
    by line count them: every unit back, in any number of returns, refunds exactly the line)."""
    values: dict[int, int] = {}
    items = {item.id: item for item in order.items}
    for item_id, units in wanted.items():
        rental = items[item_id]
        deposit = _deposit_line(order, rental) if rental.line_type == LineType.RENTAL else None
        if deposit is None or not deposit.quantity:
            continue
        before = rental.returned_quantity
        worth = share(deposit.line_total, deposit.quantity, before + units) - share(
            deposit.line_total, deposit.quantity, before
        )
        values[deposit.id] = values.get(deposit.id, 0) + worth
    return values


def _check_damages(damages, reason: str, deposit: int) -> None:
    if not isinstance(damages, int) or isinstance(damages, bool) or damages < 0:
        raise FulfilmentError("Damages are a non-negative amount.")
    if damages and not deposit:
        raise FulfilmentError("Damages are kept from a rental's deposit: these lines have none.")
    if damages > deposit:
        raise FulfilmentError(f"Damages can be at most the deposit returned ({deposit} minor units).")
    if damages and not (reason or "").strip():
        raise FulfilmentError("Give a reason for the damages kept: the customer is told why.")
    if len((reason or "").strip()) > REASON_MAX:
        raise FulfilmentError(f"The reason can be at most {REASON_MAX} characters.")


def _take_back(order: Order, wanted: dict[int, int], actor: Actor) -> None:
    items = {item.id: item for item in order.items}
    products = lock_products(items[i].product_id for i in wanted if items[i].product_id)
    for item_id, units in wanted.items():
        item = items[item_id]
        item.returned_quantity += units
        product = products.get(item.product_id)
        if item.line_type == LineType.ITEM and product is not None and product.stock is not None:
            product.stock += units  # goods only: a rental's stock is the units owned, never taken
        if item.line_type == LineType.RENTAL:
            _end_booking(item, units)
    lines = ", ".join(f"{units} × {items[i].title}" for i, units in wanted.items())
    changes = {"returned": [None, {str(i): units for i, units in wanted.items()}]}
    record_event(order, action="return", actor=actor, reason=f"came back: {lines}"[:REASON_MAX], changes=changes)
    if not returnable(order):
        move_fulfilment(order, FulfilmentStatus.RETURNED, actor=actor, reason="every unit came back")


def _end_booking(item: OrderItem, units: int) -> None:
    """Release `units` of the rental's committed booking: the whole row, or a released row split off it."""
    query = select(Reservation).where(
        Reservation.order_item_id == item.id, Reservation.status == ReservationStatus.COMMITTED
    )
    for booking in db.session.scalars(for_update(query.order_by(Reservation.id))):
        if units <= 0:
            return
        if booking.quantity <= units:
            booking.status, booking.released_reason = ReservationStatus.RELEASED, "returned"
            units -= booking.quantity
            continue
        booking.quantity -= units
        db.session.add(_released_part(booking, units))
        return


def _released_part(booking: Reservation, units: int) -> Reservation:
    return Reservation(
        checkout_id=booking.checkout_id,
        product_id=booking.product_id,
        quantity=units,
        status=ReservationStatus.RELEASED,
        rental_start=booking.rental_start,
        rental_end=booking.rental_end,
        order_item_id=booking.order_item_id,
        released_reason="returned",
    )


def _record_damages(order: Order, damages: int, reason: str, actor: Actor) -> None:
    kept = format_money(damages, order.currency)
    record_event(
        order,
        action="deposit_kept",
        actor=actor,
        reason=f"{kept} kept from the deposit for damages: {reason.strip()}"[:REASON_MAX],
        changes={"damages": [None, damages], "currency": [None, order.currency]},
    )


def _refund_deposits(outcome: Outcome, deposits: dict[int, int], damages: int, reason: str, actor: Actor) -> None:
    due = sum(deposits.values()) - damages
    if due <= 0:
        return
    notes = "Rental deposit returned" + (f", less damages: {reason.strip()}" if damages else "")
    _refund(outcome, due, notes[:REASON_MAX], actor)


def _refund_lines(outcome: Outcome, wanted: dict[int, int], actor: Actor) -> None:
    """The returned lines themselves, by line (the refunds service prices the units, tax included)."""
    items = {item.id: item for item in outcome.order.items}
    lines = [{"item_id": i, "quantity": units} for i, units in wanted.items() if items[i].line_type == LineType.ITEM]
    if lines:
        _refund(outcome, None, "Returned goods", actor, lines=lines)


def _refund(outcome: Outcome, amount: int | None, notes: str, actor: Actor, lines=None) -> None:
    """`amount` of this order's share, from its settled payments in order (a checkout's one payment, usually)."""
    payments = [p for p in outcome.order.payments if p.is_settled]
    if not payments:
        outcome.problems.append("No captured payment to refund.")
        return
    refund_share(outcome, payments[0].id, amount=amount, notes=notes, actor=actor, lines=lines)
