"""The plans of the lists' statements on PostgreSQL: each search kind and each status tab reads a bounded
number of rows through an index, never the whole table, so it stays flat as the tables grow.

A shop of 20,000 orders (bench/portal/generate.py, loaded with COPY and analysed) is enough for the planner
to cost a full read as the expensive choice it is. Each statement a list issues is run under
`EXPLAIN (ANALYZE, FORMAT JSON)`, and the rows its scans of the big tables touched (returned, removed by a
filter or an index recheck, times loops) must stay under a budget that is a few percent of the table: a
sequential scan, or walking the date index past thousands of rows for a rare status, goes far over it.
No timing is asserted (timings live in bench/portal/benchmark.py)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import MultiDict

from bench.portal.generate import COLUMNS, Shop, Writer, load
from portal.extensions import db

ORDERS = 20_000
BIG_TABLES = {"orders", "payments", "invoices", "credit_notes"}
BUDGET = 1_000  # rows a search statement may touch in the big tables (5 % of the orders)
# A status tab may be read by walking the date index until a page of its rows is found: 51 rows of a status
# holding 4 % of them is ~1,300 rows, whatever the table's size. A status with no rows (void invoices,
# created payments) must not walk the table at all: its (status, date) index answers at once.
STATUS_BUDGET = 2_000


@pytest.fixture
def shop(postgres):
    """20,000 generated orders with their payments, refunds, invoices and credit notes (emptied after the test
    like every other row)."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    generated = Shop(ORDERS, 4_000, datetime.now().replace(microsecond=0), seed=11)
    with tempfile.TemporaryDirectory(prefix="plans-") as tmp:
        writer = Writer(Path(tmp), COLUMNS)
        generated.customers(writer)
        for i in range(1, ORDERS + 1):
            generated.order(writer, i)
        writer.close()
        db.session.remove()
        load(url, Path(tmp), writer, quiet=True)
    return generated


def _statements(run) -> list[tuple[str, dict]]:
    seen = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def _scans(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _scans(child)


def _touched(statement: str, parameters) -> tuple[int, list[str]]:
    """(rows the statement's scans of the big tables touched, those scans' node types)."""
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()
    rows, kinds = 0, []
    for node in _scans(plan[0]["Plan"]):
        if node.get("Relation Name") in BIG_TABLES:
            kinds.append(f"{node['Node Type']} on {node['Relation Name']}")
            read = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
            read += node.get("Rows Removed by Index Recheck", 0)
            rows += read * node["Actual Loops"]
    return rows, kinds


def _assert_bounded(run, what: str, budget: int = BUDGET):
    statements = [(s, p) for s, p in _statements(run) if "EXPLAIN" not in s]
    assert statements, what
    for statement, parameters in statements:
        rows, kinds = _touched(statement, parameters)
        assert not any(k.startswith("Seq Scan") for k in kinds), (what, kinds, statement)
        assert rows <= budget, (what, rows, kinds, statement)


def _list(name: str, *, counts: bool = True, **values):
    """A callable that reads one page of list `name` (and its tab counts) as the admin page does."""
    args = MultiDict(values)
    if name == "invoices":
        from portal.invoices.queries import InvoiceFilter, list_invoices

        return lambda: list_invoices(InvoiceFilter.from_args(args))
    module = __import__(f"portal.{name}.queries", fromlist=["queries"])
    parsed = getattr(module, f"parse_{name[:-1]}_args")(args)

    def run():
        module.list_page(parsed)
        if counts:
            module.tab_counts(parsed)

    return run


def _samples() -> dict[str, str]:
    """One rare value of each search kind, picked from the generated data."""
    from portal.invoices.models import CreditNote, Invoice
    from portal.orders.models import Order
    from portal.payments.models import Payment

    order = db.session.get(Order, ORDERS // 3)
    customer_number = order.billing_email.split("@")[0].split(".")[-1]  # "sharma123" of aarav.sharma123@…
    return {
        "email exact": order.billing_email,
        "email prefix": order.billing_email.split("@")[0],
        "mid-email text": customer_number + "@exa",
        "order number": order.number,
        "payment id": db.session.scalar(select(Payment.gateway_payment_id).order_by(Payment.id).offset(999).limit(1)),
        "invoice number": db.session.scalar(select(Invoice.number).order_by(Invoice.id).offset(1234).limit(1)),
        "credit-note number": db.session.scalar(select(func.max(CreditNote.number))),
        "invoice number part": db.session.scalar(select(Invoice.number).order_by(Invoice.id).limit(1))[:-1],
    }


SEARCH_KINDS = [
    "email exact",
    "email prefix",
    "mid-email text",
    "order number",
    "payment id",
    "invoice number",
    "credit-note number",
    "invoice number part",
]


@pytest.mark.parametrize("name", ["orders", "payments", "refunds", "invoices"])
def test_each_search_kind_reads_its_matches_through_an_index(shop, name):
    samples = _samples()
    assert all(samples.values()), samples
    for kind in SEARCH_KINDS:
        _assert_bounded(_list(name, q=samples[kind]), f"{name}: {kind} {samples[kind]!r}")


def test_a_mid_email_search_finds_the_orders_a_prefix_search_would_miss(shop):
    from portal.orders import queries

    samples = _samples()
    page = queries.list_page(queries.parse_order_args(MultiDict({"q": samples["mid-email text"]})))
    assert page.rows and all(samples["mid-email text"] in o.billing_email for o in page.rows)
    by_name = queries.list_page(queries.parse_order_args(MultiDict({"q": "SHARMA"})))
    assert by_name.rows and all("Sharma" in o.billing_name for o in by_name.rows)


@pytest.mark.parametrize(
    ("name", "statuses"),
    [
        ("orders", "pending paid failed cancelled expired refunded partially_refunded"),
        ("payments", "created authorized captured failed refunded partially_refunded"),
        ("refunds", "pending processed failed"),
        ("invoices", "draft issued void"),
    ],
)
def test_every_status_tab_reads_one_page_of_its_own_rows(shop, name, statuses):
    for status in statuses.split():
        # The page only: tab counts are capped reads (COUNT_CAP rows a tab), bounded by design, not by status.
        _assert_bounded(_list(name, counts=False, status=status), f"{name}: status={status}", STATUS_BUDGET)
