"""Webhook ingest under load: gunicorn on PostgreSQL, a load generator on loopback, the jobs worker on Redis.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<scratch db> \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/<scratch db> python -m bench.webhooks.bench

Measures events per second and p50/p99 latency for (1) a bare endpoint that only inserts one row — the
ceiling —, (2) new `payment.captured` events, each paying a different order, (3) the same events delivered
again (duplicates), in `--rounds` rounds, each product run beside a ceiling run; prints every run, the
median ratios and their spread. Both apps are served the same way (bench/http: one single-worker gunicorn
per port, connections placed round-robin). Then checks the database: every event stored once, every
payment applied once. The database is emptied and recreated: never point it at data you want to keep.

WEBHOOK_PROCESSING=queue (the default): the web stores each event and enqueues its id on Huey (Redis); one
`flask jobs worker --no-schedule` process (nice 10, paused during the ceiling's slices) applies them. Then
(`--throughput-events`, 0 to skip) the worker's own throughput: for 1 and 2 worker processes, that many events
are delivered with no worker running (stored, their jobs waiting in Redis), the workers are started, and the
rate is taken from the events' processed_at stamps (first to last: start-up excluded).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.http import cpu, loadgen, servers
from bench.http.report import summary

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench_webhook_secret"  # noqa: S105 (a throwaway value for this benchmark)


def environment(database_url: str, auto_invoice: bool, processing: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        WEBHOOK_PROCESSING=processing,
        JOBS_BACKEND=redis_url,
        JOBS_IMMEDIATE="0",
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
    from portal.jobs import huey
    from portal.orders.pricing import quote
    from portal.orders.services import build_order

    app = create_app()
    huey.storage.flush_all()  # this queue's keys only: jobs left by an earlier run would find no rows
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
    return loadgen.Request("POST", path, raw, headers)


def classify(status: int, body: bytes) -> str:
    """`200 pending`, `200 duplicate`, `200 stored`: the status code and what the endpoint said it did."""
    try:
        return f"{status} {json.loads(body).get('status', '')}"
    except ValueError:
        return f"{status} ?"


def consume(env: dict, threads: int = 2, nice: int = 10) -> subprocess.Popen:
    """A jobs worker process (`flask jobs worker --no-schedule`), at a lower CPU priority than the web workers."""
    command = ["nice", "-n", str(nice), sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"]
    command += ["--no-schedule", "--workers", str(threads), "--max-delay", "0.1"]
    # Named, so the CPU meter leaves its database backend out: it is not part of answering a delivery.
    named = {**env, "DATABASE_URL": _named(env["DATABASE_URL"])}
    return subprocess.Popen(command, cwd=ROOT, env=named, stdout=subprocess.DEVNULL)  # noqa: S603


def _named(url: str) -> str:
    return url + ("&" if "?" in url else "?") + f"application_name={cpu.EXCLUDED_APPLICATION}"


def wait_until_processed(env: dict, timeout: float = 600) -> float:
    """Seconds until no event is left pending (the background workers caught up)."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True, application_name=cpu.EXCLUDED_APPLICATION) as conn:
        while time.perf_counter() - started < timeout:
            pending = conn.execute("SELECT count(*) FROM webhook_events WHERE status = 'pending'").fetchone()[0]
            if pending == 0:
                break
            time.sleep(0.1)
    return time.perf_counter() - started


def worker_throughput(env: dict, ports: list[int], batch: list, processes: int, threads: int, connections: int):
    """Deliver `batch` with no worker running (stored; jobs wait in Redis), then start `processes` workers of
    `threads` threads; (events/s from the first to the last processed_at, seconds until all were applied)."""
    import psycopg

    loadgen.run(f"store for {processes} worker(s)", ports, batch, connections, classify=classify)
    ids = tuple(request.headers["X-Razorpay-Event-Id"] for request in batch)
    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    workers = [consume(env, threads, nice=0) for _ in range(processes)]
    try:
        with psycopg.connect(url, autocommit=True, application_name=cpu.EXCLUDED_APPLICATION) as conn:
            while time.perf_counter() - started < 600:
                query = "SELECT count(*) FROM webhook_events WHERE status = 'pending' AND event_id = ANY(%s)"
                if conn.execute(query, (list(ids),)).fetchone()[0] == 0:
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
            first, last, done = conn.execute(
                "SELECT min(processed_at), max(processed_at), count(*) FROM webhook_events"
                " WHERE status = 'processed' AND event_id = ANY(%s)",
                (list(ids),),
            ).fetchone()
        worker_cpu = sum(cpu._ticks(pid) for w in workers for pid in cpu._tree(w.pid)) / cpu.TICK
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(20)
    span = (last - first).total_seconds() if done > 1 else float("nan")
    rate = (done - 1) / span if span else float("nan")
    return rate, elapsed, done, worker_cpu * 1000 / max(done, 1)


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
            "events stored": count(select(WebhookEvent.id).where(WebhookEvent.event_id.like("Ev%Bench%"))),
            "events processed": count(select(WebhookEvent.id).where(WebhookEvent.status == "processed")),
            "payments": count(select(Payment.id)),
            "orders paid": count(select(Order.id).where(Order.status == "paid")),
            "capture transitions": count(captured),
        }
        expected = {"events stored": new_events}
        figures["ok"] = all(value == expected.get(name, new_events + warmup) for name, value in figures.items())
    return figures


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/2")
    parser.add_argument("--throughput-events", type=int, default=2000, help="events per worker-throughput run")
    parser.add_argument("--worker-threads", type=int, default=4, help="threads per worker process (throughput)")
    parser.add_argument("--throughput-only", action="store_true", help="skip the ingest rounds")
    parser.add_argument("--events", type=int, default=2000, help="new events ready per round (at most)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slices", type=int, default=10, help="alternating slices per side and phase")
    parser.add_argument("--slice-seconds", type=float, default=0.2)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--connections", "--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="single-worker gunicorn processes, one port each")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--placement",
        choices=["ports", "shared"],
        default="ports",
        help="ports: one single-worker gunicorn per port, connections round-robin; "
        "shared: one gunicorn of --workers on one socket, the kernel places connections (the old, bimodal way)",
    )
    parser.add_argument("--auto-invoice", action="store_true", help="issue an invoice per paid order too")
    parser.add_argument(
        "--processing",
        choices=["queue", "inline"],
        default="queue",
        help="queue: the web stores and enqueues, a `flask jobs worker` process (nice 10) applies; "
        "inline: each web request applies its event before answering",
    )
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgres"):
        parser.error("set BENCH_DATABASE_URL (or --database-url) to a scratch PostgreSQL database")
    return args


@dataclass
class Round:
    """One round: ceiling and new events alternated, (drain), duplicates and ceiling alternated."""

    ceiling_before: loadgen.Result
    new: loadgen.Result
    drained: float
    duplicates: loadgen.Result
    ceiling_after: loadgen.Result

    @property
    def new_ratio(self) -> float:
        return self.new.rate / self.ceiling_before.rate

    @property
    def duplicate_ratio(self) -> float:
        return self.duplicates.rate / self.ceiling_after.rate

    @property
    def new_cpu_ratio(self) -> float:
        """The share of the ceiling's capacity per CPU second: ceiling CPU per answer over the product's."""
        return self.ceiling_before.server_cpu_ms / self.new.server_cpu_ms

    @property
    def duplicate_cpu_ratio(self) -> float:
        return self.ceiling_after.server_cpu_ms / self.duplicates.server_cpu_ms


class Consumer:
    """The `flask jobs worker` process (nice 10), paused while the ceiling's slices run: the ceiling is
    the bare insert alone, as when runs were sequential and the consumer sat idle during the ceiling runs."""

    def __init__(self, process: subprocess.Popen | None):
        self.process = process

    def pause(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)


def play_round(args, env, portal: list[int], bare: list[int], batch: list, ceiling: list, consumer, meter) -> Round:
    """New events alternated in short slices with the ceiling, then — once the consumer has applied them —
    their duplicates alternated with the ceiling; each side's slices added up (see loadgen.alternate)."""

    def alternate(sides: list[loadgen.Side]) -> list[loadgen.Result]:
        return loadgen.alternate(sides, args.connections, args.slices, args.slice_seconds, classify, meter.seconds)

    fresh = iter(batch)
    before, new = alternate(
        [
            loadgen.Side("bare insert (ceiling)", bare, itertools.cycle(ceiling), before=consumer.pause),
            loadgen.Side("new events", portal, fresh, before=consumer.resume),
        ]
    )
    consumer.resume()
    drained = wait_until_processed(env)
    sent = batch[: sum(new.statuses.values())]  # what the alternation took from the batch
    duplicates, after = alternate(
        [
            loadgen.Side("duplicates", portal, itertools.cycle(sent)),
            loadgen.Side("bare insert (ceiling)", bare, itertools.cycle(ceiling)),
        ]
    )
    return Round(before, new, drained, duplicates, after)


def hook_path() -> str:
    return "/webhooks/razorpay"


def main() -> int:
    args = arguments()
    env = environment(args.database_url, args.auto_invoice, args.processing, args.redis_url)
    measured = args.throughput_events if args.processing == "queue" else 0
    entities = prepare(args.warmup + args.events * args.rounds + 2 * measured, env)
    warm, real = entities[: args.warmup], entities[args.warmup : args.warmup + args.events * args.rounds]
    for_throughput = entities[args.warmup + args.events * args.rounds :]
    throughput_batches = [
        [signed(hook_path(), "payment.captured", f"EvT{k}Bench{n:08d}", payment=e) for n, e in enumerate(part)]
        for k, part in enumerate((for_throughput[:measured], for_throughput[measured:]), 1)
    ]
    hook = "/webhooks/razorpay"
    batches = [
        [signed(hook, "payment.captured", f"EvBench{n:08d}", payment=e) for n, e in enumerate(real)][k :: args.rounds]
        for k in range(args.rounds)
    ]
    warm_events = [signed(hook, "payment.captured", f"EvWarm{n:08d}", payment=e) for n, e in enumerate(warm)]
    # The bare table has no unique key, so one list of its requests serves every ceiling run.
    ceiling = [
        signed("/bare", "payment.captured", f"EvBare{n:08d}", payment=e) for n, e in enumerate(real[: args.events])
    ]
    bare_warm = [signed("/bare", "payment.captured", f"EvBareW{n:08d}", payment=e) for n, e in enumerate(warm)]

    shared = args.placement == "shared"
    portal = servers.start("wsgi:app", env, args.workers, args.threads, ready_path=hook, shared=shared)
    bare = servers.start("bench.webhooks.bare_app:app", env, args.workers, args.threads, "/bare", shared=shared)
    consumer = Consumer(consume(env) if args.processing == "queue" else None)
    meter = cpu.Meter([p.pid for p in portal.processes + bare.processes], args.database_url)
    with servers.serving(portal, bare):
        try:
            loadgen.run("warm-up", bare.ports, bare_warm, args.connections)
            loadgen.run("warm-up", portal.ports, warm_events, args.connections)
            wait_until_processed(env)
            rounds = [
                play_round(args, env, portal.ports, bare.ports, b, ceiling, consumer, meter)
                for b in ([] if args.throughput_only else batches)
            ]
        finally:
            meter.close()
            if consumer.process is not None:
                consumer.resume()
                consumer.process.terminate()
                consumer.process.wait(10)
        throughput = [
            (k, *worker_throughput(env, portal.ports, batch, k, args.worker_threads, args.connections))
            for k, batch in enumerate(throughput_batches, 1)
            if batch
        ]
    stored = sum(sum(r.new.statuses.values()) for r in rounds) + sum(t[3] for t in throughput)
    figures = verify(env, stored, args.warmup)
    if rounds:
        report(args, rounds, figures)
    else:
        print(f"database: {figures}")
    for processes, rate, elapsed, done, cpu_ms in throughput:
        print(
            f"worker throughput, {processes} process(es) × {args.worker_threads} threads: {rate:.0f} events/s "
            f"({done} events applied, all done {elapsed:.1f} s after the start, start-up included; "
            f"worker CPU {cpu_ms:.1f} ms per event)"
        )
    return 0 if figures["ok"] else 1


def report(args, rounds: list[Round], figures: dict) -> None:
    placement = (
        f"{args.workers} single-worker gunicorn processes ({args.threads} {servers.WORKER_CLASS} threads each, "
        "one port each, connections round-robin)"
        if args.placement == "ports"
        else f"one gunicorn of {args.workers} workers × {args.threads} {servers.WORKER_CLASS} threads on one socket"
    )
    print(
        f"\n{args.events} new events ready per round, {args.rounds} rounds, {args.connections} connections over "
        f"{placement}, {os.cpu_count()} CPUs, "
        f"AUTO_INVOICE={'on' if args.auto_invoice else 'off'}, WEBHOOK_PROCESSING={args.processing}\n"
    )
    print(f"each phase: {args.slices} alternating slices of {args.slice_seconds:g} s per side, added up\n")
    print("| round | run | requests | events/s | p50 ms | p99 ms | mean ms |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n, played in enumerate(rounds, 1):
        for result in (played.ceiling_before, played.new, played.duplicates, played.ceiling_after):
            print(f"| {n} {result.row()}")
    new, duplicates = summary([r.new_ratio for r in rounds]), summary([r.duplicate_ratio for r in rounds])
    print(f"\nnew events: {new} of the ceiling alternated with them (target ≥ 50 %)")
    print(f"duplicates: {duplicates} of the ceiling alternated with them (target ≥ 90 %)")
    new, duplicates = summary([r.new_cpu_ratio for r in rounds]), summary([r.duplicate_cpu_ratio for r in rounds])
    print(f"per server CPU second (web + database backends): new events {new}, duplicates {duplicates}")
    print(
        "server CPU ms per answer, ceiling / new / duplicates: "
        + "; ".join(
            f"{r.ceiling_before.server_cpu_ms:.2f} / {r.new.server_cpu_ms:.2f} / {r.duplicates.server_cpu_ms:.2f}"
            for r in rounds
        )
    )
    print(
        "processing of the new events finished "
        + ", ".join(f"{r.drained:.1f}" for r in rounds)
        + " s after the last answer"
    )
    last = rounds[-1]
    for result in (last.ceiling_before, last.new, last.duplicates):
        print(f"answers per port, {result.label}: {result.placement()}; answers: {result.statuses}")
    runs = [result for r in rounds for result in (r.ceiling_before, r.new, r.duplicates, r.ceiling_after)]
    cpu = sum(result.cpu_seconds for result in runs) / sum(result.count for result in runs) * 1e6
    print(f"load generator: {cpu:.0f} µs of CPU per request")
    print(f"database: {figures}")


if __name__ == "__main__":
    sys.exit(main())
