"""Customer API under load, against a bare one-row Flask + SQLAlchemy endpoint, on PostgreSQL.

    python -m bench.api.bench            # BENCH_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/bench_api

Scenarios: my-orders at page sizes 1, 20 and 100, one order's detail, and creating an order (POST
/api/v1/orders, a new Idempotency-Key per request). Each is run against the portal and right beside it
against the baseline (bench/api/baseline_app.py: `session.get` of one order row), A then B, then B then A
in the next round; both served alike (bench/http: two single-worker gunicorn processes of 4 gthread threads,
one port each, 16 keep-alive connections placed round-robin). Prints product | baseline | ratio with
p50/p99 and the spread of the ratio over the rounds, and — in-process, through the Flask test client —
SQL statements and milliseconds per request. The database is a scratch one: it is emptied and seeded on
first use (or when the seed parameters change) and reused afterwards.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.http import cpu, loadgen, servers
from bench.http.report import spread, summary, table
from bench.scratch import ensure_database

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/bench_api"
SHARED = ("bench_portal", "bench_portal_100k")  # read-only databases of other benchmarks
TARGET_RATIO, TARGET_P99_MS = 0.50, 60.0


@dataclass
class Scenario:
    name: str
    requests: Callable[[], Iterator[loadgen.Request]]  # a fresh stream for each run
    expected: str  # the status every answer must have
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)  # baseline CPU per answer / product's
    product: list[loadgen.Result] = field(default_factory=list)
    baseline: list[loadgen.Result] = field(default_factory=list)
    statements: float = 0.0
    inprocess_ms: float = 0.0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""), help="rate-limit storage (memory)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="single-worker gunicorn processes, one port each")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slices", type=int, default=4, help="alternating slices per side and round")
    parser.add_argument("--slice-seconds", type=float, default=1.0)
    parser.add_argument("--readers", type=int, default=12, help="customers whose histories are read")
    parser.add_argument("--orders-per-reader", type=int, default=110)
    parser.add_argument("--buyers", type=int, default=16, help="customers who create orders")
    parser.add_argument("--reseed", action="store_true", help="empty and seed the database even if seeded")
    parser.add_argument("--only", help="comma-separated scenario names (default: all)")
    args = parser.parse_args()
    name = args.database_url.rsplit("/", 1)[-1]
    if not args.database_url.startswith("postgres") or name.startswith("test") or name in SHARED:
        parser.error("--database-url must be a scratch PostgreSQL database (not test*, not a shared bench DB)")
    return args


def environment(args) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=args.database_url,
        SANDBOX_DATABASE_URL=args.database_url,  # the in-process sandbox's tables beside ours
        APP_ENV="production",
        SECRET_KEY="bench-" + "x" * 40,
        PAYMENT_GATEWAY="sandbox",
        RAZORPAY_BASE_URL="",
        REDIS_URL=args.redis_url,
        AUTO_INVOICE="1",
        PYTHONPATH=str(ROOT),
    )
    return env


def scenarios(shop) -> list[Scenario]:
    """The requests of each scenario, spread over the seeded customers (each with their own token)."""
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    detail = list(shop.reader_orders)
    random.Random(5).shuffle(detail)

    def my_orders(per_page: int) -> Callable[[], Iterator[loadgen.Request]]:
        path = f"/api/v1/orders/my-orders?page=1&per_page={per_page}"
        return lambda: itertools.cycle([loadgen.Request("GET", path, headers=bearer(t)) for t in shop.reader_tokens])

    def details() -> Iterator[loadgen.Request]:
        owners = shop.reader_tokens
        return itertools.cycle(
            [loadgen.Request("GET", f"/api/v1/orders/{oid}", headers=bearer(owners[n])) for oid, n in detail]
        )

    return [
        *[Scenario(f"my-orders per_page={n}", my_orders(n), "200") for n in (1, 20, 100)],
        Scenario("order detail", details, "200"),
        Scenario("create order", lambda: creations(shop), "201"),
    ]


def creations(shop) -> Iterator[loadgen.Request]:
    """New orders by the buyers, one course each, a fresh Idempotency-Key every time."""
    run = f"{time.time_ns():x}"
    for n in itertools.count():
        body = json.dumps({"items": [{"product_id": shop.course_ids[n % len(shop.course_ids)], "quantity": 1}]})
        headers = {
            "Authorization": f"Bearer {shop.buyer_tokens[n % len(shop.buyer_tokens)]}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"bench-{run}-{n}",
        }
        yield loadgen.Request("POST", "/api/v1/orders", body.encode(), headers)


def baseline_requests(shop) -> Callable[[], Iterator[loadgen.Request]]:
    ids = [oid for oid, _ in shop.reader_orders]
    random.Random(6).shuffle(ids)
    return lambda: itertools.cycle([loadgen.Request("GET", f"/one/{oid}") for oid in ids])


def prepare(args, env: dict) -> tuple[object, list[Scenario], bool]:
    """Seed (or reuse) the shop and count, in-process, what one request of each scenario costs."""
    os.environ.update(env)
    from bench.api import inprocess, seed
    from portal import create_app

    ensure_database(args.database_url)
    app = create_app()
    app.config["API_RATE_LIMIT"] = "1000000 per minute"
    with app.app_context():
        shop, seeded = seed.ensure(args.readers, args.orders_per_reader, args.buyers, reseed=args.reseed)
        chosen = [s for s in scenarios(shop) if not args.only or s.name in args.only.split(",")]
        for scenario in chosen:
            scenario.statements, scenario.inprocess_ms = inprocess.cost(app, scenario.requests())
        from portal.extensions import db

        db.engine.dispose()
    return shop, chosen, seeded


def measure(args, scenario: Scenario, product: list[int], baseline: list[int], floor, meter) -> None:
    """`rounds` rounds, each `slices` short slices per side in alternating order (A B, B A, …): noise on
    the shared machine that comes and goes within seconds hits both sides alike."""
    for _ in range(args.rounds):
        a, b = loadgen.alternate(
            [
                loadgen.Side(scenario.name, product, scenario.requests()),
                loadgen.Side("one row by primary key", baseline, floor()),
            ],
            args.connections,
            args.slices,
            args.slice_seconds,
            meter=meter.seconds,
        )
        scenario.product.append(a)
        scenario.baseline.append(b)
        scenario.ratios.append(a.rate / b.rate if b.rate else 0.0)
        scenario.cpu_ratios.append(b.server_cpu_ms / a.server_cpu_ms if a.server_cpu_ms else 0.0)


def main() -> int:
    args = arguments()
    env = environment(args)
    started = time.perf_counter()
    shop, chosen, seeded = prepare(args, env)
    seed_seconds = time.perf_counter() - started
    floor = baseline_requests(shop)
    product = servers.start("bench.api.product_app:app", env, args.workers, args.threads, "/api/v1/orders/my-orders")
    try:
        baseline = servers.start("bench.api.baseline_app:app", env, args.workers, args.threads, "/one/0")
    except RuntimeError:
        product.stop()
        raise
    meter = cpu.Meter([p.pid for p in product.processes + baseline.processes], args.database_url)
    with servers.serving(product, baseline):
        for scenario in chosen:  # warm-up: imports, pools, statement caches of every worker
            loadgen.run("warm-up", product.ports, scenario.requests(), args.connections, duration=1)
        loadgen.run("warm-up", baseline.ports, floor(), args.connections, duration=1)
        for scenario in chosen:
            measure(args, scenario, product.ports, baseline.ports, floor, meter)
    meter.close()
    report(args, chosen, seeded, seed_seconds, time.perf_counter() - started)
    return 0 if all(_answers_ok(s) for s in chosen) else 1


def _merged(results: list[loadgen.Result]) -> loadgen.Result:
    return loadgen.merge(results[0].label, results)


def _answers_ok(scenario: Scenario) -> bool:
    product, baseline = _merged(scenario.product), _merged(scenario.baseline)
    return set(product.statuses) == {scenario.expected} and set(baseline.statuses) == {"200"}


def report(args, chosen: list[Scenario], seeded: bool, seed_seconds: float, total: float) -> None:
    print(
        f"\n{args.connections} connections over {args.workers} single-worker gunicorn processes "
        f"({args.threads} {servers.WORKER_CLASS} threads each, one port each, connections round-robin), "
        f"{os.cpu_count()} CPUs, {args.rounds} rounds of {args.slices} alternating slices of "
        f"{args.slice_seconds:g} s per side, "
        f"rate-limit storage {'Redis' if args.redis_url else 'memory'}; "
        f"{args.readers} readers × {args.orders_per_reader} orders, {args.buyers} buyers "
        f"({'seeded' if seeded else 'reused the seed'}, setup {seed_seconds:.0f} s; whole run {total:.0f} s)\n"
    )
    rows = []
    for s in chosen:
        a, b = _merged(s.product), _merged(s.baseline)
        rows.append(
            [
                s.name,
                f"{statistics.median(r.rate for r in s.product):,.0f}",
                f"{statistics.median(r.rate for r in s.baseline):,.0f}",
                f"{statistics.median(s.ratios):.1%}",
                f"±{spread(s.ratios):.0%}",
                f"{a.percentile(0.5):.1f} / {a.percentile(0.99):.1f}",
                f"{b.percentile(0.5):.1f} / {b.percentile(0.99):.1f}",
                f"{a.server_cpu_ms:.1f} / {b.server_cpu_ms:.1f}",
                f"{statistics.median(s.cpu_ratios):.1%} ±{spread(s.cpu_ratios):.0%}",
                f"{s.statements:g}",
                f"{s.inprocess_ms:.1f}",
            ]
        )
    header = ["scenario", "product req/s", "baseline req/s", "ratio", "spread", "product p50 / p99 ms"]
    header += ["baseline p50 / p99 ms", "server CPU ms / answer", "per CPU second"]
    header += ["SQL statements / request", "in-process ms / request"]
    print(table(header, rows))
    print()
    for s in chosen:
        a, b = _merged(s.product), _merged(s.baseline)
        print(f"{s.name}: ratio {summary(s.ratios)}, per CPU second {summary(s.cpu_ratios)}")
        print(f"    answers {a.statuses} | {b.statuses}")
        print(f"    answers per port: product {a.placement()}; baseline {b.placement()}")
    targets(chosen)


def targets(chosen: list[Scenario]) -> None:
    for s in chosen:
        if not s.name.startswith("my-orders"):
            continue
        ratio, p99 = statistics.median(s.ratios), _merged(s.product).percentile(0.99)
        verdict = lambda met: "met" if met else "NOT met"  # noqa: E731
        print(
            f"target, {s.name}: ratio {ratio:.1%} (≥ {TARGET_RATIO:.0%}: {verdict(ratio >= TARGET_RATIO)}), "
            f"p99 {p99:.0f} ms (≤ {TARGET_P99_MS:.0f} ms: {verdict(p99 <= TARGET_P99_MS)})"
        )


if __name__ == "__main__":
    sys.exit(main())
