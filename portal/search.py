"""What the search box of a list was given, decided once from the shape of the text.

Every list (orders, payments, refunds, invoices) reads the same `Term`, then matches it with one indexed
comparison per shape — never an OR of LIKEs over joined tables, which at a million orders is a scan:

| typed | kind | matched against |
| --- | --- | --- |
| `pay_…`, `order_…`, `rfnd_…`, `plink_…` | gateway | that gateway id (unique indexes) |
| `ORD-…` | order_number | the order number |
| `INV/26-27/00042`, `CN/26-27/00003` | document_number | invoice and credit-note numbers |
| `1768` | number | a row id, or an amount of ₹1,768.00 |
| `1768.82`, `1,768.82`, `₹1768.82` | amount | an amount of exactly 176882 paise |
| `asha@example.com` | email | that email |
| anything else | text | the start of the customer's name or email (prefix: the index serves it) |

Numbers that cannot be stored (an id or amount ≥ 2^31) match nothing, never a database error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.inputs import db_int
from portal.money import InvalidAmount, parse_amount

GATEWAY_PREFIXES = ("pay_", "order_", "rfnd_", "plink_")
ORDER_NUMBER = re.compile(r"^ORD-[0-9A-Z]{1,8}(?:-\d{1,3})?$", re.IGNORECASE)
BARE_ORDER_NUMBER = re.compile(r"^(?=.*\d)[0-9A-Z]{8}$", re.IGNORECASE)  # an order number typed without ORD-
DOCUMENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]*/\d{2}-\d{2}/\d{1,5}$")
AMOUNT = re.compile(r"^(?:₹|rs\.?|inr)?\s*[\d,]+(?:\.\d{1,2})?$", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    kind: str  # gateway, order_number, document_number, number, amount, email, text, nothing
    text: str
    number: int | None = None  # kind "number": the row id it may be
    amount: int | None = None  # kinds "number" and "amount": the amount in paise it may be

    @property
    def bare_order_number(self) -> str | None:
        """'ORD-K7Q2M9XA' when free text looks like an order number typed without its prefix."""
        return "ORD-" + self.text.upper() if self.kind == "text" and BARE_ORDER_NUMBER.match(self.text) else None

    @property
    def document_numbers(self) -> list[str]:
        """The number as typed and upper-cased (prefixes are configured in capitals, people type lower)."""
        return sorted({self.text, self.text.upper()})


def _amount(text: str) -> int | None:
    """Paise of an amount typed in rupees, None when it is not one (or too large to be stored)."""
    cleaned = re.sub(r"^(?:₹|rs\.?|inr)\s*", "", text, flags=re.IGNORECASE)
    if not re.fullmatch(r"\d{1,3}(?:,\d{2,3})*(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?", cleaned):
        return None
    try:
        return db_int(parse_amount(cleaned))
    except InvalidAmount:
        return None


def classify(q: str) -> Term | None:
    """The Term for the search text `q`; None when it is empty."""
    text = " ".join((q or "").split())
    if not text:
        return None
    if text.startswith(GATEWAY_PREFIXES):
        return Term("gateway", text)
    if ORDER_NUMBER.match(text):
        return Term("order_number", text.upper())
    if DOCUMENT_NUMBER.match(text):
        return Term("document_number", text)
    if text.isascii() and text.isdigit():
        number, amount = db_int(text), _amount(text)
        return Term("number", text, number, amount) if number or amount else Term("nothing", text)
    if AMOUNT.match(text):
        amount = _amount(text)
        return Term("amount", text, amount=amount) if amount else Term("nothing", text)
    if "@" in text:
        return Term("email", text.lower())
    return Term("text", text.lower())


def id_or_amount(term: Term, id_column, amount_column):
    """A "number" term: the row with that id, or rows of that amount in whole rupees (two index lookups)."""
    from sqlalchemy import false, or_

    clauses = []
    if term.number is not None:
        clauses.append(id_column == term.number)
    if term.amount is not None:
        clauses.append(amount_column == term.amount)
    return or_(*clauses) if clauses else false()


def any_of(id_column, *conditions):
    """Rows matching any of `conditions` (None ones skipped) as ONE id lookup in `SELECT … UNION SELECT …`:
    each arm is answered from its own index, where an OR across a join or a subquery would scan the table."""
    from sqlalchemy import any_, false, func, select, union

    from portal.extensions import db

    present = [c for c in conditions if c is not None]
    if len(present) <= 1:
        return present[0] if present else false()
    ids = union(*(select(id_column).where(c) for c in present))
    if db.session.get_bind().dialect.name == "postgresql":
        # `id = ANY(ARRAY(…))`: the ids are computed once (an InitPlan) and fetched by primary key, where
        # `id IN (…)` lets the planner hash-join the whole table against them.
        return id_column == any_(func.array(ids.scalar_subquery()))
    return id_column.in_(ids)


def starts_with(column, text: str):
    """`column LIKE 'text%'` with the pattern inlined as a literal (wildcards in `text` escaped).

    A bound pattern is invisible to the planner of a prepared statement (psycopg prepares a query after a
    few runs, and a generic plan cannot turn LIKE into an index range): the list then scans the table."""
    from sqlalchemy import bindparam

    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return column.like(bindparam(None, escaped + "%", literal_execute=True), escape="/")
