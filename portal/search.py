"""The one search of every list (orders, payments, refunds, invoices, and a global search): the text is
classified once by its shape, then matched with conditions an index serves at a million rows.

| typed | kind | matched against |
| --- | --- | --- |
| `pay_…`, `order_…`, `rfnd_…`, `plink_…` | gateway | that gateway id (unique indexes) |
| `ORD-…` | order_number | the order number |
| `INV/26-27/00042`, `CN/26-27/00003` | document_number | invoice and credit-note numbers, exactly (unique indexes) |
| `INV/26-27`, `26-27/0004` | document_part | invoice and credit-note numbers containing it (trigram indexes) |
| `1768` | number | a row id, or an amount of ₹1,768.00 |
| `1768.82`, `1,768.82`, `₹1768.82` | amount | an amount of exactly 176882 paise |
| `asha@example.com` | email | that email, exactly |
| anything else: `verma`, `sharma12@` | text | the name or email containing it, any case (trigram indexes) |

`arms(q, target)` is the entry point: the conditions on the target's table (a row matches when any arm does).
Arms are kept apart rather than OR-ed because an OR across a join (a payment's own email, or its order's
customer name) can use no index. The lists (portal.listing.searched) probe them once per request, capped:
a search finding at most 1,000 rows is fetched by id and its tabs counted from the probe; a commoner one is
read by walking the list's sort index, each arm as its own `ORDER BY … LIMIT` (listing.top_ids). `find` is
the same for a global search box.

Numbers that cannot be stored (an id or amount ≥ 2^31) match nothing, never a database error.

Indexes (PostgreSQL; declared on the models, created by migration 0005): pg_trgm GIN on lower(billing_name),
billing_email, payments.email, invoice and credit-note numbers — they serve `LIKE '%text%'` whatever the
collation; `varchar_pattern_ops` btrees serve prefixes. On SQLite the same SQL runs unindexed (small data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import DDL, Index, any_, bindparam, event, false, func, or_, select, union

from portal.extensions import db
from portal.inputs import db_int
from portal.money import InvalidAmount, parse_amount

GATEWAY_PREFIXES = ("pay_", "order_", "rfnd_", "plink_")
ORDER_NUMBER = re.compile(r"^ORD-[0-9A-Z]{1,8}(?:-\d{1,3})?$", re.IGNORECASE)
BARE_ORDER_NUMBER = re.compile(r"^(?=.*\d)[0-9A-Z]{8}$", re.IGNORECASE)  # an order number typed without ORD-
DOCUMENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/-]*/\d{2}-\d{2}/\d{1,7}$")
DOCUMENT_PART = re.compile(r"^(?=.{3,16}$)[A-Za-z0-9-]*/[A-Za-z0-9/-]*$")  # a piece of one, with its slash
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # a whole address; a piece ("sharma12@") is text
AMOUNT = re.compile(r"^(?:₹|rs\.?|inr)?\s*[\d,]+(?:\.\d{1,2})?$", re.IGNORECASE)
GSTIN = re.compile(r"^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
TRIGRAM = 3  # pg_trgm indexes a substring of at least three characters; a shorter one is matched as a prefix
TARGETS = ("orders", "payments", "refunds", "invoices")


@dataclass(frozen=True)
class Term:
    kind: str  # gateway, order_number, document_number, document_part, number, amount, email, text, nothing
    text: str
    number: int | None = None  # kind "number": the row id it may be
    amount: int | None = None  # kinds "number" and "amount": the amount in paise it may be
    prefix: bool = False  # kind "text": match the start only (prefix_arms)

    @property
    def bare_order_number(self) -> str | None:
        """'ORD-K7Q2M9XA' when free text looks like an order number typed without its prefix."""
        return "ORD-" + self.text.upper() if self.kind == "text" and BARE_ORDER_NUMBER.match(self.text) else None

    @property
    def could_be_in_email(self) -> bool:
        """No email holds a space: a trigram match of "asha verma" would find every "asha.verma…" only to
        throw each away on recheck."""
        return " " not in self.text

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
    if DOCUMENT_PART.match(text):
        return Term("document_part", text.upper())
    if text.isascii() and text.isdigit():
        number, amount = db_int(text), _amount(text)
        return Term("number", text, number, amount) if number or amount else Term("nothing", text)
    if AMOUNT.match(text):
        amount = _amount(text)
        return Term("amount", text, amount=amount) if amount else Term("nothing", text)
    if EMAIL.match(text):
        return Term("email", text.lower())
    return Term("text", text.lower())


# ---------------------------------------------------------------- indexes (PostgreSQL only)

POSTGRES_SETUP = ("CREATE EXTENSION IF NOT EXISTS pg_trgm",)  # before create_all: the trigram indexes need it
# Every create_all on PostgreSQL (tests, benchmarks, a scratch database) makes the extension first, in one place.
for _statement in POSTGRES_SETUP:
    event.listen(db.metadata, "before_create", DDL(_statement).execute_if(dialect="postgresql"))
# A trigram match's row estimate comes from the column's most common values and histogram: with 100 (the
# default) a name shared by 1 order in 150 is missed, estimated at 1 in 10,000, and the planner reads every
# match through the index where walking the list's date index would stop after a few thousand rows.
POSTGRES_STATISTICS = (
    "ALTER INDEX ix_orders_billing_name_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER TABLE orders ALTER COLUMN billing_email SET STATISTICS 1000",
    "ALTER TABLE payments ALTER COLUMN email SET STATISTICS 1000",
)


def trigram_index(name: str, expression, label: str) -> Index:
    """A pg_trgm GIN index on `expression` (serves LIKE '%text%' in any collation), created on PostgreSQL
    only: SQLite has no GIN and searches its small tables without one."""
    return Index(name, expression.label(label), postgresql_using="gin", postgresql_ops={label: "gin_trgm_ops"}).ddl_if(
        dialect="postgresql"
    )


def include_object(dialect: str):
    """An alembic `include_object` for `dialect` that leaves out what the models create on other dialects
    only (`Index(...).ddl_if(dialect=...)`): alembic itself does not read ddl_if."""

    def include(obj, name, type_, reflected, compare_to):
        condition = getattr(obj, "_ddl_if", None)
        return condition is None or condition.dialect is None or condition.dialect == dialect

    return include


# ---------------------------------------------------------------- SQL building blocks


def _literal_pattern(column, pattern: str):
    """`column LIKE pattern` with the pattern inlined as a literal.

    A bound pattern is invisible to the planner of a prepared statement (psycopg prepares a query after a
    few runs, and a generic plan can neither turn LIKE into an index range nor estimate how many rows a
    trigram match finds): the list then scans the table."""
    return column.like(bindparam(None, pattern, literal_execute=True), escape="/")


def _escaped(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def starts_with(column, text: str):
    """`column LIKE 'text%'` (wildcards in `text` escaped): a varchar_pattern_ops btree serves it."""
    return _literal_pattern(column, _escaped(text) + "%")


def contains(column, text: str):
    """`column LIKE '%text%'`: a pg_trgm GIN index serves it from three characters on; shorter text is
    matched as a prefix (no trigram to look up, so a contains match would read the whole index)."""
    if len(text) < TRIGRAM:
        return starts_with(column, text)
    return _literal_pattern(column, "%" + _escaped(text) + "%")


def id_or_amount(term: Term, id_column, amount_column):
    """A "number" term: the row with that id, or rows of that amount in whole rupees (two index lookups)."""
    clauses = []
    if term.number is not None:
        clauses.append(id_column == term.number)
    if term.amount is not None:
        clauses.append(amount_column == term.amount)
    return or_(*clauses) if clauses else false()


def any_of(id_column, *conditions):
    """Rows matching any of `conditions` (None ones skipped) as ONE id lookup in `SELECT … UNION SELECT …`:
    each arm is answered from its own index, where an OR across a join or a subquery would scan the table.
    For arms that each match few rows (ids, exact emails, numbers); `arms()` keeps common ones apart."""
    from portal.extensions import db

    present = [c for c in conditions if c is not None]
    if len(present) <= 1:
        return present[0] if present else false()
    ids = union(*(select(id_column).where(c) for c in present))
    return id_in(id_column, ids, db.session.get_bind().dialect.name)


def id_in(id_column, ids, dialect: str):
    """`id_column` among the ids `ids` selects. On PostgreSQL `id = ANY(ARRAY(…))`: the ids are computed
    once (an InitPlan) and fetched by primary key, where `id IN (…)` lets the planner hash-join the whole
    table against them."""
    if dialect == "postgresql":
        return id_column == any_(func.array(ids.scalar_subquery()))
    return id_column.in_(ids)


# ---------------------------------------------------------------- what a term says, per table


def customer_text(term: Term):
    """Free text on an order's customer: the name or the email containing it (any case), a GSTIN exactly,
    or the order number typed without ORD-."""
    from portal.orders.models import Order

    match = starts_with if term.prefix else contains
    clauses = [match(func.lower(Order.billing_name), term.text)]
    if term.could_be_in_email:
        clauses.append(match(Order.billing_email, term.text))
    if GSTIN.match(term.text.upper()):
        clauses.append(Order.billing_gstin == term.text.upper())
    if term.bare_order_number:
        clauses.append(Order.number == term.bare_order_number)
    return or_(*clauses)


def _document_orders(term: Term):
    """Order ids of invoices or credit notes with that number (exact: unique indexes; a part: trigrams)."""
    from portal.invoices.models import CreditNote, Invoice

    if term.kind == "document_part":
        invoice_match, note_match = contains(Invoice.number, term.text), contains(CreditNote.number, term.text)
    else:
        invoice_match = Invoice.number.in_(term.document_numbers)
        note_match = CreditNote.number.in_(term.document_numbers)
    by_invoice = select(Invoice.order_id).where(invoice_match)
    by_note = select(Invoice.order_id).join(CreditNote, CreditNote.invoice_id == Invoice.id).where(note_match)
    return union(by_invoice, by_note)


def _gateway_order(text: str):
    from portal.orders.models import Order
    from portal.payments.models import Payment, PaymentAllocation
    from portal.refunds.models import Refund

    if text.startswith("pay_"):  # through the allocations: a checkout's payment paid every vendor order
        paid = select(PaymentAllocation.order_id).join(Payment, Payment.id == PaymentAllocation.payment_id)
        return Order.id.in_(paid.where(Payment.gateway_payment_id == text))
    if text.startswith("rfnd_"):
        return Order.id.in_(select(Refund.order_id).where(Refund.gateway_refund_id == text))
    if text.startswith("plink_"):
        return Order.payment_link_id == text
    return Order.gateway_order_id == text


def order_condition(term: Term):
    """What a Term says about the order (for the orders list, and the lists whose rows belong to an order),
    or None when it is about a row of another table only (a row id, an amount)."""
    from portal.orders.models import Order

    if term.kind == "gateway":
        return _gateway_order(term.text)
    if term.kind == "order_number":
        return Order.number == term.text
    if term.kind in ("document_number", "document_part"):
        return Order.id.in_(_document_orders(term))
    if term.kind == "email":
        return Order.billing_email == term.text
    if term.kind == "text":
        return customer_text(term)
    return None


def _payment_own(term: Term):
    from portal.payments.models import Payment
    from portal.refunds.models import Refund

    if term.kind == "gateway" and term.text.startswith("pay_"):
        return Payment.gateway_payment_id == term.text
    if term.kind == "gateway" and term.text.startswith("rfnd_"):
        return Payment.id.in_(select(Refund.payment_id).where(Refund.gateway_refund_id == term.text))
    if term.kind == "email":
        return Payment.email == term.text
    if term.kind == "text" and term.could_be_in_email:
        return (starts_with if term.prefix else contains)(Payment.email, term.text)
    return None


def _refund_own(term: Term):
    from portal.invoices.models import CreditNote
    from portal.payments.models import Payment
    from portal.refunds.models import Refund

    if term.kind == "gateway" and term.text.startswith("rfnd_"):
        return Refund.gateway_refund_id == term.text
    if term.kind == "gateway" and term.text.startswith("pay_"):
        return Refund.payment_id.in_(select(Payment.id).where(Payment.gateway_payment_id == term.text))
    if term.kind == "document_number":  # a credit note names its refund
        return Refund.id.in_(select(CreditNote.refund_id).where(CreditNote.number.in_(term.document_numbers)))
    if term.kind == "email":
        return Refund.payment_id.in_(select(Payment.id).where(Payment.email == term.text))
    return None


def _invoice_own(term: Term):
    """A document number names this invoice (or its credit note's), not the order's void ones."""
    from portal.invoices.models import CreditNote, Invoice

    if term.kind == "document_part":
        notes = select(CreditNote.invoice_id).where(contains(CreditNote.number, term.text))
        return [contains(Invoice.number, term.text), Invoice.id.in_(notes)]
    if term.kind == "document_number":
        notes = select(CreditNote.invoice_id).where(CreditNote.number.in_(term.document_numbers))
        return [Invoice.number.in_(term.document_numbers), Invoice.id.in_(notes)]
    return None


def _columns(target: str):
    """(model, id column, amount column, the column naming its order or None, own-condition builder)."""
    from portal.invoices.models import Invoice
    from portal.orders.models import Order
    from portal.payments.models import Payment
    from portal.refunds.models import Refund

    return {
        "orders": (Order.id, Order.total, None, None),
        "payments": (Payment.id, Payment.amount, Payment.order_id, _payment_own),
        "refunds": (Refund.id, Refund.amount, Refund.order_id, _refund_own),
        "invoices": (Invoice.id, Invoice.total, Invoice.order_id, _invoice_own),
    }[target]


def arms(q: str, target: str) -> list | None:
    """The search `q` on the list of `target` (one of TARGETS) as conditions on that table, any of which
    matches: None when there is nothing to search for, [false()] when nothing can match.

    - an id or an amount: that row, or rows of that amount (the table's own indexes);
    - a gateway id names rows of its own table (a pay_… id on payments is that payment, not its siblings);
    - otherwise the row's own identifiers (its email, a credit note's refund) and, as a separate arm, the
      order's (number, customer name and email), matched through the orders' indexes.
    """
    term = classify(q)
    return None if term is None else _arms(term, target)


def prefix_arms(q: str, target: str) -> list | None:
    """For free text, the arms of a prefix match only (`LIKE 'text%'`, which btrees serve and a LIMIT stops
    early), else None: what they find the contains match finds too, so when a capped read of them already
    passes the cap the search is common, found without asking the trigram indexes for every one of its rows
    (a name shared by 1 order in 150: 0.5 ms for the btree, 13 ms for the trigram index at 1M orders)."""
    term = classify(q)
    if term is None or term.kind != "text" or len(term.text) < TRIGRAM:
        return None
    return _arms(replace(term, prefix=True), target)


def _arms(term: Term, target: str) -> list:
    from portal.orders.models import Order

    id_column, amount_column, order_column, own_condition = _columns(target)
    if term.kind == "number":
        return [id_or_amount(term, id_column, amount_column)]
    if term.kind == "amount":
        return [amount_column == term.amount]
    on_order = order_condition(term)
    if order_column is None:
        return [false() if on_order is None else on_order]
    own = own_condition(term)
    own = own if isinstance(own, list) else [] if own is None else [own]
    if own and (term.kind == "gateway" or (target == "invoices" and term.kind.startswith("document"))):
        return own
    found = [*own, *([order_column.in_(select(Order.id).where(on_order))] if on_order is not None else [])]
    return found or [false()]


def clause(q: str, target: str):
    """The search as one WHERE condition (None when there is none): a single arm as it is, several as one id
    lookup (any_of). For lists that are not keyset pages (invoices) and for statements counting rows."""
    found = arms(q, target)
    if found is None:
        return None
    id_column = _columns(target)[0]
    return found[0] if len(found) == 1 else any_of(id_column, *found)


def find(q: str, target: str, limit: int = 5) -> list:
    """The newest `limit` rows of `target` that the search `q` finds, for a global search box: the same arms
    as the lists, each read as its own `ORDER BY … LIMIT` (listing.top_ids)."""
    from portal.extensions import db
    from portal.listing import top_ids

    found = arms(q, target)
    if not found:
        return []
    id_column = _columns(target)[0]
    model = next(m for m in db.Model.registry.mappers if m.local_table is id_column.table).class_
    created = model.issued_at if target == "invoices" else model.created_at
    order = (created.desc(), id_column.desc())
    ids = top_ids(id_column, [], found, order, limit)
    statement = select(model).where(id_in(id_column, ids, db.session.get_bind().dialect.name)).order_by(*order)
    return list(db.session.scalars(statement.limit(limit)).unique())
