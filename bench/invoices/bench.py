"""Invoice PDFs: one document at 1, 10 and 100 lines against plain xhtml2pdf and a ReportLab floor, then bulk
`flask invoices generate` throughput on 1 and N processes.

    python -m bench.invoices.bench [--rounds 20] [--bulk 320] [--workers N] [--write-docs]

(1) Single documents: each round renders the product's invoice (render_invoice: context, Jinja, xhtml2pdf),
the plain xhtml2pdf page and the ReportLab floor of the same content (bench/invoices/baselines.py), in an order
that rotates every round, after warm_up as in a bulk worker (fonts registered, start-up heap frozen out of
the garbage collector, which the baselines share); CPU time of this process per render (rendering is pure CPU,
and CPU time is less disturbed than wall time by other work on the machine). The invoices are built in memory
(a 100-line order cannot be placed: orders stop at 50 lines), from the same model classes the renderer reads.
Printed: median (p10–p90) of each, and the ratio product / baseline as the median of the per-round ratios
(min–max).
(2) Bulk: pays --bulk orders of 1–6 lines through the real services in a scratch SQLite database (or
BENCH_DATABASE_URL — it is emptied: never point it at data you keep), then regenerates every PDF as
`flask invoices generate --regenerate` does (render_many + store_batch, the parent storing), on 1 and on N
processes (default: one per core), alternately, twice each; wall time, with the workers' start-up and without
it (from the first batch's arrival on).
--write-docs replaces the figures between the BENCH markers in docs/invoices.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "invoices.md"
BEGIN, END = "<!-- BENCH:BEGIN -->", "<!-- BENCH:END -->"
SELLER = {"name": "Demo Learning Pvt Ltd", "address": "12 MG Road, Bengaluru 560001", "state": "Karnataka",
          "gstin": "29ABCDE1234F1Z5"}  # fmt: skip
BUYER = {"name": "Bharat Tools Pvt Ltd", "address": "4 Residency Road, Bengaluru 560025", "email": "a@b.test",
         "state": "Karnataka", "gstin": "29AAACB1234C1Z5"}  # fmt: skip
TOPICS = ("Python for data work", "SQL in practice", "Accounting basics for small firms", "GST returns", "Excel")


def make_app(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    from portal import create_app
    from portal.config import DevelopmentConfig, normalise_database_url

    return create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=normalise_database_url(url), RATELIMIT_ENABLED=False)


def memory_invoice(lines: int):
    """An issued intra-state invoice of `lines` lines, in memory (nothing is stored)."""
    from portal.invoices.models import Invoice
    from portal.orders.models import Order, OrderItem

    items = []
    for i in range(lines):
        price, quantity = 49_900 + 1_000 * (i % 40), 1 + i % 3
        taxable = price * quantity
        items.append(OrderItem(sku=f"SKU-{i}", title=f"Course {i + 1}: {TOPICS[i % len(TOPICS)]}", kind="course",
                               hsn_sac="999293", unit_price=price, quantity=quantity, tax_rate_bp=1800,
                               taxable_amount=taxable, tax_amount=(taxable * 18 + 50) // 100))  # fmt: skip
    order = Order(number="ORD-26-000123", currency="INR", items=items)
    total = sum(item.taxable_amount + item.tax_amount for item in items)
    return Invoice(order=order, number="INV/26-27/00042", status="issued", issued_at=datetime(2026, 11, 1, 10),
                   currency="INR", total=total, seller=SELLER, buyer=BUYER, place_of_supply="Karnataka",
                   payment_reference="pay_T0000000000001")  # fmt: skip


def contenders(lines: int) -> dict:
    """name → a function rendering one PDF of `lines` lines (product, plain xhtml2pdf, ReportLab floor)."""
    from bench.invoices import baselines
    from portal.invoices.documents import invoice_context, render_invoice
    from portal.invoices.pdf import font_dir
    from portal.money import format_money

    invoice = memory_invoice(lines)
    context = invoice_context(invoice)
    cells = baselines.rows(context, format_money)
    figures = context["figures"]
    totals = [("Total taxable value", format_money(figures.subtotal)), ("CGST", format_money(figures.split.cgst)),
              ("SGST", format_money(figures.split.sgst)), ("Total", format_money(invoice.total))]  # fmt: skip
    html = baselines.plain_html(context, cells, totals)
    fonts = str(font_dir())
    return {
        "product": lambda: render_invoice(invoice),
        "plain xhtml2pdf": lambda: baselines.plain_xhtml2pdf(html),
        "ReportLab floor": lambda: baselines.reportlab_floor(context, cells, totals, fonts),
    }


def time_documents(lines: int, rounds: int) -> dict[str, list[float]]:
    """CPU seconds per render of each contender, `rounds` times, the order rotating each round."""
    runs = contenders(lines)
    names = list(runs)
    for render in runs.values():
        render()  # warm: fonts registered, templates compiled
    from portal.invoices.pdf import warm_up

    warm_up()  # and the start-up heap frozen out of the garbage collector, as in every bulk worker
    timings = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            started = time.process_time()
            runs[name]()
            timings[name].append(time.process_time() - started)
    return timings


def spread(values: list[float]) -> str:
    if len(values) < 3:
        return f"{min(values) * 1000:.1f}–{max(values) * 1000:.1f}"
    deciles = statistics.quantiles(values, n=10)
    return f"{deciles[0] * 1000:.1f}–{deciles[-1] * 1000:.1f}"


def document_rows(lines: int, timings: dict[str, list[float]]) -> list[str]:
    product = timings["product"]
    rows = [f"| {lines} | product | {statistics.median(product) * 1000:.1f} ({spread(product)}) | | |"]
    for name in ("plain xhtml2pdf", "ReportLab floor"):
        base = timings[name]
        ratios = [p / b for p, b in zip(product, base, strict=True)]
        rows.append(
            f"| {lines} | {name} | {statistics.median(base) * 1000:.1f} ({spread(base)}) | "
            f"{statistics.median(ratios):.2f} | {min(ratios):.2f}–{max(ratios):.2f} |"
        )
    return rows


def seed(count: int) -> None:
    """Pay `count` orders of 1–6 lines through the real services (each payment issues its invoice)."""
    import random

    from portal.history.services import Actor
    from portal.orders.services import place_order
    from portal.payments.services import apply_gateway_payment
    from tests import factories

    rng = random.Random(7)
    products = [factories.product(price=rng.randint(999, 499_900), tax_rate_bp=rng.choice([500, 1200, 1800]))
                for _ in range(30)]  # fmt: skip
    customers = [factories.customer(billing_state=rng.choice(["Karnataka", "Kerala", "Maharashtra"]),
                                    billing_address="1 Bench Street", gstin=None) for _ in range(10)]  # fmt: skip
    for n in range(count):
        lines = rng.sample(products, rng.randint(1, 6))
        items = [{"product_id": p.id, "quantity": rng.randint(1, 3)} for p in lines]
        order = place_order(rng.choice(customers), items, gateway_order_id=f"order_B{n:013d}")
        apply_gateway_payment(factories.payment_entity(order), actor=Actor.gateway())


def time_bulk(ids: list[int], workers: int) -> tuple[float, float]:
    """Render and store every PDF of `ids` as `flask invoices generate --regenerate` does: (invoices per second
    overall, with the workers' start-up; invoices per second after the first batch arrived, without it)."""
    from portal.history.services import Actor
    from portal.invoices import bulk

    started = time.perf_counter()
    first_at, first_size, stored = None, 0, 0
    for batch in bulk.render_many(ids, workers):
        if first_at is None:
            first_at, first_size = time.perf_counter(), len(batch)
        done, failures = bulk.store_batch(batch, actor=Actor.system("bench"), reason="bench")
        if failures:
            raise SystemExit("\n".join(failures))
        stored += done
    ended = time.perf_counter()
    assert stored == len(ids)
    return len(ids) / (ended - started), (len(ids) - first_size) / (ended - first_at)


def bulk_rows(ids: list[int], workers: int) -> list[str]:
    rates: dict[int, list[tuple[float, float]]] = {1: [], workers: []}
    for _ in range(2):
        for n in dict.fromkeys((1, workers)):
            rates[n].append(time_bulk(ids, n))
    rows = []
    for n, runs in rates.items():
        overall = statistics.median(r[0] for r in runs)
        steady = statistics.median(r[1] for r in runs)
        each = ", ".join(f"{a:.1f} / {b:.1f}" for a, b in runs)
        rows.append(f"| {n} | {overall:.1f} | {steady:.1f} | {each} |")
    return rows


def report(doc_rows: list[str], bulk: list[str], count: int, db: str, load: float) -> str:
    return "\n".join([
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({os.cpu_count()} cores), Python "
        f"{platform.python_version()}; load average {load:.1f} at the start (other work slows every figure).",
        "",
        "| lines | render | CPU ms, median (p10–p90) | product / this, median | min–max |",
        "| --- | --- | --- | --- | --- |",
        *doc_rows,
        "",
        f"Bulk regenerate of {count} invoices of 1–6 lines ({db}), rendered and stored (wall time):",
        "",
        "| processes | invoices/s with start-up, median | after the first batch, median | each run (with / after) |",
        "| --- | --- | --- | --- |",
        *bulk,
    ])  # fmt: skip


def write_docs(text: str) -> None:
    doc = DOC.read_text()
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="renders of each contender at 1 and 10 lines")
    parser.add_argument("--bulk", type=int, default=320, help="invoices in the bulk run (0: skip it)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    load = os.getloadavg()[0]
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='bench-invoices-')}/b.sqlite"
    app = make_app(url)
    from portal.extensions import db

    with app.app_context():
        doc_rows = []
        for lines, rounds in ((1, args.rounds), (10, args.rounds), (100, max(3, args.rounds // 4))):
            doc_rows += document_rows(lines, time_documents(lines, rounds))
            print("\n".join(doc_rows[-3:]), flush=True)
        bulk, ids = [], []
        if args.bulk:
            db.drop_all()
            db.create_all()
            seed(args.bulk)
            from portal.invoices.bulk import invoices_to_render

            ids = invoices_to_render(regenerate=True)
            bulk = bulk_rows(ids, args.workers)
    text = report(doc_rows, bulk, len(ids), url.split(":", 1)[0], load)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
