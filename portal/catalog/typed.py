"""What admins type for a product (in a form or a CSV cell) → plain values: rupees → paise, "18" → 1800 bp."""

from __future__ import annotations

import re

from portal.money import InvalidAmount, parse_amount

_PERCENT_RE = re.compile(r"\s*([0-9]{1,3})(?:\.([0-9]{1,2}))?\s*%?\s*", re.ASCII)
_COUNT_RE = re.compile(r"\s*([0-9]{1,10})\s*", re.ASCII)
TRUE = {"1", "true", "yes", "y", "on", "active"}
FALSE = {"0", "false", "no", "n", "off", "inactive"}


class Unreadable(ValueError):
    """A typed value that is not of the expected shape; the message says what is accepted."""


def rupees(text: str | None, *, empty: int | None = 0) -> int | None:
    """'1,250.50' → 125050 paise; an empty cell → `empty`."""
    if not (text or "").strip():
        return empty
    try:
        return parse_amount(text)
    except InvalidAmount as exc:
        raise Unreadable(str(exc)) from exc


def percent_bp(text: str | None) -> int:
    """'18' or '12.5%' → basis points (1800, 1250); at most 100%."""
    match = _PERCENT_RE.fullmatch(text or "")
    if not match:
        raise Unreadable(f"“{text or ''}” is not a percentage: type a number such as 18 or 12.5")
    value = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))
    if value > 10000:
        raise Unreadable("a tax rate is at most 100%")
    return value


def count(text: str | None) -> int | None:
    """A stock count: whole units; empty → None (not tracked: unlimited)."""
    if not (text or "").strip():
        return None
    match = _COUNT_RE.fullmatch(text)
    if not match:
        raise Unreadable(f"“{text}” is not a number of units: type a whole number, or leave it empty for unlimited")
    return int(match.group(1))


def flag(text: str | None, *, empty: bool = True) -> bool:
    """'yes'/'no', 'true'/'false', '1'/'0' (any case); empty → `empty`."""
    value = (text or "").strip().lower()
    if not value:
        return empty
    if value in TRUE | FALSE:
        return value in TRUE
    raise Unreadable(f"“{text}” is not yes or no (true/false, 1/0)")


def percent_text(bp: int) -> str:
    """1800 → '18', 1250 → '12.5' (what the form shows back)."""
    whole, part = divmod(bp, 100)
    return f"{whole}" if not part else f"{whole}.{part:02d}".rstrip("0")


def rupees_text(paise: int | None) -> str:
    """125050 → '1250.50' (what the form shows back)."""
    return "" if paise is None else f"{paise // 100}.{paise % 100:02d}"
