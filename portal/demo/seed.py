"""Builds a believable shop by playing its history through the same services the app uses.

Every order is placed and its gateway order opened as the API does, paid at the sandbox's hosted checkout,
verified, refunded through the refund service and invoiced by the invoice service — with the sandbox's
webhooks delivered and processed — while a clock moves through the past (portal/demo/timeline.py): each
step is stamped when it would have happened, so the sandbox and our books agree (`flask payments
reconcile` finds nothing) and every created_at, history row, webhook and invoice date tells one story.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal.auth.models import Role, User
from portal.auth.services import find_user, upsert_user
from portal.catalog.models import Product, ProductKind
from portal.demo import marketplace
from portal.demo.market_shop import MarketShop
from portal.demo.shop import Shop, webhooks_in_this_thread
from portal.demo.timeline import play
from portal.extensions import db
from portal.history.services import Actor
from portal.orders.models import CaptureMode, Order
from portal.timeutil import clock_at, utcnow

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 (printed to the user on purpose)
DEMO_STAFF = (("admin@demo.test", Role.ADMIN), ("finance@demo.test", Role.FINANCE), ("viewer@demo.test", Role.VIEWER))
DEMO_CUSTOMER = "customer@demo.test"

COURSES = [
    ("PY-101", "Python for Everyone", 149900),
    ("DS-201", "Data Science Bootcamp", 499900),
    ("ML-301", "Machine Learning in Practice", 699900),
    ("WEB-110", "Modern Web Development", 299900),
    ("SQL-120", "SQL from Zero to Hero", 99900),
    ("DEV-210", "DevOps Essentials", 399900),
    ("UX-130", "UX Design Foundations", 249900),
    ("FIN-140", "Personal Finance for Engineers", 79900),
    ("GO-220", "Go for Backend Developers", 349900),
    ("RS-320", "Rust Systems Programming", 599900),
    ("AND-230", "Android with Kotlin", 449900),
    ("CLD-240", "Cloud Architecture on a Budget", 549900),
]
GOODS = [
    ("BK-PY", "Python Handbook (print)", 89900, 120),
    ("KIT-IOT", "IoT Starter Kit", 249900, 40),
    ("MUG-01", "Developer Mug", 49900, 300),
    ("TEE-01", "Course T-shirt", 69900, 200),
]
FIRST = [
    "Aarav",
    "Vivaan",
    "Aditya",
    "Ananya",
    "Diya",
    "Ishaan",
    "Kavya",
    "Meera",
    "Rohan",
    "Saanvi",
    "Arjun",
    "Priya",
    "Neha",
    "Rahul",
    "Sneha",
    "Vikram",
    "Pooja",
    "Karan",
    "Nisha",
    "Dev",
]
LAST = ["Sharma", "Iyer", "Reddy", "Patel", "Nair", "Gupta", "Singh", "Menon", "Rao", "Das"]
STATES = ["Karnataka", "Maharashtra", "Tamil Nadu", "Delhi", "Kerala", "Telangana", "Gujarat"]
METHODS = ["upi", "card", "netbanking", "wallet"]
# Share of orders ending each way.
OUTCOMES = [
    ("paid", 52),
    ("partially_refunded", 6),
    ("refunded", 5),
    ("failed", 8),
    ("cancelled", 8),
    ("expired", 10),
    ("pending", 4),
    ("late_payment", 1),
    ("authorized", 3),  # a manual-capture order waiting for finance's Capture
    ("manual_captured", 3),  # a manual-capture order finance captured
    # Unpaid, its payment window run out a minute before the seed ended: under `make run` the worker's
    # expire_unpaid_orders schedule expires it by itself within a minute (played once, never drawn).
    ("overdue", 0),
]
OVERDUE_BY = (timedelta(seconds=30), timedelta(minutes=2))  # how long before "now" its window ran out
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def seed_catalogue() -> list[Product]:
    """The demo products (12 courses, then 4 goods), adding whichever are missing; other products are left alone."""
    wanted = [sku for sku, *_ in COURSES + GOODS]
    existing = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(wanted)))}
    products = [
        Product(
            sku=sku,
            title=title,
            price=price,
            kind=ProductKind.COURSE,
            hsn_sac="999293",
            tax_rate_bp=1800,
            description=f"{title}: self-paced video course with projects.",
        )
        for sku, title, price in COURSES
    ]
    products += [
        Product(sku=sku, title=title, price=price, kind=ProductKind.GOOD, hsn_sac="4901", tax_rate_bp=1200, stock=stock)
        for sku, title, price, stock in GOODS
    ]
    db.session.add_all([p for p in products if p.sku not in existing])
    db.session.commit()
    return [existing.get(p.sku, p) for p in products]


def seed_people(rng: random.Random, customers: int) -> list[User]:
    """Staff and customers. One password for all, hashed once: scrypt is slow on purpose, and the demo
    customers (who all share it) would otherwise spend most of the seed's time hashing it again."""
    for email, role in DEMO_STAFF:
        upsert_user(email, DEMO_PASSWORD, role)
    demo, _ = upsert_user(
        DEMO_CUSTOMER,
        DEMO_PASSWORD,
        Role.CUSTOMER,
        name="Demo Customer",
        billing_state="Karnataka",
        billing_address="1 Residency Road, Bengaluru",
    )
    people = [demo]
    for i in range(customers - 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{i}@example.in".lower()
        state = rng.choice(STATES)
        user = find_user(email) or User(email=email, role=Role.CUSTOMER)
        user.name, user.role, user.password_hash = f"{first} {last}", Role.CUSTOMER, demo.password_hash
        user.billing_state, user.billing_address = state, f"{rng.randint(1, 200)} Main Road, {state}"
        user.phone = f"+9198{rng.randint(10000000, 99999999)}"
        db.session.add(user)
        people.append(user)
    db.session.commit()
    return people


def _window(outcome: str, days: int, ttl: timedelta) -> tuple[timedelta, timedelta]:
    """How long ago an order with this outcome may start, so that its story fits before now: unpaid
    ones recent enough not to look long expired, authorized ones inside the gateway's capture window."""
    span = max(timedelta(days=days), 2 * HOUR)
    windows = {
        "pending": (ttl * 0.1, ttl * 0.7),
        # A failed order expires once its window runs out (and gives its stock back): one that still shows
        # `failed`, payable again, is recent.
        "failed": (ttl * 0.1, ttl * 0.7),
        "overdue": (ttl + OVERDUE_BY[0], ttl + OVERDUE_BY[1]),
        # Inside the payment window too: `orders expire` does not know the payment is waiting for Capture.
        "authorized": (ttl * 0.1, min(ttl * 0.7, 2 * DAY)),
        "expired": (ttl + 2 * HOUR, span),
        "refunded": (7 * DAY, span),
        "partially_refunded": (7 * DAY, span),
        "manual_captured": (DAY, span),
    }
    early, late = windows.get(outcome, (HOUR, span))
    return early, max(early, late)


def plan_orders(rng: random.Random, count: int, days: int, ttl: timedelta) -> list[tuple[timedelta, str]]:
    """(how long ago it starts, outcome) for each order; the first ones play every outcome once, so even a
    small seed shows every state."""
    names, weights = zip(*OUTCOMES, strict=True)
    plan = []
    for n in range(count):
        outcome = names[n] if n < len(names) <= count else rng.choices(names, weights)[0]
        early, late = _window(outcome, days, ttl)
        plan.append((early + (late - early) * rng.random(), outcome))
    return plan


def _minutes(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(minutes=rng.randint(low, high))


def story(shop: Shop, rng: random.Random, customer: User, items: list[dict], outcome: str, ttl) -> Iterator:
    """One order's life, step by step; each `yield` is the wait before the next step."""
    manual = outcome in ("authorized", "manual_captured")
    order_id = shop.place(customer, items, CaptureMode.MANUAL if manual else CaptureMode.AUTO)
    if outcome == "expired":
        yield ttl + _minutes(rng, 5, 55)  # left unpaid until the next scheduled `orders expire` run
        shop.expire_overdue()
    elif outcome not in ("pending", "overdue"):
        yield _minutes(rng, 1, 20)
        steps = _cancelled if outcome in ("cancelled", "late_payment") else _paid
        yield from steps(shop, rng, order_id, outcome, rng.choice(METHODS))


def _cancelled(shop: Shop, rng: random.Random, order_id: int, outcome: str, method: str) -> Iterator:
    shop.cancel(order_id)
    if outcome == "late_payment":  # the checkout was still open: the payment lands, and is refunded
        yield _minutes(rng, 1, 10)
        shop.pay(order_id, "success", method)


def _paid(shop: Shop, rng: random.Random, order_id: int, outcome: str, method: str) -> Iterator:
    """Paid at the checkout (after a declined attempt, sometimes), then captured or refunded by finance."""
    if outcome == "failed" or (outcome not in ("authorized", "manual_captured") and rng.random() < 0.1):
        shop.pay(order_id, "failure", method)
        if outcome == "failed":
            return
        yield _minutes(rng, 1, 15)
    shop.pay(order_id, "authorize" if rng.random() < 0.15 else "success", method)
    if outcome == "manual_captured":
        yield _minutes(rng, 30, 600)
        shop.capture(order_id)
    elif outcome in ("refunded", "partially_refunded"):
        yield timedelta(hours=rng.randint(6, 120))
        total = db.session.get(Order, order_id).total
        shop.refund(order_id, total // 4 if outcome == "partially_refunded" else None, "requested_by_customer")


def _items(rng: random.Random, products: list[Product]) -> list[dict]:
    picks = rng.sample(products[:12], k=rng.choice([1, 1, 1, 2]))
    items = [{"product_id": p.id, "quantity": 1} for p in picks]
    if rng.random() < 0.2:
        items.append({"product_id": rng.choice(products[12:]).id, "quantity": rng.randint(1, 2)})
    return items


def seed_orders(rng, customers: list[User], products: list[Product], plan, progress=None, market=None) -> int:
    """Play the planned orders' stories (see plan_orders), each from its start until now, with the
    marketplace's stories (`market`: its products by SKU; portal.demo.marketplace) on the same clock."""
    app = current_app._get_current_object()
    ttl = timedelta(minutes=app.config["ORDER_PAYMENT_TTL_MINUTES"])
    shop = MarketShop(app, find_user(DEMO_STAFF[1][0]), find_user(marketplace.VENDOR_USER[0]))
    now = utcnow()
    stories = marketplace.stories(shop, market, customers, now) if market else []
    for ago, outcome in plan:
        stories.append((now - ago, story(shop, rng, rng.choice(customers), _items(rng, products), outcome, ttl)))
    with webhooks_in_this_thread(app):
        play(stories, on_finished=(lambda: progress(1)) if progress else None)
    return len(plan)


class NeedsSandbox(RuntimeError):
    """The demo pays its orders at the sandbox's checkout: it never runs against a real gateway."""


def seed(customers: int = 40, orders: int = 150, days: int = 60, seed_value: int = 7, progress=None) -> dict:
    """Seed an empty database; refuses (returns {'skipped': True}) when there are orders already, and
    raises NeedsSandbox unless the in-process sandbox is the gateway."""
    if "sandbox" not in current_app.extensions or current_app.config.get("RAZORPAY_BASE_URL"):
        raise NeedsSandbox("flask demo seed needs PAYMENT_GATEWAY=sandbox with the in-process sandbox")
    if db.session.scalar(select(Order.id).limit(1)) is not None:
        return {"skipped": True}
    rng = random.Random(seed_value)
    plan = plan_orders(rng, orders, days, timedelta(minutes=current_app.config["ORDER_PAYMENT_TTL_MINUTES"]))
    with clock_at(utcnow() - max(ago for ago, _ in plan) - DAY):  # the shop opened before its first order
        products = seed_catalogue()  # seed_orders relies on its order: 12 courses, then 4 goods
        people = seed_people(rng, customers)
        market = marketplace.seed_vendors(Actor.user(find_user(DEMO_STAFF[0][0])))
        marketplace.seed_vendor_user(DEMO_PASSWORD)
    seed_orders(rng, people, list(products), plan, progress, market)
    return {
        "skipped": False,
        "products": len(products) + len(market),
        "customers": len(people),
        "orders": orders,
        "marketplace": marketplace.summary(),
        "overdue": overdue_orders(),
    }


def overdue_orders() -> list[str]:
    """Numbers of the pending orders whose payment window has run out (what `orders expire` would expire)."""
    query = select(Order.number).where(Order.status == "pending", Order.expires_at <= utcnow())
    return list(db.session.scalars(query.order_by(Order.id)))
