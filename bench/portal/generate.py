"""Generate a realistic shop of N orders (default 1,000,000) in a dedicated PostgreSQL database.

    python -m bench.portal.generate --orders 1000000 [--database bench_portal] [--host 127.0.0.1]

Never point it at a database you care about: it DROPS and recreates every table of the schema.
Rows are written in one pass to tab-separated files, then loaded with COPY (psycopg), then
VACUUM ANALYZE so index-only scans see an up-to-date visibility map, as on a settled production
database. A million orders take a few minutes on a laptop.

The shape: two years of trade growing towards today (~2,000 orders a day at the end); 20,000+
customers; 16 products (courses and a few physical goods); most orders paid with one captured
payment (some after a failed attempt), the rest failed, cancelled, expired, refunded or partially
refunded; recent orders still pending, some with an authorized payment; invoices for paid orders
except a handful of recent ones; a few pending and stuck refunds and failed webhooks.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from bench.scratch import ensure_database

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PRODUCTS = [  # sku, title, price (paise, ex-tax), kind
    ("PY-101", "Python for Everyone", 149900, "course"),
    ("DS-201", "Data Science Bootcamp", 499900, "course"),
    ("ML-301", "Machine Learning in Practice", 699900, "course"),
    ("WEB-110", "Modern Web Development", 299900, "course"),
    ("SQL-120", "SQL from Zero to Hero", 99900, "course"),
    ("DEV-210", "DevOps Essentials", 399900, "course"),
    ("UX-130", "UX Design Foundations", 249900, "course"),
    ("FIN-140", "Personal Finance for Engineers", 79900, "course"),
    ("GO-220", "Go for Backend Developers", 349900, "course"),
    ("RS-320", "Rust Systems Programming", 599900, "course"),
    ("AND-230", "Android with Kotlin", 449900, "course"),
    ("CLD-240", "Cloud Architecture on a Budget", 549900, "course"),
    ("BK-PY", "Python Handbook (print)", 89900, "good"),
    ("KIT-IOT", "IoT Starter Kit", 249900, "good"),
    ("MUG-01", "Developer Mug", 49900, "good"),
    ("TEE-01", "Course T-shirt", 69900, "good"),
]
FIRST = ["Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Ishaan", "Kavya", "Meera", "Priya", "Rohan", "Saanvi", "Arjun"]
LAST = ["Sharma", "Verma", "Iyer", "Reddy", "Nair", "Gupta", "Patel", "Khan", "Das", "Mehta", "Rao", "Singh"]
STATES = ["Karnataka", "Maharashtra", "Tamil Nadu", "Delhi", "Kerala", "Gujarat", "Telangana"]
METHODS = ["upi"] * 6 + ["card"] * 3 + ["netbanking", "wallet"]
# Final status of an order that is more than a day old.
OUTCOMES = [("paid", 760), ("expired", 90), ("failed", 45), ("cancelled", 40), ("refunded", 40), ("partial", 25)]
TAX_BP = 1800
DAYS = 730
PASSWORD = "bench-password-123"  # noqa: S105 (a throw-away benchmark database)


def order_number(i: int) -> str:
    """Unique, unguessable-looking: i × an odd constant is a bijection modulo 32^8."""
    n = (i * 2654435761) % (32**8)
    return "ORD-" + "".join(ALPHABET[(n >> (5 * k)) & 31] for k in range(8))


def financial_year(day: datetime) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def document_number(prefix: str, fy: str, sequence_no: int) -> str:
    """'INV/25-26/00042', as portal.invoices.numbering.format_number writes them (sequence_no is global
    here, so numbers stay unique across years; at most 16 characters up to 999,999 documents)."""
    return f"{prefix}/{fy[2:]}/{sequence_no:05d}"


def esc(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


class Writer:
    """Tab-separated files, one per table, for COPY ... FROM STDIN."""

    def __init__(self, folder: Path, columns: dict[str, list[str]]):
        self.columns = columns
        self.files = {t: (folder / f"{t}.tsv").open("w", encoding="utf-8") for t in columns}
        self.counts = dict.fromkeys(columns, 0)

    def row(self, table: str, *values) -> None:
        self.files[table].write("\t".join(map(esc, values)) + "\n")
        self.counts[table] += 1

    def close(self) -> None:
        for f in self.files.values():
            f.close()


COLUMNS = {
    "users": ["id", "email", "name", "password_hash", "role", "active", "billing_state", "created_at", "updated_at"],
    "orders": [
        "id",
        "number",
        "customer_id",
        "currency",
        "subtotal",
        "discount",
        "tax",
        "total",
        "status",
        "fulfilment_status",
        "gateway_order_id",
        "receipt",
        "expires_at",
        "paid_at",
        "needs_refund",
        "billing_name",
        "billing_email",
        "billing_state",
        "created_at",
        "updated_at",
    ],
    "order_items": [
        "id",
        "order_id",
        "product_id",
        "sku",
        "title",
        "kind",
        "hsn_sac",
        "unit_price",
        "quantity",
        "tax_rate_bp",
        "taxable_amount",
        "tax_amount",
    ],
    "payments": [
        "id",
        "order_id",
        "gateway_payment_id",
        "amount",
        "currency",
        "status",
        "method",
        "amount_refunded",
        "email",
        "error_code",
        "error_description",
        "authorized_at",
        "captured_at",
        "created_at",
        "updated_at",
    ],
    # Every payment pays its order through one allocation row (the whole amount), as the portal writes them.
    "payment_allocations": ["id", "payment_id", "order_id", "amount", "currency"],
    "refunds": [
        "id",
        "payment_id",
        "order_id",
        "gateway_refund_id",
        "amount",
        "currency",
        "status",
        "reason",
        "notes",
        "idempotency_key",
        "processed_at",
        "created_at",
        "updated_at",
    ],
    "invoices": [
        "id",
        "order_id",
        "number",
        "financial_year",
        "sequence_no",
        "status",
        "issued_at",
        "currency",
        "subtotal",
        "tax",
        "cgst",
        "sgst",
        "igst",
        "total",
        "created_at",
        "updated_at",
    ],
    "credit_notes": [
        "id",
        "invoice_id",
        "refund_id",
        "number",
        "financial_year",
        "sequence_no",
        "issued_at",
        "currency",
        "amount",
        "tax",
        "created_at",
        "updated_at",
    ],
    "webhook_events": [
        "id",
        "provider",
        "event_id",
        "event_type",
        "status",
        "signature_valid",
        "payload",
        "attempts",
        "last_error",
        "received_at",
    ],
}


class Shop:
    def __init__(self, orders: int, customers: int, now: datetime, seed: int = 7):
        self.n_orders, self.n_customers, self.now = orders, customers, now
        self.rng = random.Random(seed)
        self.ids = dict.fromkeys(["payments", "refunds", "invoices", "credit_notes", "order_items"], 0)
        self.start = now - timedelta(days=DAYS)
        self.outcomes = [s for s, w in OUTCOMES for _ in range(w)]

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def created_at(self, i: int) -> datetime:
        """Monotone in the id, growing towards today (more orders per day as the shop grows)."""
        fraction = (i / self.n_orders) ** 0.6
        return self.start + timedelta(seconds=fraction * DAYS * 86400 - self.rng.random() * 30)

    def customers(self, w: Writer) -> None:
        from werkzeug.security import generate_password_hash

        digest = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # customers never sign in here
        for c in range(1, self.n_customers + 1):
            name = f"{FIRST[c % len(FIRST)]} {LAST[(c // len(FIRST)) % len(LAST)]}"
            email = f"{name.lower().replace(' ', '.')}{c}@example.test"
            w.row("users", c, email, name, digest, "customer", True, STATES[c % len(STATES)], self.start, self.start)

    def order(self, w: Writer, i: int) -> None:
        rng, at = self.rng, self.created_at(i)
        customer = rng.randint(1, self.n_customers)
        name = f"{FIRST[customer % len(FIRST)]} {LAST[(customer // len(FIRST)) % len(LAST)]}"
        email = f"{name.lower().replace(' ', '.')}{customer}@example.test"
        lines = [rng.randrange(len(PRODUCTS))] + ([rng.randrange(len(PRODUCTS))] if rng.random() < 0.1 else [])
        lines = sorted(set(lines))
        subtotal = sum(PRODUCTS[p][2] for p in lines)
        tax = sum((PRODUCTS[p][2] * TAX_BP + 5000) // 10000 for p in lines)
        total = subtotal + tax
        physical = any(PRODUCTS[p][3] == "good" for p in lines)
        status = self.status(at)
        for p in lines:
            sku, title, price, kind = PRODUCTS[p]
            line_tax = (price * TAX_BP + 5000) // 10000
            w.row("order_items", self.next_id("order_items"), i, p + 1, sku, title, kind, "999293", price, 1,
                  TAX_BP, price, line_tax)  # fmt: skip
        paid_at = at + timedelta(minutes=rng.randint(1, 20)) if status in ("paid", "refunded", "partial") else None
        fulfilment = self.fulfilment(status, physical, at)
        final = "partially_refunded" if status == "partial" else status
        w.row("orders", i, order_number(i), customer, "INR", subtotal, 0, tax, total, final, fulfilment,
              f"order_B{i:013d}", order_number(i), at + timedelta(days=1), paid_at, False, name, email,
              STATES[customer % len(STATES)], at, paid_at or at)  # fmt: skip
        self.payments(w, i, status, total, email, at, paid_at)

    def status(self, at: datetime) -> str:
        age = self.now - at
        if age < timedelta(days=1):
            return "pending" if self.rng.random() < 0.35 else "paid"
        return self.rng.choice(self.outcomes)

    def fulfilment(self, status: str, physical: bool, at: datetime) -> str:
        if not physical:
            return "not_required"
        if status not in ("paid", "partial"):
            return "unfulfilled"
        age = (self.now - at).days
        return "delivered" if age > 10 else "shipped" if age > 3 else "processing" if age > 1 else "unfulfilled"

    def payments(self, w: Writer, i: int, status: str, total: int, email: str, at, paid_at) -> None:
        rng = self.rng
        if status in ("paid", "refunded", "partial") and rng.random() < 0.1:
            self.payment(w, i, "failed", total, email, at + timedelta(seconds=40))
        if status == "failed":
            self.payment(w, i, "failed", total, email, at + timedelta(minutes=2))
        elif status == "pending" and rng.random() < 0.1:
            self.payment(w, i, "authorized", total, email, at + timedelta(minutes=1))
        elif status in ("paid", "refunded", "partial"):
            refunded = total if status == "refunded" else (total // 2 if status == "partial" else 0)
            pay_status = {"paid": "captured", "refunded": "refunded", "partial": "partially_refunded"}[status]
            payment_id = self.payment(w, i, pay_status, total, email, paid_at, refunded)
            invoice_id = None
            if (self.now - at) > timedelta(hours=6) or rng.random() < 0.5:
                invoice_id = self.invoice(w, i, total, paid_at)
            if refunded:
                done = paid_at + timedelta(days=rng.randint(1, 10))
                rid = self.next_id("refunds")
                w.row("refunds", rid, payment_id, i, f"rfnd_B{rid:013d}", refunded, "INR", "processed",
                      "requested_by_customer", "", f"rfk_bench{rid:012d}", done, done, done)  # fmt: skip
                if invoice_id:
                    self.credit_note(w, invoice_id, rid, refunded, done)

    def payment(self, w: Writer, order_id: int, status: str, amount: int, email: str, at, refunded: int = 0) -> int:
        pid = self.next_id("payments")
        failed = status == "failed"
        captured = at if status in ("captured", "refunded", "partially_refunded") else None
        w.row("payments", pid, order_id, f"pay_B{pid:013d}", amount, "INR", status, self.rng.choice(METHODS),
              refunded, email, "BAD_REQUEST_ERROR" if failed else None,
              "Payment failed due to insufficient funds" if failed else None,
              None if failed else at, captured, at, at)  # fmt: skip
        w.row("payment_allocations", pid, pid, order_id, amount, "INR")  # one per payment: its id is the payment's
        return pid

    def invoice(self, w: Writer, order_id: int, total: int, issued) -> int:
        """An issued invoice numbered as the portal numbers them (INV/25-26/00042; see invoices.numbering),
        so that the search benchmark's invoice-number kind is the shape people type."""
        iid = self.next_id("invoices")
        fy = financial_year(issued)
        subtotal = round(total / 1.18)
        tax = total - subtotal
        w.row("invoices", iid, order_id, document_number("INV", fy, iid), fy, iid, "issued", issued, "INR",
              subtotal, tax, tax // 2, tax - tax // 2, 0, total, issued, issued)  # fmt: skip
        return iid

    def credit_note(self, w: Writer, invoice_id: int, refund_id: int, amount: int, issued) -> None:
        cid = self.next_id("credit_notes")
        fy = financial_year(issued)
        tax = amount - round(amount / 1.18)
        w.row("credit_notes", cid, invoice_id, refund_id, document_number("CN", fy, cid), fy, cid, issued, "INR",
              amount, tax, issued, issued)  # fmt: skip

    def extras(self, w: Writer) -> None:
        """A few live problems for the dashboard's 'needs attention' panel."""
        for e in range(1, 301):
            failed = e % 25 == 0
            w.row("webhook_events", e, "razorpay", f"evt_B{e:010d}", "payment.captured",
                  "failed" if failed else "processed", True, "{}", 3 if failed else 1,
                  "timeout talking to the database" if failed else None,
                  self.now - timedelta(hours=e))  # fmt: skip


def create_database(args) -> str:
    url = f"postgresql://{args.user}@{args.host}:{args.port}/{args.database}"
    ensure_database(url)
    return url


def create_schema(url: str) -> None:
    from portal import create_app
    from portal.extensions import db
    from portal.search import POSTGRES_STATISTICS

    app = create_app(SQLALCHEMY_DATABASE_URI=url.replace("postgresql://", "postgresql+psycopg://"))
    with app.app_context():
        db.drop_all()
        db.create_all()  # makes pg_trgm first (portal.search)
        with db.engine.begin() as conn:
            for statement in POSTGRES_STATISTICS:
                conn.exec_driver_sql(statement)


def load(url: str, folder: Path, writer: Writer, quiet: bool = False) -> None:
    with psycopg.connect(url) as conn:
        products(conn)
        for table, columns in writer.columns.items():
            started = time.perf_counter()
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with conn.cursor() as cur, cur.copy(statement) as copy, (folder / f"{table}.tsv").open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            if not quiet:
                print(f"  {table}: {writer.counts[table]:,} rows in {time.perf_counter() - started:.1f}s", flush=True)
        for table in ("products", *writer.columns):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        if not quiet:
            print(f"  vacuum analyze: {time.perf_counter() - started:.1f}s", flush=True)


def products(conn) -> None:
    now = datetime.now()
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO products (id, sku, title, description, kind, price, currency, tax_rate_bp, hsn_sac, active,"
            " stock, created_at, updated_at) VALUES (%s,%s,%s,'',%s,%s,'INR',1800,'999293',true,%s,%s,%s)",
            [
                (n, sku, title, kind, price, 1000 if kind == "good" else None, now, now)
                for n, (sku, title, price, kind) in enumerate(PRODUCTS, 1)
            ],
        )


def staff(url: str) -> None:
    from portal import create_app
    from portal.auth.services import upsert_user

    app = create_app(SQLALCHEMY_DATABASE_URI=url.replace("postgresql://", "postgresql+psycopg://"))
    with app.app_context():
        upsert_user("admin@bench.test", PASSWORD, "admin")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=0, help="default: orders / 20 (at least 1,000)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "bench_portal"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5432")
    parser.add_argument("--user", default="postgres")
    args = parser.parse_args(argv)
    if args.database in {"test", "postgres"} or args.database.startswith("test_"):
        parser.error("refusing to overwrite a test or system database; use a dedicated one (e.g. bench_portal)")
    customers = args.customers or max(args.orders // 20, 1000)
    started = time.perf_counter()
    url = create_database(args)
    create_schema(url)
    shop = Shop(args.orders, customers, datetime.now().replace(microsecond=0))
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        folder = Path(tmp)
        writer = Writer(folder, COLUMNS)
        shop.customers(writer)
        for i in range(1, args.orders + 1):
            shop.order(writer, i)
        shop.extras(writer)
        writer.close()
        print(f"generated rows in {time.perf_counter() - started:.1f}s; loading with COPY…", flush=True)
        load(url, folder, writer)
    staff(url)
    print(f"done: {args.orders:,} orders in {args.database} in {time.perf_counter() - started:.0f}s")
    print(f"sign in as admin@bench.test / {PASSWORD}")


if __name__ == "__main__":
    main()
