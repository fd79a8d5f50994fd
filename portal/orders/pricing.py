"""Server-side pricing from the catalogue. A client-supplied price is never read."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select

from portal.catalog.models import Product
from portal.dbutil import for_update
from portal.extensions import db
from portal.money import percent_of
from portal.stock.availability import available

MAX_QUANTITY = 100
MAX_LINES = 50


class InvalidItems(ValueError):
    """The requested items cannot be ordered; `details` says which and why."""

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.details = details or {}


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: int

    @property
    def taxable(self) -> int:
        return self.product.price * self.quantity

    @property
    def tax(self) -> int:
        return percent_of(self.taxable, self.product.tax_rate_bp)


@dataclass(frozen=True)
class Quote:
    lines: list[Line]
    currency: str

    @property
    def subtotal(self) -> int:
        return sum(line.taxable for line in self.lines)

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.tax

    @property
    def has_physical(self) -> bool:
        return any(line.product.is_physical for line in self.lines)


def merge_items(items: list[dict]) -> OrderedDict[int, int]:
    """Merge duplicate product ids, keeping first-seen order; validate quantities."""
    if not items:
        raise InvalidItems("An order needs at least one item.")
    if len(items) > MAX_LINES:
        raise InvalidItems(f"An order can have at most {MAX_LINES} items.")
    merged: OrderedDict[int, int] = OrderedDict()
    for item in items:
        product_id, quantity = item["product_id"], item.get("quantity", 1)
        merged[product_id] = merged.get(product_id, 0) + quantity
    bad = {str(pid): qty for pid, qty in merged.items() if not 1 <= qty <= MAX_QUANTITY}
    if bad:
        raise InvalidItems(f"Quantities must be between 1 and {MAX_QUANTITY}.", {"quantities": bad})
    return merged


def quote(items: list[dict], *, lock_stock: bool = False) -> Quote:
    """Price `items` ([{product_id, quantity}]) from the catalogue, with tax."""
    merged = merge_items(items)
    query = select(Product).where(Product.id.in_(merged)).order_by(Product.id)
    if lock_stock:
        query = for_update(query, of=Product)
    products = {p.id: p for p in db.session.scalars(query)}
    unknown = [pid for pid in merged if pid not in products or not products[pid].active]
    if unknown:
        raise InvalidItems("Some items are not available.", {"unavailable_product_ids": unknown})
    rentals = [pid for pid in merged if products[pid].is_rental]
    if rentals:  # a rental needs its dates: it is booked through the cart (portal/cart), never a single order
        raise InvalidItems("Rentals are booked through the cart, with their dates.", {"rental_product_ids": rentals})
    # What is left once live checkout holds are counted (portal/stock/availability.py): a unit held for a
    # checkout is not sold twice.
    left = {pid: available(products[pid]) for pid in merged}
    short = {str(pid): left[pid] for pid, qty in merged.items() if left[pid] is not None and left[pid] < qty}
    if short:
        raise InvalidItems("Not enough stock for some items.", {"in_stock": short})
    currencies = {products[pid].currency for pid in merged}
    if len(currencies) > 1:
        raise InvalidItems("All items of an order must be priced in one currency.")
    return Quote([Line(products[pid], qty) for pid, qty in merged.items()], currencies.pop())
