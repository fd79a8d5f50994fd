"""The priced cart: every line priced from today's catalogue, grouped by vendor, with the problems that would
stop a checkout in words a customer understands. The checkout freezes the same figures (`snapshot`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from portal.cart.models import Cart, CartLine
from portal.cart.pricing import DEPOSIT_HSN_SAC, LineFigures, OptionPrice, price_line, rental_days
from portal.catalog.models import OptionPricing
from portal.money import format_money
from portal.stock.availability import available
from portal.timeutil import local_today


@dataclass
class PricedLine:
    line: CartLine
    figures: LineFigures
    options: list[OptionPrice]

    @property
    def product(self):
        return self.line.product


@dataclass
class VendorGroup:
    vendor_id: int | None
    name: str
    lines: list[PricedLine] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        return sum(p.figures.total_due for p in self.lines)


@dataclass
class CartView:
    cart: Cart
    lines: list[PricedLine]
    currency: str
    problems: list[dict]
    discount: int = 0  # the pricing engine (issue 14) fills it in

    @property
    def subtotal(self) -> int:
        return sum(p.figures.taxable + p.figures.fee for p in self.lines)

    @property
    def tax(self) -> int:
        return sum(p.figures.tax + p.figures.fee_tax for p in self.lines)

    @property
    def deposits(self) -> int:
        return sum(p.figures.deposit for p in self.lines)

    @property
    def total(self) -> int:
        return sum(p.figures.total_due for p in self.lines) - self.discount

    @property
    def vendors(self) -> list[VendorGroup]:
        groups: dict[int | None, VendorGroup] = {}
        for priced in self.lines:
            vendor = priced.product.vendor
            key = vendor.id if vendor is not None else None
            groups.setdefault(key, VendorGroup(key, vendor.name if vendor is not None else "")).lines.append(priced)
        return list(groups.values())


def _options(line: CartLine) -> list[OptionPrice]:
    by_code = {o.code: o for o in line.product.options if o.active}
    return [
        OptionPrice(o.code, o.label, o.price, o.percent_bp, o.pricing == OptionPricing.PER_LINE)
        for o in (by_code.get(code) for code in line.options or [])
        if o is not None
    ]


def price_cart_line(line: CartLine) -> PricedLine:
    product, options = line.product, _options(line)
    days = rental_days(line.rental_start, line.rental_end) if product.is_rental and line.rental_start else None
    figures = price_line(
        price=product.price,
        tax_rate_bp=product.tax_rate_bp,
        quantity=line.quantity,
        options=tuple(options),
        days=days,
        deposit=product.deposit,
    )
    return PricedLine(line, figures, options)


def _line_problems(line: CartLine, today, wanted: dict) -> list[dict]:
    product, found = line.product, []

    def say(code, message):
        found.append({"line_id": line.id, "code": code, "message": message})

    if not product.active:
        say("product_inactive", f"{product.title} is no longer sold.")
    if product.vendor is not None and not product.vendor.active:
        say("vendor_inactive", f"{product.vendor.name}, who sells {product.title}, is not taking orders right now.")
    if len(_options(line)) != len(line.options or []):
        say("option_unavailable", f"An option you chose for {product.title} is no longer offered.")
    if product.is_rental and (line.rental_start is None or line.rental_end is None):
        say("rental_dates_missing", f"Choose the dates you want to rent {product.title} for.")
    elif product.is_rental and line.rental_start < today:
        say("rental_dates_past", f"Your rental of {product.title} starts on {line.rental_start}, which has passed.")
    left = _left(line, wanted)
    if left is not None and left < line.quantity:
        when = f" from {line.rental_start} to {line.rental_end}" if product.is_rental else ""
        say("out_of_stock", f"Only {left} of {product.title} can be had{when}; you asked for {line.quantity}.")
    return found


def _left(line: CartLine, wanted: dict) -> int | None:
    """What is left for this line once the cart's earlier lines of the same good have taken theirs."""
    product = line.product
    if product.is_rental:
        if line.rental_start is None or line.rental_end is None:
            return None
        return available(product, start=line.rental_start, end=line.rental_end)
    left = available(product)
    if left is None:
        return None
    taken = wanted[product.id]
    wanted[product.id] = taken + line.quantity
    return max(left - taken, 0)


def cart_problems(cart: Cart) -> list[dict]:
    """Everything that would stop this cart's checkout: [{"line_id"?, "code", "message"}]."""
    if not cart.lines:
        return [{"code": "empty_cart", "message": "Your cart is empty."}]
    today, wanted, found = local_today(), defaultdict(int), []
    for line in cart.lines:
        found.extend(_line_problems(line, today, wanted))
    currencies = sorted({line.product.currency for line in cart.lines})
    if len(currencies) > 1:
        message = f"Your cart mixes prices in {' and '.join(currencies)}: check out one currency at a time."
        found.append({"code": "mixed_currencies", "message": message})
    return found


def view_of(cart: Cart) -> CartView:
    """Price `cart` from today's catalogue and list its problems."""
    lines = [price_cart_line(line) for line in cart.lines]
    currencies = {p.product.currency for p in lines}
    currency = currencies.pop() if len(currencies) == 1 else (lines[0].product.currency if lines else "INR")
    return CartView(cart, lines, currency, cart_problems(cart))


def snapshot(view: CartView) -> list[dict]:
    """The priced lines frozen into Checkout.lines: the orders are built from this, never from the catalogue."""
    return [_snap(p) for p in view.lines]


def _snap(priced: PricedLine) -> dict:
    line, product, f = priced.line, priced.product, priced.figures
    base = product.price * f.days if f.days is not None else product.price
    return {
        "cart_line_id": line.id,
        "product_id": product.id,
        "vendor_id": product.vendor_id,
        "sku": product.sku,
        "title": product.title,
        "kind": str(product.kind),
        "hsn_sac": product.hsn_sac,
        "currency": product.currency,
        "quantity": line.quantity,
        "option_codes": list(line.options or []),
        "options": [{"code": o.code, "label": o.label, "price": o.delta(base)} for o in priced.options],
        "rental_start": line.rental_start.isoformat() if line.rental_start else None,
        "rental_end": line.rental_end.isoformat() if line.rental_end else None,
        "days": f.days,
        "unit_price": f.unit_price,
        "taxable": f.taxable,
        "tax_rate_bp": f.tax_rate_bp,
        "tax": f.tax,
        "fee": f.fee,
        "fee_tax": f.fee_tax,
        "deposit": f.deposit,
        "deposit_hsn_sac": DEPOSIT_HSN_SAC,
        "line_total": f.line_total,
        "total_due": f.total_due,
    }


def describe(view: CartView) -> str:
    """A one-line summary for the history: "3 line(s), ₹1,234.00"."""
    return f"{len(view.lines)} line(s), {format_money(view.total, view.currency)}"
