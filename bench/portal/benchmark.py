"""Server time of the admin list pages and the dashboard on a generated shop (see bench/portal/generate.py).

    python -m bench.portal.benchmark [--database bench_portal] [--runs 30]
    python -m bench.portal.benchmark --search [--databases bench_portal_100k,bench_portal] [--pairs 15]

The second form times each search kind and status tab against naive SQL at two sizes (bench/portal/search_cases.py).

Requests go through the whole Flask stack in-process (routing, login session, role check, queries,
template rendering, and for CSV the whole streamed body); the network is left out. For each view it
prints the median and p95 over `--runs` timed requests after a warm-up, and the SQL statements one
request issues. For contrast it also times what a COUNT(*) + OFFSET list would cost on the same data.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import event, func, select, text

TARGETS_MS = {"list": 30.0, "dashboard": 100.0}


def make_app(url: str):
    from portal import create_app

    return create_app(SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)


def sign_in(client, email: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit("could not sign in: run bench/portal/generate.py first")


def cases(db) -> list[tuple[str, str, str]]:
    """(name, kind, url) of each measured view, with ids picked from the data itself."""
    from portal.auth.models import User
    from portal.listing import encode_cursor
    from portal.orders.models import Order

    total = db.session.scalar(select(func.count()).select_from(Order))
    middle = db.session.execute(
        select(Order.created_at, Order.id, Order.number, Order.billing_email)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset(total // 2)
        .limit(1)
    ).one()
    customer = db.session.scalar(select(User.email).where(User.role == "customer").order_by(User.id).offset(123))
    name = db.session.scalar(select(Order.billing_name).where(Order.id == middle.id)) or "a"
    amount = db.session.scalar(select(Order.total).where(Order.id == middle.id))
    rupees = f"{amount // 100}.{amount % 100:02d}"
    newest = db.session.scalar(select(func.max(Order.created_at)))
    start, count = newest.date(), 0
    while count < 10_000:  # a date range of the most recent days holding at least 10,000 orders
        start -= timedelta(days=1)
        count = db.session.scalar(select(func.count()).where(Order.created_at >= start))
    deep = encode_cursor(middle.created_at, middle.id)
    return [
        ("orders: default view", "list", "/admin/orders"),
        ("orders: status=failed", "list", "/admin/orders?status=failed"),
        ("orders: status=paid, sorted by total", "list", "/admin/orders?status=paid&sort=total"),
        ("orders: search by email", "list", f"/admin/orders?q={customer}"),
        ("orders: search by order number", "list", f"/admin/orders?q={middle.number}"),
        (f"orders: deep page (row {total // 2:,})", "list", f"/admin/orders?after={deep}"),
        ("orders: search by customer name (start)", "list", f"/admin/orders?q={quote(name.split()[0][:5])}"),
        ("orders: search by amount (₹, exact)", "list", f"/admin/orders?q={quote('₹' + rupees)}"),
        ("payments: search by customer name", "list", f"/admin/payments?q={quote(name)}"),
        ("payments: search by amount", "list", f"/admin/payments?q={rupees}"),
        ("refunds: search by email", "list", f"/admin/refunds?q={quote(customer)}"),
        ("invoices: search by customer name", "list", f"/admin/invoices?q={quote(name)}"),
        ("invoices: search by amount", "list", f"/admin/invoices?q={rupees}"),
        ("orders: HTMX fragment, status tab", "htmx", "/admin/orders?status=refunded"),
        ("payments: default view", "list", "/admin/payments"),
        ("payments: status=failed", "list", "/admin/payments?status=failed"),
        (f"orders: CSV export ({count:,} rows)", "csv", f"/admin/orders?format=csv&from={start.isoformat()}"),
        ("dashboard", "dashboard", "/admin/"),
    ]


def measure(client, url: str, runs: int, headers=None) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, headers=headers or {})
        body = response.get_data()  # consumes a streamed CSV completely
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and body, (url, response.status_code)
    return timings


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def count_statements(db, client, url: str, headers=None) -> int:
    seen = []

    def _count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        client.get(url, headers=headers or {}).get_data()
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)
    return len(seen)


def naive(db) -> list[tuple[str, float]]:
    """What the classic COUNT(*) + OFFSET pagination costs on the same table, for contrast."""
    out = []
    for label, statement in [
        ("SELECT count(*) FROM orders", "SELECT count(*) FROM orders"),
        ("... ORDER BY created_at DESC OFFSET half LIMIT 50", None),
    ]:
        if statement is None:
            half = db.session.scalar(text("SELECT count(*) FROM orders")) // 2
            statement = f"SELECT * FROM orders ORDER BY created_at DESC, id DESC OFFSET {half} LIMIT 50"
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            db.session.execute(text(statement)).all()
            runs.append((time.perf_counter() - started) * 1000)
        out.append((label, statistics.median(runs)))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "bench_portal"))
    parser.add_argument("--host", default="127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--search", action="store_true", help="search kinds and status tabs at two sizes")
    parser.add_argument("--databases", default="bench_portal_100k,bench_portal", help="with --search")
    parser.add_argument("--pairs", type=int, default=15, help="with --search: alternating timings per case")
    args = parser.parse_args(argv)
    if args.search:
        from bench.portal import search_cases

        def app_for(database: str):
            return make_app(f"postgresql+psycopg://postgres@{args.host}/{database}")

        search_cases.main(app_for, args.databases.split(","), args.pairs)
        return
    from bench.portal.generate import PASSWORD
    from portal.extensions import db
    from portal.orders.models import Order

    app = make_app(f"postgresql+psycopg://postgres@{args.host}/{args.database}")
    with app.app_context():
        orders = db.session.scalar(select(func.count()).select_from(Order))
        client = app.test_client()
        sign_in(client, "admin@bench.test", PASSWORD)
        print(f"{args.database}: {orders:,} orders; {args.runs} timed requests per view after 3 warm-ups\n")
        print("| view | median ms | p95 ms | SQL statements | target |\n|---|---:|---:|---:|---|")
        for name, kind, url in cases(db):
            headers = {"HX-Request": "true"} if kind == "htmx" else None
            runs = max(args.runs // 3, 5) if kind == "csv" else args.runs
            measure(client, url, 3, headers)
            timings = measure(client, url, runs, headers)
            statements = count_statements(db, client, url, headers)
            target = TARGETS_MS.get("dashboard" if kind == "dashboard" else "list")
            target_text = f"≤ {target:.0f} ms" if kind != "csv" else "streamed"
            print(
                f"| {name} | {statistics.median(timings):.1f} | {p95(timings):.1f} | {statements} | {target_text} |",
                flush=True,
            )
        print("\nFor contrast, the COUNT(*) + OFFSET approach on the same data (SQL only, median of 5):")
        for label, ms in naive(db):
            print(f"- {label}: {ms:.1f} ms")


if __name__ == "__main__":
    main()
