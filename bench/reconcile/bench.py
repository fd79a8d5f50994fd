"""Reconcile at 10,000 orders, against the sandbox with 0 and 50 ms of gateway latency: the thread pool (the
product) against one order after another (workers=1, the baseline), and the incremental run against the full
sweep. Every figure comes from this one run; `--repeat N` alternates product and baseline N times and reports
the spread.

    python -m bench.reconcile.bench                       # PostgreSQL bench_h3_reconcile, ~5 minutes
    python -m bench.reconcile.bench --sqlite              # a scratch SQLite file instead
    python -m bench.reconcile.bench --orders 2000 --repeat 3

The database is DROPPED and rebuilt (never point --database-url at data you keep; names starting with `test`
are refused). Set-up writes both books in bulk — our orders, payments and refunds with SQLAlchemy Core, the
sandbox's documents straight into its store — in agreement except for a few seeded drifts, with most orders
settled long ago. Every measured run is a dry run (the same fetches and comparisons; nothing repaired, so each
run sees the same drift). The sequential baseline at 50 ms would take ~25 minutes for 10,000 orders, so it runs
on an evenly spread sample (--baseline-sample) and is reported per order and extrapolated, which is exact for
a sequential run up to noise: its time is the sum of the orders' times.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.scratch import ensure_database

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_h3_reconcile"
# share of orders (by kind): settled long ago in both books, unless said otherwise
MIX = [
    ("paid", 0.86),
    ("refunded", 0.04),  # one processed refund of part of the payment
    ("failed", 0.01),
    ("authorized", 0.01),  # manual capture waiting for finance: can still change
    ("pending", 0.04),  # placed today, not paid yet
    ("recent", 0.03),  # paid yesterday: inside --since
    ("lost", 0.01),  # captured at the gateway, every webhook lost: ours is pending (drift to repair)
]


class CallCounter(logging.Handler):
    """Counts the adapter's calls (one log record each) without printing them."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.calls = 0

    def emit(self, record):
        if hasattr(record, "gateway_operation"):
            self.calls += 1


def make_app(url: str, scratch: str):
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    from portal import create_app
    from portal.config import DevelopmentConfig
    from portal.extensions import db

    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url,
        SANDBOX_DATABASE_URL=f"sqlite:///{scratch}/sandbox.sqlite",
        RATELIMIT_ENABLED=False,
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def ensure_scratch_database(url: str) -> None:
    """Create the scratch PostgreSQL database when it is missing (never a test or system database)."""
    name = url.rsplit("/", 1)[1]
    if name.startswith("test") or name == "postgres":
        raise SystemExit(f"refusing to rebuild {name!r}: use a scratch database such as bench_h3_reconcile")
    ensure_database(url)


def seed(count: int) -> dict[str, int]:
    """Both books, in bulk; returns how many orders of each kind."""
    from portal.sandbox import entities as ent
    from portal.timeutil import utcnow

    rng = random.Random(20)
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=count)
    now, old = utcnow(), utcnow() - timedelta(days=60)
    ours = {"orders": [], "payments": [], "refunds": []}
    docs = []  # (kind, doc, parent id) for the sandbox store
    for n, kind in enumerate(kinds, start=1):
        when = now - timedelta(hours=1) if kind in ("pending", "lost") else now - timedelta(days=1)
        when = when if kind in ("pending", "lost", "recent") else old
        amount = rng.randint(10, 5000) * 100
        order = ent.order(amount=amount, currency="INR", receipt=f"B{n}", notes={}, capture="auto", partial=False)
        docs.append(("order", order, None))
        row = {"id": n, "number": f"ORD-B{n:07d}", "customer_id": 1, "currency": "INR", "subtotal": amount}
        row |= {"total": amount, "status": "pending", "gateway_order_id": order["id"], "receipt": f"B{n}"}
        row |= {"created_at": when, "updated_at": when}
        ours["orders"].append(row)
        if kind != "pending":
            _pay(kind, n, order, row, ours, docs, rng)
    _write_ours(ours)
    _write_sandbox(docs)
    return {k: kinds.count(k) for k, _ in MIX}


def _pay(kind: str, n: int, order: dict, row: dict, ours: dict, docs: list, rng) -> None:
    from portal.sandbox import entities as ent

    pay = ent.payment(order, "upi", email="bench@example.test", contact="+919999999999")
    if kind == "failed":
        ent.fail(pay)
        order["status"], row["status"] = "attempted", "failed"
    elif kind == "authorized":
        ent.authorize(pay)
        order["status"], order["_capture"], row["capture_mode"] = "attempted", "manual", "manual"
    else:
        ent.authorize(pay)
        ent.capture(pay)
        order.update(status="paid", amount_paid=order["amount"], amount_due=0)
        row["status"] = "paid" if kind != "lost" else "pending"
    docs.append(("payment", pay, order["id"]))
    status = {"paid": "captured", "recent": "captured", "refunded": "partially_refunded"}.get(kind, pay["status"])
    if kind != "lost":
        ours["payments"].append(_payment_row(n, pay, status, row))
    if kind == "refunded":
        _refund(n, pay, row, ours, docs, rng)


def _payment_row(n: int, pay: dict, status: str, order_row: dict) -> dict:
    when = order_row["created_at"]
    row = {"id": n, "order_id": n, "gateway_payment_id": pay["id"], "amount": pay["amount"], "currency": "INR"}
    row |= {"status": status, "method": "upi", "created_at": when, "updated_at": when}
    if status in ("captured", "partially_refunded"):
        row["captured_at"] = when
    return row


def _refund(n: int, pay: dict, order_row: dict, ours: dict, docs: list, rng) -> None:
    from portal.sandbox import entities as ent

    amount = max(100, pay["amount"] // rng.choice([2, 4]))
    rfnd = ent.refund(pay, amount=amount, notes={"idempotency_key": f"bench-{n}"}, receipt=None, speed="normal")
    rfnd["status"] = "processed"
    pay["amount_refunded"], pay["refund_status"] = amount, "partial"
    docs.append(("refund", rfnd, pay["id"]))
    order_row["status"] = "partially_refunded"
    when = order_row["created_at"]
    ours["payments"][-1]["amount_refunded"] = amount
    ours["refunds"].append(
        {"payment_id": n, "order_id": n, "gateway_refund_id": rfnd["id"], "amount": amount, "currency": "INR"}
        | {"status": "processed", "idempotency_key": f"bench-{n}", "created_at": when, "updated_at": when}
    )


def _write_ours(ours: dict) -> None:
    from sqlalchemy import insert, text

    from portal.auth.models import Role
    from portal.auth.services import upsert_user
    from portal.extensions import db
    from portal.orders.models import Order
    from portal.payments.models import Payment
    from portal.refunds.models import Refund

    upsert_user("bench-customer@example.test", "bench-password-123", Role.CUSTOMER)
    for model, rows in ((Order, ours["orders"]), (Payment, ours["payments"]), (Refund, ours["refunds"])):
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(model), rows[start : start + 2000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
        for table in ("orders", "payments"):
            db.session.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def _write_sandbox(docs: list) -> None:
    from flask import current_app

    sandbox = current_app.extensions["sandbox"]
    sandbox.store.reset()
    with sandbox.store.transaction() as conn:
        for kind, doc, parent in docs:
            sandbox.store.add(conn, kind, doc, parent_id=parent)


def run(order_ids: list[int], workers: int, counter: CallCounter) -> dict:
    """One dry run over `order_ids`: seconds, orders, gateway calls, and its summary line."""
    from portal.payments.reconcile import reconcile
    from portal.timeutil import utcnow

    counter.calls = 0
    started = time.perf_counter()
    summary = reconcile(utcnow(), dry_run=True, workers=workers, order_ids=order_ids)
    seconds = time.perf_counter() - started
    if summary.failed:
        raise SystemExit(f"{len(summary.failed)} order(s) failed: {summary.failed[0].error}")
    return {"seconds": seconds, "orders": summary.checked, "calls": counter.calls, "line": summary.line()}


def per_order(results: list[dict]) -> list[float]:
    return [r["seconds"] / r["orders"] for r in results]


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return ""
    return f" (spread {min(values) * 1000:.2f}–{max(values) * 1000:.2f} ms/order over {len(values)} runs)"


def compare(label: str, ids: list[int], sample: list[int], args, counter: CallCounter) -> dict:
    """Product (the pool, every order) and baseline (workers=1, the sample), alternated `repeat` times."""
    product, baseline = [], []
    for _ in range(args.repeat):
        baseline.append(run(sample, 1, counter))
        product.append(run(ids, args.workers, counter))
    p, b = statistics.median(per_order(product)), statistics.median(per_order(baseline))
    return {
        "label": label,
        "orders": len(ids),
        "calls": product[-1]["calls"],
        "product_s": p * len(ids),
        "baseline_s": b * len(ids),
        "sample": len(sample),
        "ratio": b / p,
        "spread": spread(per_order(product)),
        "line": product[-1]["line"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="the product's pool (default: reconcile's)")
    parser.add_argument("--baseline-sample", type=int, default=300, help="orders in the sequential baseline")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sqlite", action="store_true", help="a scratch SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from portal.payments.reconcile import DEFAULT_WORKERS

    args.workers = args.workers or DEFAULT_WORKERS
    scratch = tempfile.mkdtemp(prefix="bench-reconcile-")
    from portal.config import normalise_database_url

    url = normalise_database_url(f"sqlite:///{scratch}/portal.sqlite" if args.sqlite else args.database_url)
    if not args.sqlite:
        ensure_scratch_database(url)
    load = os.getloadavg()[0]
    app = make_app(url, scratch)
    counter = CallCounter()
    gateway_log = logging.getLogger("portal.gateway")
    gateway_log.addHandler(counter)
    gateway_log.setLevel(logging.INFO)
    gateway_log.propagate = False  # counted, not printed
    with app.app_context():
        figures = measure(app, args, counter)
    print(report(figures, args, url, load))


def measure(app, args, counter: CallCounter) -> dict:
    from portal.payments.reconcile import orders_to_check
    from portal.timeutil import utcnow

    started = time.perf_counter()
    kinds = seed(args.orders)
    setup = time.perf_counter() - started
    sandbox = app.extensions["sandbox"]
    everything = orders_to_check(utcnow(), full=True)
    incremental = orders_to_check(utcnow() - timedelta(days=3))
    step = max(len(everything) // args.baseline_sample, 1)
    sample = everything[::step][: args.baseline_sample]
    rows = []
    for latency in (0, args.latency_ms):
        sandbox.set_faults(latency_ms=latency)
        rows.append(compare(f"full sweep, {latency} ms", everything, sample, args, counter))
    incremental_run = run(incremental, args.workers, counter)
    sandbox.clear_faults()
    return {"setup": setup, "kinds": kinds, "rows": rows, "incremental": incremental_run, "full": rows[-1]}


def report(figures: dict, args, url: str, load: float) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in figures["kinds"].items())
    lines = [
        f"{args.orders} orders ({kinds}); {url.split(':', 1)[0]}; set-up {figures['setup']:.1f} s; "
        f"{os.cpu_count()} cores, load average {load:.1f} at the start",
        "",
        f"| run | orders | gateway calls | product: pool of {args.workers} | baseline: workers=1 | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in figures["rows"]:
        lines.append(
            f"| {row['label']} | {row['orders']} | {row['calls']} | {row['product_s']:.1f} s{row['spread']} | "
            f"{row['baseline_s']:.1f} s (from {row['sample']} orders) | {row['ratio']:.1f}× |"
        )
    inc, full = figures["incremental"], figures["full"]
    lines += [
        "",
        f"| {args.latency_ms} ms, pool of {args.workers} | orders | gateway calls | time |",
        "| --- | ---: | ---: | ---: |",
        f"| full sweep (`--full`) | {full['orders']} | {full['calls']} | {full['product_s']:.1f} s |",
        f"| incremental (default: open, changed in 3 days, 1/30 slice) | {inc['orders']} | {inc['calls']} | "
        f"{inc['seconds']:.1f} s ({full['product_s'] / inc['seconds']:.1f}× less) |",
        "",
        f"target: {args.orders} orders at {args.latency_ms} ms in ≤ 120 s — full sweep took {full['product_s']:.1f} s "
        f"({'met' if full['product_s'] <= 120 else 'NOT met'}); last summary: {full['line']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
