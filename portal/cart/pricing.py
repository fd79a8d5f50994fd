"""Pricing of one cart line, in one place: a pure function over plain values (no database, no clock).

The rule (docs/checkout.md):
- unit price = the product's price (for a rental: daily price × days, start..end inclusive) plus each chosen
  per-unit option's delta (its fixed `price` plus `percent_bp` of that base);
- taxable = unit price × quantity; per-line options are a taxable `fee` of their own (the same GST rate);
- GST = `portal.money.percent_of(taxable, rate)` per invoice line (half up, to the paisa), never on a sum of
  lines, so the cart, the checkout snapshot, the orders and the invoices carry the very same figures;
- a rental's security deposit is its own line: deposit × quantity, no GST, HSN/SAC `DEPOSIT_HSN_SAC`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.money import percent_of

DEPOSIT_HSN_SAC = "999799"  # "other services n.e.c.": a refundable deposit is not a supply, so no GST applies
MAX_RENTAL_DAYS = 90


@dataclass(frozen=True)
class OptionPrice:
    code: str
    label: str
    price: int  # fixed delta, minor units
    percent_bp: int = 0  # a percentage of the base unit price
    per_line: bool = False

    def delta(self, base: int) -> int:
        return self.price + percent_of(base, self.percent_bp)


@dataclass(frozen=True)
class LineFigures:
    """Every figure of a priced line; `line_total` = taxable + tax + fee + fee tax (the deposit is apart)."""

    unit_price: int
    quantity: int
    days: int | None
    taxable: int
    tax_rate_bp: int
    tax: int
    fee: int  # per-line options, taxable
    fee_tax: int
    deposit: int  # no GST

    @property
    def line_total(self) -> int:
        return self.taxable + self.tax + self.fee + self.fee_tax

    @property
    def total_due(self) -> int:
        return self.line_total + self.deposit


def rental_days(start: date, end: date) -> int:
    """Days of a rental, both ends included (a one-day rental starts and ends the same day)."""
    return (end - start).days + 1


def price_line(
    *,
    price: int,
    tax_rate_bp: int,
    quantity: int,
    options: tuple[OptionPrice, ...] = (),
    days: int | None = None,
    deposit: int = 0,
) -> LineFigures:
    """The figures of `quantity` units at `price` (per day when `days` is given) with `options`."""
    base = price * days if days is not None else price
    unit_price = base + sum(o.delta(base) for o in options if not o.per_line)
    fee = sum(o.delta(base) for o in options if o.per_line)
    taxable = unit_price * quantity
    return LineFigures(
        unit_price=unit_price,
        quantity=quantity,
        days=days,
        taxable=taxable,
        tax_rate_bp=tax_rate_bp,
        tax=percent_of(taxable, tax_rate_bp),
        fee=fee,
        fee_tax=percent_of(fee, tax_rate_bp),
        deposit=deposit * quantity if days is not None else 0,
    )
