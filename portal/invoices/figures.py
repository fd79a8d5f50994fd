"""The numbers printed on an invoice or credit note, derived without any rounding of our own.

Each order line already carries its taxable value and its tax (rounded half-up per line when the order was
priced, portal/orders/pricing.py), and the order total is their sum. The invoice reuses those figures, so
the printed total is the order total by construction; the only division here is the CGST/SGST halving of
a line's tax, done so that the halves add back to the line's tax exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY_WORDS = {"INR": ("Rupees", "Paise"), "USD": ("US Dollars", "Cents"), "EUR": ("Euros", "Cents")}
_ONES = (
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve",
    "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen",
)  # fmt: skip
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")
_INDIAN_UNITS = ((10**7, "Crore"), (10**5, "Lakh"), (1000, "Thousand"))


@dataclass(frozen=True)
class TaxSplit:
    cgst: int = 0
    sgst: int = 0
    igst: int = 0

    @property
    def total(self) -> int:
        return self.cgst + self.sgst + self.igst


@dataclass(frozen=True)
class Line:
    description: str
    hsn_sac: str
    quantity: int
    unit_price: int
    taxable: int
    rate_bp: int
    tax: int
    split: TaxSplit

    @property
    def total(self) -> int:
        return self.taxable + self.tax


@dataclass(frozen=True)
class Figures:
    lines: tuple[Line, ...]
    intra_state: bool

    @property
    def subtotal(self) -> int:
        return sum(line.taxable for line in self.lines)

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def split(self) -> TaxSplit:
        return TaxSplit(*(sum(getattr(line.split, part) for line in self.lines) for part in ("cgst", "sgst", "igst")))

    @property
    def total(self) -> int:
        return self.subtotal + self.tax


def split_tax(tax: int, intra_state: bool) -> TaxSplit:
    """CGST + SGST (the odd paisa goes to SGST) within the seller's state, IGST across states."""
    if not intra_state:
        return TaxSplit(igst=tax)
    cgst = tax // 2
    return TaxSplit(cgst=cgst, sgst=tax - cgst)


def same_state(place_of_supply: str | None, seller_state: str | None) -> bool:
    """Place of supply equals the seller's state (case and surrounding spaces ignored)."""
    return (
        bool(place_of_supply) and (place_of_supply or "").strip().casefold() == (seller_state or "").strip().casefold()
    )


def figures_for_items(items, intra_state: bool) -> Figures:
    """Invoice lines from order items (taxable_amount, tax_amount, tax_rate_bp, ... as stored)."""
    lines = tuple(
        Line(
            description=item.title,
            hsn_sac=item.hsn_sac,
            quantity=item.quantity,
            unit_price=item.unit_price,
            taxable=item.taxable_amount,
            rate_bp=item.tax_rate_bp,
            tax=item.tax_amount,
            split=split_tax(item.tax_amount, intra_state),
        )
        for item in items
    )
    return Figures(lines, intra_state)


def proportional_tax(amount: int, tax: int, total: int) -> int:
    """The tax inside `amount` of a document whose `total` includes `tax`, rounded half up to the paisa."""
    if total <= 0:
        return 0
    return (2 * amount * tax + total) // (2 * total)


def _words_below_thousand(n: int) -> list[str]:
    words = []
    if n >= 100:
        words += [_ONES[n // 100], "Hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
    if n:
        words.append(_ONES[n])
    return words


def number_in_words(n: int) -> str:
    """Indian numbering: 12345678 → 'One Crore Twenty Three Lakh Forty Five Thousand Six Hundred Seventy Eight'."""
    if n == 0:
        return "Zero"
    words: list[str] = []
    for size, name in _INDIAN_UNITS:
        if n >= size:
            count, n = divmod(n, size)
            words += [number_in_words(count), name]
    words += _words_below_thousand(n)
    return " ".join(words)


def amount_in_words(amount: int, currency: str = "INR") -> str:
    """'Rupees One Thousand One Hundred Eighty and Fifty Paise Only' for 118050 paise."""
    major, minor = CURRENCY_WORDS.get(currency, (currency, "Cents"))
    whole, fraction = divmod(amount, 100)
    text = f"{major} {number_in_words(whole)}"
    if fraction:
        text += f" and {number_in_words(fraction)} {minor}"
    return text + " Only"
