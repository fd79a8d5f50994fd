"""Checkout + verify throughput on PostgreSQL, and the rental availability query at 100k bookings.

    python -m bench.checkout.bench                    # PostgreSQL bench_h2_checkout, about a minute
    python -m bench.checkout.bench --buyers 20 --rounds 10 --bookings 100000

Two throughput scenarios, each `--buyers` threads doing `--rounds` purchases one after another through the
real services (add to cart → POST /api/v1/checkout's service → the sandbox's hosted checkout → verify through
the real SDK): "disjoint" (each buyer its own product: only the sandbox and the database are shared) and "hot"
(every buyer the same product: every checkout queues on that product's row lock, and its stock decrement).
The sandbox runs in process (its own SQLite store), so the figures include its work (not measured apart).
Then `--bookings` reservations of one rental product (plus as many spread over 50 others) are written in
bulk and the availability query is EXPLAINed (ANALYZE) and timed.

The database is DROPPED and rebuilt (names starting with `test` are refused).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta

from bench.scratch import ensure_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_h2_checkout"


def make_app(url: str, scratch: str):
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    from portal import create_app
    from portal.config import DevelopmentConfig
    from portal.extensions import db

    name = url.rsplit("/", 1)[1]
    if name.startswith("test") or name == "postgres":
        raise SystemExit(f"refusing to rebuild {name!r}")
    ensure_database(url)
    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url,
        SANDBOX_DATABASE_URL=f"sqlite:///{scratch}/sandbox.sqlite",
        RATELIMIT_ENABLED=False,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 40, "max_overflow": 10},
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def _buyers(n: int, products: list) -> list[tuple[int, int]]:
    from portal.auth.models import Role
    from portal.auth.services import upsert_user

    users = [upsert_user(f"buyer{i}@bench.test", "bench-password-123", Role.CUSTOMER)[0] for i in range(n)]
    return [(u.id, products[i % len(products)]) for i, u in enumerate(users)]


def _products(count: int, stock: int) -> list[int]:
    from portal.catalog.models import Product
    from portal.extensions import db

    rows = [Product(sku=f"BENCH-{random.randrange(10**9)}-{i}", title=f"Good {i}", kind="good", price=49900,
                    stock=stock) for i in range(count)]  # fmt: skip
    db.session.add_all(rows)
    db.session.commit()
    return [p.id for p in rows]


def purchase(app, sandbox, user_id: int, product_id: int) -> float:
    """One whole purchase; returns its seconds."""
    from portal.auth.models import User
    from portal.cart.checkout import start_checkout
    from portal.cart.completion import complete_checkout_payment
    from portal.cart.services import add_line
    from portal.extensions import db
    from portal.history.services import Actor

    started = time.perf_counter()
    customer = db.session.get(User, user_id)
    add_line(customer, product_id, 1)
    checkout, _ = start_checkout(customer)
    paid = sandbox.pay(checkout.gateway_order_id)
    outcome = complete_checkout_payment(
        paid["razorpay_order_id"], paid["razorpay_payment_id"], paid["razorpay_signature"], actor=Actor.user(customer)
    )
    assert outcome.state == "paid", outcome.state
    return time.perf_counter() - started


def scenario(app, sandbox, buyers: list[tuple[int, int]], rounds: int) -> dict:
    from portal.extensions import db

    times, errors, barrier = [], [], threading.Barrier(len(buyers))

    def run(user_id, product_id):
        with app.app_context():
            barrier.wait()
            for _ in range(rounds):
                try:
                    times.append(purchase(app, sandbox, user_id, product_id))
                except Exception as exc:  # reported, not hidden
                    errors.append(repr(exc))
                    db.session.rollback()
            db.session.remove()

    threads = [threading.Thread(target=run, args=b) for b in buyers]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    times.sort()
    return {
        "checkouts": len(times),
        "errors": errors[:3],
        "per_second": len(times) / wall,
        "p50_ms": 1000 * statistics.median(times) if times else 0,
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))] if times else 0,
        "wall_s": wall,
    }


def bookings(app, count: int) -> dict:
    """`count` bookings of one rental (and as many over 50 others), then the availability query's plan and cost."""
    from sqlalchemy import insert, text

    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.stock.availability import available
    from portal.stock.models import Reservation

    tent = Product(sku="BENCH-TENT", title="Tent", kind="rental", price=30000, stock=count)
    others = [Product(sku=f"BENCH-R{i}", title=f"Rental {i}", kind="rental", price=100, stock=10) for i in range(50)]
    db.session.add_all([tent, *others])
    db.session.commit()
    rng, first = random.Random(13), date(2025, 1, 1)
    rows = []
    for n in range(2 * count):
        start = first + timedelta(days=rng.randrange(900))
        product = tent.id if n < count else others[n % 50].id
        status = rng.choice(["committed", "committed", "released", "held"])
        rows.append({"product_id": product, "quantity": 1, "status": status, "rental_start": start,
                     "rental_end": start + timedelta(days=rng.randrange(1, 8)), "expires_at": None})  # fmt: skip
    for chunk in range(0, len(rows), 20000):
        db.session.execute(insert(Reservation), rows[chunk : chunk + 20000])
    db.session.commit()
    db.session.execute(text("ANALYZE reservations"))
    day = date(2026, 3, 10)
    sql = (
        "EXPLAIN (ANALYZE, BUFFERS) SELECT coalesce(sum(quantity), 0) FROM reservations WHERE product_id = :p "
        "AND rental_end >= :s AND rental_start <= :e AND (status = 'committed' OR (status = 'held' AND "
        "expires_at > now()))"
    )
    plan = [r[0] for r in db.session.execute(text(sql), {"p": tent.id, "s": day, "e": day + timedelta(days=3)})]
    tent = db.session.get(Product, tent.id)
    started, calls = time.perf_counter(), 200
    for i in range(calls):
        available(tent, start=day + timedelta(days=i % 300), end=day + timedelta(days=i % 300 + 3))
    per_call = (time.perf_counter() - started) / calls
    return {"plan": plan, "per_call_ms": 1000 * per_call, "bookings": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--buyers", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--bookings", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-checkout-") as scratch:
        app = make_app(args.database_url, scratch)
        with app.app_context():
            from portal.sandbox.testing import SandboxDriver

            sandbox = SandboxDriver(app)
            sandbox.receive_webhooks()  # verify does the work; the webhooks go to a recorder
            disjoint = _buyers(args.buyers, _products(args.buyers, 10_000))
            hot_product = _products(1, 10_000)
            print("disjoint:", scenario(app, sandbox, disjoint, args.rounds), flush=True)
            hot = [(user_id, hot_product[0]) for user_id, _ in disjoint]
            print("hot:", scenario(app, sandbox, hot, args.rounds), flush=True)
            found = bookings(app, args.bookings)
            print(f"availability with {found['bookings']:,} bookings: {found['per_call_ms']:.2f} ms a call")
            print("\n".join(found["plan"]))


if __name__ == "__main__":
    main()
