"""Invoice PDF rendering: time per invoice, and invoices per second for a bulk run on one and two processes.

    python -m bench.invoices.bench [--invoices 200] [--samples 60] [--write-docs]

Builds a scratch SQLite database (or BENCH_DATABASE_URL — it is emptied: never point it at data you keep),
places and pays N orders of 1–6 lines through the real services (each payment auto-issues its invoice), then
measures (1) issuing alone (the number, no PDF: what the payment webhook waits for), (2) rendering one invoice,
median and p95 over --samples, (3) `flask invoices generate --regenerate` on 1 and on 2 worker processes.
--write-docs replaces the figures between the BENCH markers in docs/invoices.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "invoices.md"
BEGIN, END = "<!-- BENCH:BEGIN -->", "<!-- BENCH:END -->"


def make_app(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    from portal import create_app
    from portal.config import DevelopmentConfig
    from portal.extensions import db

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def seed(count: int, first: int = 0) -> list[float]:
    """Pay `count` orders; returns the seconds each auto-issue (number allocation, no PDF) took."""
    from portal.history.services import Actor
    from portal.invoices.services import issue_invoice
    from portal.orders.services import place_order
    from portal.payments.services import apply_gateway_payment
    from tests import factories

    rng = random.Random(7)
    products = [factories.product(price=rng.randint(999, 499_900), tax_rate_bp=rng.choice([500, 1200, 1800]))
                for _ in range(30)]  # fmt: skip
    customers = [factories.customer(billing_state=rng.choice(["Karnataka", "Kerala", "Maharashtra"]),
                                    billing_address="1 Bench Street", gstin=None) for _ in range(10)]  # fmt: skip
    issue_times = []
    for n in range(count):
        lines = rng.sample(products, rng.randint(1, 6))
        items = [{"product_id": p.id, "quantity": rng.randint(1, 3)} for p in lines]
        order = place_order(rng.choice(customers), items, gateway_order_id=f"order_B{first + n:013d}")
        apply_gateway_payment(factories.payment_entity(order), actor=Actor.gateway())
        if order.invoice is None:  # AUTO_INVOICE off: issue here
            started = time.perf_counter()
            issue_invoice(order.id, actor=Actor.system("bench"))
            issue_times.append(time.perf_counter() - started)
    return issue_times


def time_issue(samples: int, first: int) -> list[float]:
    """Issue invoices for `samples` fresh paid orders with AUTO_INVOICE off: the cost of the number alone."""
    from flask import current_app

    current_app.config["AUTO_INVOICE"] = False
    try:
        return seed(samples, first)
    finally:
        current_app.config["AUTO_INVOICE"] = True


def time_render(ids: list[int]) -> list[float]:
    from portal.extensions import db
    from portal.invoices.documents import render_invoice
    from portal.invoices.models import Invoice

    timings = []
    for invoice_id in ids:
        invoice = db.session.get(Invoice, invoice_id)
        started = time.perf_counter()
        render_invoice(invoice)
        timings.append(time.perf_counter() - started)
    return timings


def time_bulk(app, workers: int) -> tuple[int, float]:
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["invoices", "generate", "--regenerate", "--workers", str(workers)])
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(result.output)
    rendered = int(result.output.split("rendered ")[1].split(" ")[0])
    return rendered, elapsed


def report(figures: dict) -> str:
    render, issue = figures["render"], figures["issue"]
    p95 = statistics.quantiles(render, n=20)[-1]
    rows = [
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} ({os.cpu_count()} cores), "
        f"Python {platform.python_version()}, {figures['db']}; {figures['count']} invoices of 1–6 lines; "
        f"load average {figures['load']:.1f} when it started (other work on the machine slows every figure).",
        "",
        "| measure | result |",
        "| --- | --- |",
        f"| issue one invoice (number + snapshot, no PDF), median | {statistics.median(issue) * 1000:.1f} ms |",
        f"| render one invoice PDF, median (p95) | {statistics.median(render) * 1000:.1f} ms ({p95 * 1000:.1f} ms) |",
    ]
    for workers, (rendered, elapsed) in figures["bulk"].items():
        rows.append(
            f"| bulk `generate --regenerate`, {workers} process(es) | {rendered / elapsed:.1f} invoices/s "
            f"({rendered} in {elapsed:.1f} s, stored and committed) |"
        )
    return "\n".join(rows)


def write_docs(text: str) -> None:
    doc = DOC.read_text()
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    scratch = tempfile.mkdtemp(prefix="bench-invoices-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite"
    load = os.getloadavg()[0]
    app = make_app(url)
    with app.app_context():
        seed(args.invoices)
        issue = time_issue(args.samples, first=args.invoices)
        from portal.invoices.bulk import invoices_to_render

        ids = invoices_to_render(regenerate=True)
        render = time_render(ids[: args.samples])
        bulk = {workers: time_bulk(app, workers) for workers in (1, 2)}
    figures = {
        "render": render,
        "issue": issue,
        "bulk": bulk,
        "count": len(ids),
        "db": url.split(":", 1)[0],
        "load": load,
    }
    text = report(figures)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
