"""Webhook ingest under load: gunicorn on PostgreSQL, a load generator on loopback.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<scratch db> python -m bench.webhooks.bench

Measures events per second and p50/p99 latency for (1) a bare endpoint that only inserts one row — the
ceiling —, (2) new `payment.captured` events, each paying a different order, (3) the same events delivered
again (duplicates). Then checks the database: every event stored once, every payment applied once.
The database is emptied and recreated: never point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.webhooks import loadgen

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench_webhook_secret"  # noqa: S105 (a throwaway value for this benchmark)
HOST = "127.0.0.1"


def environment(database_url: str, auto_invoice: bool, processing: str) -> dict:
    env = dict(os.environ)
    env.update(
        WEBHOOK_PROCESSING=processing,
        DATABASE_URL=database_url,
        APP_ENV="development",
        SECRET_KEY="bench-" + "x" * 40,
        PAYMENT_GATEWAY="sandbox",
        RAZORPAY_WEBHOOK_SECRET=SECRET,
        AUTO_INVOICE="1" if auto_invoice else "0",
        PYTHONPATH=str(ROOT),
    )
    return env


def prepare(count: int, env: dict) -> list[dict]:
    """Empty the database, create the schema and `count` pending orders; returns their payment entities."""
    os.environ.update(env)
    from bench.webhooks.bare_app import metadata as bare_metadata
    from portal import create_app
    from portal.auth.models import Role
    from portal.auth.services import upsert_user
    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.orders.pricing import quote
    from portal.orders.services import build_order

    app = create_app()
    entities = []
    with app.app_context():
        db.drop_all()
        db.create_all()
        bare_metadata.drop_all(db.engine)
        bare_metadata.create_all(db.engine)
        customer = upsert_user("bench@example.test", "bench-password-123", Role.CUSTOMER)[0]
        product = Product(sku="BENCH-1", title="Bench course", price=49900, kind="course", tax_rate_bp=1800)
        db.session.add(product)
        db.session.commit()
        for n in range(count):
            order = build_order(customer, quote([{"product_id": product.id, "quantity": 1}]))
            order.gateway_order_id = f"order_B{n:013d}"
            entities.append(_payment(order, n))
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
        db.engine.dispose()
    return entities


def _payment(order, n: int) -> dict:
    return {
        "id": f"pay_B{n:013d}",
        "entity": "payment",
        "amount": order.total,
        "currency": order.currency,
        "status": "captured",
        "order_id": order.gateway_order_id,
        "method": "upi",
        "captured": True,
        "email": "bench@example.test",
        "contact": "+919876543210",
        "fee": 1178,
        "tax": 180,
        "created_at": int(time.time()),
    }


def signed(path: str, event: str, event_id: str, **entities) -> loadgen.Request:
    body = {
        "entity": "event",
        "account_id": "acc_BenchAccount01",
        "event": event,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": int(time.time()),
    }
    raw = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest(),
        "X-Razorpay-Event-Id": event_id,
    }
    return loadgen.Request(path, raw, headers)


def serve(target: str, port: int, env: dict, workers: int, threads: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", target, "--workers", str(workers), "--threads", str(threads)]
    command += ["--bind", f"{HOST}:{port}", "--log-level", "warning", "--keep-alive", "30"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own command line)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{target} did not start on port {port}")


def median_run(runs: list) -> object:
    return sorted(runs, key=lambda run: run.rate)[len(runs) // 2]


def consume(env: dict) -> subprocess.Popen:
    """The consumer process, at a lower CPU priority than the web workers (as the Procfile runs it)."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "work", "--nice", "10", "--poll", "0.2"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # noqa: S603


def wait_until_processed(env: dict, timeout: float = 600) -> float:
    """Seconds until no event is left pending (the background workers caught up)."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.perf_counter() - started < timeout:
            pending = conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'pending'").fetchone()[0]
            if pending == 0:
                break
            time.sleep(0.1)
    return time.perf_counter() - started


def verify(env: dict, new_events: int, warmup: int) -> dict:
    """Counts that prove nothing was lost or applied twice."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from portal import create_app
    from portal.extensions import db
    from portal.history.models import HistoryEvent
    from portal.orders.models import Order
    from portal.payments.models import Payment
    from portal.webhooks.models import WebhookEvent

    app = create_app()
    with app.app_context():
        count = lambda query: db.session.scalar(select(func.count()).select_from(query.subquery()))  # noqa: E731
        captured = select(HistoryEvent.id).where(
            HistoryEvent.entity_type == "payment", HistoryEvent.to_state == "captured"
        )
        figures = {
            "events stored": count(select(WebhookEvent.id).where(WebhookEvent.event_id.like("EvBench%"))),
            "events processed": count(select(WebhookEvent.id).where(WebhookEvent.status == "processed")),
            "payments": count(select(Payment.id)),
            "orders paid": count(select(Order.id).where(Order.status == "paid")),
            "capture transitions": count(captured),
        }
        expected = {"events stored": new_events}
        figures["ok"] = all(value == expected.get(name, new_events + warmup) for name, value in figures.items())
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="ceiling and duplicate runs, alternated; medians")
    parser.add_argument("--auto-invoice", action="store_true", help="issue an invoice per paid order too")
    parser.add_argument(
        "--processing",
        choices=["queue", "background"],
        default="queue",
        help="queue: the web only stores, a `flask webhooks work --nice 10` process applies; "
        "background: threads inside each web process apply",
    )
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgres"):
        parser.error("set BENCH_DATABASE_URL (or --database-url) to a scratch PostgreSQL database")

    env = environment(args.database_url, args.auto_invoice, args.processing)
    entities = prepare(args.events + args.warmup, env)
    warm, real = entities[: args.warmup], entities[args.warmup :]
    new = [signed("/webhooks/razorpay", "payment.captured", f"EvBench{n:08d}", payment=e) for n, e in enumerate(real)]
    warm_events = [
        signed("/webhooks/razorpay", "payment.captured", f"EvWarm{n:08d}", payment=e) for n, e in enumerate(warm)
    ]
    bare = [signed("/bare", "payment.captured", f"EvBare{n:08d}", payment=e) for n, e in enumerate(real)]
    bare_warm = [signed("/bare", "payment.captured", f"EvBareW{n:08d}", payment=e) for n, e in enumerate(warm)]

    servers = [
        serve("wsgi:app", 8701, env, args.workers, args.threads),
        serve("bench.webhooks.bare_app:app", 8702, env, args.workers, args.threads),
    ]
    if args.processing == "queue":
        servers.append(consume(env))
    try:
        loadgen.run("warm-up", HOST, 8702, bare_warm, args.concurrency)
        loadgen.run("warm-up", HOST, 8701, warm_events, args.concurrency)
        wait_until_processed(env)
        # The machine is shared and noisy: ceiling and duplicate runs alternate `rounds` times (the bare
        # table has no unique key, so its requests can be replayed) and the medians are compared.
        ceilings = [loadgen.run("bare insert (ceiling)", HOST, 8702, bare, args.concurrency)]
        fresh = loadgen.run("new events", HOST, 8701, new, args.concurrency)
        drained = wait_until_processed(env)
        duplicates = []
        for _ in range(args.rounds):
            duplicates.append(loadgen.run("duplicates", HOST, 8701, new, args.concurrency))
            ceilings.append(loadgen.run("bare insert (ceiling)", HOST, 8702, bare, args.concurrency))
        results = [ceilings[0], fresh, median_run(duplicates)]
        # Each run is compared with the ceiling run beside it: the new events with the one just before,
        # each duplicate run with the one right after it; the duplicate figure is the median ratio.
        pairs = [dup.rate / ceiling.rate for dup, ceiling in zip(duplicates, ceilings[1:], strict=True)]
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    figures = verify(env, args.events, args.warmup)

    print(
        f"\n{args.events} events, {args.concurrency} connections, gunicorn {args.workers}x{args.threads} gthread, "
        f"{os.cpu_count()} CPUs, AUTO_INVOICE={'on' if args.auto_invoice else 'off'}, "
        f"WEBHOOK_PROCESSING={args.processing}\n"
    )
    print("| run | requests | events/s | p50 ms | p99 ms | mean ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        print(result.row())
    print(
        f"\nnew events: {fresh.rate / ceilings[0].rate:.0%} of the ceiling run before them (target ≥ 50%); "
        f"duplicates: median {sorted(pairs)[len(pairs) // 2]:.0%} of the ceiling run after each "
        f"({', '.join(f'{p:.0%}' for p in pairs)}; target ≥ 90%)"
    )
    print("every ceiling run (events/s): " + ", ".join(f"{run.rate:,.0f}" for run in ceilings))
    print(f"processing of the new events finished {drained:.1f} s after the last answer")
    for result in results:
        print(f"answers, {result.label}: {result.statuses}")
    print(f"database: {figures}")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
