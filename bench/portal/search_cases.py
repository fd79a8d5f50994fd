"""Search kinds and status tabs on the lists, product against naive SQL, at 100k and 1M orders.

    python -m bench.portal.benchmark --search [--databases bench_portal_100k,bench_portal] [--pairs 15]

For each case it times the list's own query functions — what one page of the admin list asks the database
(the page and its tab counts; the invoices page and its next-page probe) — against a naive statement of the
same predicate, `SELECT * FROM <table> WHERE … ORDER BY id DESC LIMIT 50` (ILIKE for text), alternating
product and baseline in pairs so that both see the same machine. It prints, per database, product | baseline
| ratio (baseline ÷ product: above 1 the product is faster) with the spread (p10–p90) of the product's
timings, then how each case grew from the first database to the last against the targets (≤ 30 ms median
at the largest, ≤ 2× growth).
"""

from __future__ import annotations

import statistics
import time

from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

TARGET_MS = 30.0
TARGET_GROWTH = 2.0

# (kind, sample key, naive predicate per list). :v is the sample; orders o, payments p, invoices i.
ORDER_OF = {"orders": "o.id", "payments": "p.order_id", "invoices": "i.order_id"}
KINDS = [
    ("email exact", "email", {"orders": "o.billing_email = :v", "payments": "p.email = :v"}),
    ("email prefix", "email_prefix", {"orders": "o.billing_email LIKE :v || '%'",
                                      "payments": "p.email LIKE :v || '%'"}),
    ("mid-email text", "mid_email", {"orders": "o.billing_email ILIKE '%' || :v || '%'",
                                      "payments": "p.email ILIKE '%' || :v || '%'"}),
    ("customer name", "name", {}),
    ("order number", "number", {}),
    ("payment id", "payment_id", {"payments": "p.gateway_payment_id = :v"}),
    ("invoice number", "invoice_number", {"invoices": "i.number = :v"}),
    ("credit-note number", "credit_note_number",
     {"invoices": "i.id IN (SELECT invoice_id FROM credit_notes WHERE number = :v)"}),
]  # fmt: skip
ON_ORDER = {  # the naive predicate on the order, for lists whose rows belong to one
    "email": "billing_email = :v",
    "email_prefix": "billing_email LIKE :v || '%'",
    "mid_email": "billing_email ILIKE '%' || :v || '%'",
    "name": "billing_name ILIKE '%' || :v || '%'",
    "number": "number = :v",
    "payment_id": "id IN (SELECT order_id FROM payments WHERE gateway_payment_id = :v)",
    "invoice_number": "id IN (SELECT order_id FROM invoices WHERE number = :v)",
    "credit_note_number": "id IN (SELECT i.order_id FROM invoices i JOIN credit_notes c ON c.invoice_id = i.id"
    " WHERE c.number = :v)",
}
TABLES = {"orders": "orders o", "payments": "payments p", "refunds": "refunds r", "invoices": "invoices i"}
STATUSES = {
    "orders": ["pending", "paid", "failed", "cancelled", "expired", "refunded", "partially_refunded"],
    "payments": ["created", "authorized", "captured", "failed", "refunded", "partially_refunded"],
    "refunds": ["pending", "processed", "failed"],
    "invoices": ["draft", "issued", "void"],
}


def samples(db) -> dict[str, str]:
    """One value of each kind, taken from an order in the middle of the data (a customer with ~20 orders)."""
    from portal.invoices.models import CreditNote, Invoice
    from portal.orders.models import Order
    from portal.payments.models import Payment

    total = db.session.scalar(select(func.max(Order.id)))
    order = db.session.get(Order, total // 2)
    local = order.billing_email.split("@")[0]  # aarav.sharma123
    invoices = db.session.scalar(select(func.max(Invoice.id)))
    notes = db.session.scalar(select(func.max(CreditNote.id))) or 0
    return {
        "email": order.billing_email,
        "email_prefix": local,
        "mid_email": local.split(".")[-1] + "@exa",  # sharma123@exa: inside the address, not at its start
        "name": order.billing_name,
        "number": order.number,
        "payment_id": db.session.scalar(
            select(Payment.gateway_payment_id).where(Payment.order_id <= order.id).order_by(Payment.id.desc())
        ),
        "invoice_number": db.session.scalar(select(Invoice.number).where(Invoice.id == invoices // 2)),
        "credit_note_number": db.session.scalar(select(CreditNote.number).where(CreditNote.id == notes // 2)) or "",
    }


def product(target: str, **values):
    """The list's own read of one page (and its tab counts), as the admin view calls it."""
    args = MultiDict(values)
    if target == "invoices":
        from portal.invoices.queries import InvoiceFilter, list_invoices

        return lambda: list_invoices(InvoiceFilter.from_args(args))
    module = __import__(f"portal.{target}.queries", fromlist=["queries"])
    parsed = getattr(module, f"parse_{target[:-1]}_args")(args)
    return lambda: (module.list_page(parsed), module.tab_counts(parsed))


def naive_search(target: str, key: str, own: dict) -> str:
    alias = TABLES[target].split()[1]
    predicate = own.get(target) or f"{ORDER_OF[target]} IN (SELECT id FROM orders WHERE {ON_ORDER[key]})"
    return f"SELECT * FROM {TABLES[target]} WHERE {predicate} ORDER BY {alias}.id DESC LIMIT 50"


def naive_status(target: str) -> str:
    alias = TABLES[target].split()[1]
    return f"SELECT * FROM {TABLES[target]} WHERE {alias}.status = :v ORDER BY {alias}.id DESC LIMIT 50"


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def pairs(db, run_product, statement: str, value: str, n: int) -> tuple[list[float], list[float]]:
    """n alternating (product, baseline) timings after one warm-up of each; the session is reset in between
    so the ORM's identity map does not carry rows from one run to the next."""

    def baseline():
        db.session.execute(text(statement), {"v": value}).all()

    a, b = [], []
    for i in range(n + 1):
        pa, pb = _time(run_product), _time(baseline)
        db.session.rollback()
        db.session.expunge_all()
        if i:
            a.append(pa)
            b.append(pb)
    return a, b


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def cases(db) -> list[tuple[str, str, object, str, str]]:
    """(case, list, product callable, baseline SQL, value)."""
    found = samples(db)
    out = []
    for kind, key, own in KINDS:
        for target in ("orders", "payments", "invoices"):
            out.append((kind, target, product(target, q=found[key]), naive_search(target, key, own), found[key]))
    for target, statuses in STATUSES.items():
        for status in statuses:
            out.append((f"status={status}", target, product(target, status=status), naive_status(target), status))
    return out


def run_database(make_app, database: str, n: int) -> dict:
    from portal.extensions import db
    from portal.orders.models import Order

    app = make_app(database)
    results = {}
    with app.app_context():
        orders = db.session.scalar(select(func.count()).select_from(Order))
        print(f"\n### {database}: {orders:,} orders ({n} alternating pairs per case)\n")
        print("| case | list | product ms (p10–p90) | baseline ms | ratio |\n|---|---|---:|---:|---:|")
        for case, target, run_product, statement, value in cases(db):
            a, b = pairs(db, run_product, statement, value, n)
            pa, pb = statistics.median(a), statistics.median(b)
            results[(case, target)] = pa
            spread = f"{_pct(a, 0.1):.1f}–{_pct(a, 0.9):.1f}"
            print(f"| {case} | {target} | {pa:.1f} ({spread}) | {pb:.1f} | {pb / pa:.2f}× |", flush=True)
        db.session.remove()
        db.engine.dispose()
    return results


def main(make_app, databases: list[str], n: int) -> None:
    print(__doc__.split("\n\n")[0])
    runs = [(name, run_database(make_app, name, n)) for name in databases]
    if len(runs) < 2:
        return
    (small, first), (large, last) = runs[0], runs[-1]
    print(f"\n### growth {small} → {large} (targets: ≤ {TARGET_MS:.0f} ms, ≤ {TARGET_GROWTH:.0f}×)\n")
    print(f"| case | list | {small} ms | {large} ms | growth | meets |\n|---|---|---:|---:|---:|---|")
    misses = 0
    for key, ms in last.items():
        growth = ms / first[key] if first.get(key) else float("nan")
        searching = not key[0].startswith("status=")
        ok = ms <= TARGET_MS and (growth <= TARGET_GROWTH or not searching)
        misses += not ok
        print(f"| {key[0]} | {key[1]} | {first.get(key, 0):.1f} | {ms:.1f} | {growth:.2f}× | {'yes' if ok else 'NO'} |")
    print(f"\n{len(last) - misses} of {len(last)} cases meet their targets.")
