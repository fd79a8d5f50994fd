"""Money as integer minor units plus a currency code; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}
MINOR_DIGITS = 2  # every currency we sell in has two decimal places
MAX_WHOLE_DIGITS = 12
# ASCII digits only (re's \d also matches १०, ١٠ and every other script's digits). Commas, when present,
# must group the whole part correctly: international 100,000.50 or Indian 1,00,000.50 — never 1,0,00.
_WHOLE = (
    r"(?P<plain>[0-9]+)"
    r"|(?P<international>[1-9][0-9]{0,2}(?:,[0-9]{3})+)"
    r"|(?P<indian>[1-9][0-9]?(?:,[0-9]{2})*,[0-9]{3})"
)
_AMOUNT_RE = re.compile(rf"\s*₹?(?P<whole>{_WHOLE})(?:\.(?P<fraction>[0-9]{{1,2}}))?\s*", re.ASCII)
AMOUNT_HINT = "type the digits 0–9, with commas only between digit groups, like 250.00, 1,250.00 or 1,00,000.50"


class CurrencyMismatch(ValueError):
    pass


class InvalidAmount(ValueError):
    pass


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 code: {self.currency!r}")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def _group_indian(whole: int) -> str:
    """12345678 -> 1,23,45,678 (lakh/crore grouping)."""
    digits = str(whole)
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join(groups) + "," + tail


def format_money(amount: int | None, currency: str = "INR") -> str:
    """₹1,234.50 for INR; other currencies use thousands grouping."""
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(int(amount)), 100)
    grouped = _group_indian(whole) if currency == "INR" else f"{whole:,}"
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{sign}{symbol}{grouped}.{fraction:02d}"


def parse_amount(text: str | None) -> int:
    """Parse an admin-typed major-unit amount ("250", "250.5", "1,250.00", "₹1,00,000.50") into minor units.

    Raises InvalidAmount, whose message says what is accepted, for anything else.
    """
    match = _AMOUNT_RE.fullmatch(text or "")
    whole = match.group("whole").replace(",", "") if match else ""
    if not match or len(whole) > MAX_WHOLE_DIGITS:
        raise InvalidAmount(f"“{text or ''}” is not an amount: {AMOUNT_HINT}.")
    fraction = (match.group("fraction") or "").ljust(MINOR_DIGITS, "0")
    return int(whole) * 100 + int(fraction)


def percent_of(amount: int, basis_points: int) -> int:
    """amount × rate, rate in basis points (1800 = 18%), rounded half up to the minor unit."""
    return (amount * basis_points + 5000) // 10000
