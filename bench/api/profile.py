"""In-process cost of the customer API: milliseconds and SQL statements per request, and where the time goes.

    python -m bench.api.profile                        # SQLite scratch file, every endpoint, a table
    python -m bench.api.profile --profile my-orders-20 # and a pyinstrument profile of one endpoint
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_h1_api python -m bench.api.profile
    REDIS_URL=redis://127.0.0.1:6379/1 python -m bench.api.profile   # with the token cache on

Seeds one customer with `--orders` paid orders, each with a payment, a processed partial refund (and its
credit note) and an issued invoice — what the serializer reads — then calls each endpoint through the Flask
test client (no HTTP, no gunicorn: the HTTP load benchmark is bench/api/bench.py), counting statements with a
`before_cursor_execute` listener on the real engine. The app runs with the production settings that matter
here (not TESTING, rate limit on with a limit never reached). "cpu ms" is this process's CPU time per
request (the database server's is not in it): steadier than the wall clock on a busy machine. The scratch
database is emptied and recreated.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

ENDPOINTS = {
    "my-orders-1": ("GET", "/api/v1/orders/my-orders?per_page=1"),
    "my-orders-20": ("GET", "/api/v1/orders/my-orders?per_page=20"),
    "my-orders-100": ("GET", "/api/v1/orders/my-orders?per_page=100"),
    "order-detail": ("GET", "/api/v1/orders/{order_id}"),
    "statistics": ("GET", "/api/v1/orders/statistics"),
    "available-courses": ("GET", "/api/v1/orders/available-courses"),
    "create-order": ("POST", "/api/v1/orders"),
}


def make_app(url: str):
    from portal import create_app
    from portal.config import DevelopmentConfig
    from portal.extensions import db

    scratch = Path(tempfile.mkdtemp(prefix="bench-api-"))
    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url.replace("postgresql://", "postgresql+psycopg://"),
        SANDBOX_DATABASE_URL=f"sqlite:///{scratch / 'sandbox.sqlite'}",
        API_RATE_LIMIT="1000000 per minute",  # on, as in production, but never the bottleneck
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def seed(orders: int) -> tuple[str, int, int]:
    """One customer with `orders` paid, invoiced, partly refunded orders; (token, an order id, a product id)."""
    from portal.auth.services import issue_token, upsert_user
    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.history.services import Actor
    from portal.orders.services import place_order
    from portal.payments.services import apply_gateway_payment
    from portal.refunds.settlement import apply_gateway_refund

    customer, _ = upsert_user("bench.customer@example.test", "bench-password-1", "customer", name="Bench Customer")
    course = Product(sku="BENCH-1", title="Bench course", price=149900, kind="course", tax_rate_bp=1800)
    kit = Product(sku="BENCH-2", title="Bench kit", price=49900, kind="good", tax_rate_bp=1800)
    db.session.add_all([course, kit])
    db.session.commit()
    order = None
    for n in range(orders):
        items = [{"product_id": course.id, "quantity": 1}, {"product_id": kit.id, "quantity": 2}]
        order = place_order(customer, items, gateway_order_id=f"order_B{n:013d}")
        payment = {"id": f"pay_B{n:013d}", "entity": "payment", "amount": order.total, "currency": "INR"}
        payment.update(status="captured", order_id=order.gateway_order_id, method="upi", email=customer.email)
        apply_gateway_payment(payment, actor=Actor.gateway())
        refund = {"id": f"rfnd_B{n:012d}", "entity": "refund", "payment_id": payment["id"], "amount": 1000}
        apply_gateway_refund({**refund, "currency": "INR", "status": "processed"}, actor=Actor.gateway())
    token, _ = issue_token(customer)
    return token, order.id, course.id


@contextmanager
def counting_statements(engine):
    """A one-item list holding how many statements the engine ran inside the block."""
    seen = [0]

    def count(*_args):
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def call(client, token: str, name: str, order_id: int, product_id: int):
    method, path = ENDPOINTS[name]
    headers = {"Authorization": f"Bearer {token}"}
    if method == "POST":
        response = client.post(path, json={"items": [{"product_id": product_id, "quantity": 1}]}, headers=headers)
    else:
        response = client.get(path.format(order_id=order_id), headers=headers)
    if response.status_code >= 400:
        raise SystemExit(f"{name}: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return response


def measure(app, token: str, order_id: int, product_id: int, name: str, requests: int) -> dict:
    """Median and p90 milliseconds, and statements per request (min and max over the run)."""
    from portal.extensions import db

    client = app.test_client()
    for _ in range(5):  # warm-up: first-request compilation, caches, connection pool
        call(client, token, name, order_id, product_id)
    times, cpu, counts = [], [], []
    for _ in range(requests):
        with counting_statements(db.engine) as seen:
            started, started_cpu = time.perf_counter(), time.process_time()
            call(client, token, name, order_id, product_id)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        counts.append(seen[0])
    times.sort()
    return {
        "name": name,
        "median_ms": statistics.median(times),
        "p90_ms": times[int(len(times) * 0.9)],
        "cpu_ms": statistics.median(cpu),
        "statements": (min(counts), max(counts)),
    }


def profile(app, token: str, order_id: int, product_id: int, name: str, requests: int) -> str:
    from pyinstrument import Profiler

    client = app.test_client()
    call(client, token, name, order_id, product_id)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(requests):
        call(client, token, name, order_id, product_id)
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--orders", type=int, default=120, help="paid orders of the customer (≥ 100)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--endpoint", action="append", choices=sorted(ENDPOINTS), help="only these (repeatable)")
    parser.add_argument("--profile", choices=sorted(ENDPOINTS), help="print a pyinstrument profile of one endpoint")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-api-')) / 'portal.sqlite'}"
    if "/test" in url.rsplit("/", 1)[-1][:4] or url.rsplit("/", 1)[-1].startswith("test"):
        raise SystemExit("refusing a test* database: this benchmark empties the database it is given")
    app = make_app(url)
    with app.app_context():
        started = time.perf_counter()
        token, order_id, product_id = seed(args.orders)
        print(f"seeded {args.orders} orders in {time.perf_counter() - started:.1f} s on {url.split('@')[-1]}")
        print(f"{'endpoint':<20} {'median ms':>10} {'p90 ms':>8} {'cpu ms':>8} {'statements':>11}")
        for name in args.endpoint or ENDPOINTS:
            row = measure(app, token, order_id, product_id, name, args.requests)
            low, high = row["statements"]
            spread = f"{low}" if low == high else f"{low}–{high}"
            print(f"{name:<20} {row['median_ms']:>10.2f} {row['p90_ms']:>8.2f} {row['cpu_ms']:>8.2f} {spread:>11}")
        if args.profile:
            print(profile(app, token, order_id, product_id, args.profile, args.requests))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
