"""Builds a believable shop through the same services the app uses.

Gateway-side facts (payments, refunds) are fed in as Razorpay-shaped entities through
`apply_gateway_payment` / `apply_gateway_refund`, exactly as webhooks and reconciliation do; then
timestamps are moved back to the order's date so the 90-day history reads naturally.
"""

from __future__ import annotations

import random
import string
from datetime import timedelta

from sqlalchemy import case, select, update

from portal.auth.models import Role, User
from portal.auth.services import upsert_user
from portal.catalog.models import Product, ProductKind
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.orders.models import Order
from portal.orders.services import change_status, place_order
from portal.orders.status import OrderStatus
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.refunds.models import Refund
from portal.refunds.settlement import apply_gateway_refund
from portal.timeutil import utcnow

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
# Share of orders ending in each state (the remainder of 'paid' get refunds below).
OUTCOMES = [
    ("paid", 55),
    ("partially_refunded", 6),
    ("refunded", 5),
    ("failed", 8),
    ("cancelled", 8),
    ("expired", 10),
    ("pending", 4),
    ("late_payment", 1),
    ("authorized", 3),
]


def gateway_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_" + "".join(rng.choices(string.ascii_letters + string.digits, k=14))


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
        Product(
            sku=sku, title=title, price=price, kind=ProductKind.PHYSICAL, hsn_sac="4901", tax_rate_bp=1200, stock=stock
        )
        for sku, title, price, stock in GOODS
    ]
    db.session.add_all([p for p in products if p.sku not in existing])
    db.session.commit()
    return [existing.get(p.sku, p) for p in products]


def seed_people(rng: random.Random, customers: int) -> list[User]:
    for email, role in DEMO_STAFF:
        upsert_user(email, DEMO_PASSWORD, role)
    people = [
        upsert_user(
            DEMO_CUSTOMER,
            DEMO_PASSWORD,
            Role.CUSTOMER,
            name="Demo Customer",
            billing_state="Karnataka",
            billing_address="1 Residency Road, Bengaluru",
        )[0]
    ]
    for i in range(customers - 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{i}@example.in".lower()
        state = rng.choice(STATES)
        people.append(
            upsert_user(
                email,
                DEMO_PASSWORD,
                Role.CUSTOMER,
                name=f"{first} {last}",
                billing_state=state,
                billing_address=f"{rng.randint(1, 200)} Main Road, {state}",
                phone=f"+9198{rng.randint(10000000, 99999999)}",
            )[0]
        )
    return people


def payment_entity(rng, order: Order, status: str, **extra) -> dict:
    entity = {
        "id": gateway_id(rng, "pay"),
        "entity": "payment",
        "amount": order.total,
        "currency": order.currency,
        "status": status,
        "order_id": order.gateway_order_id,
        "method": rng.choice(METHODS),
        "email": order.customer.email,
        "contact": order.customer.phone or "+919999999999",
        "captured": status == "captured",
        "created_at": None,
    }
    entity.update(extra)
    return entity


def refund_entity(rng, payment: Payment, amount: int, status: str = "processed") -> dict:
    return {
        "id": gateway_id(rng, "rfnd"),
        "entity": "refund",
        "amount": amount,
        "currency": payment.currency,
        "payment_id": payment.gateway_payment_id,
        "status": status,
        "created_at": None,
    }


def _play(rng, order: Order, outcome: str) -> None:
    gw, system = Actor.gateway(), Actor.system("demo seed")
    if outcome in ("cancelled", "late_payment"):
        change_status(order.id, OrderStatus.CANCELLED, actor=Actor.user(order.customer), reason="changed my mind")
        if outcome == "late_payment":
            apply_gateway_payment(payment_entity(rng, order, "captured"), actor=gw)
        return
    if outcome == "expired":
        change_status(order.id, OrderStatus.EXPIRED, actor=system, reason="unpaid past its payment window")
        return
    if outcome == "pending":
        return
    if outcome == "failed":
        apply_gateway_payment(
            payment_entity(
                rng,
                order,
                "failed",
                error_code="BAD_REQUEST_ERROR",
                error_description="Payment failed because the card was declined",
                error_reason="card_declined",
            ),
            actor=gw,
        )
        return
    if outcome == "authorized":
        apply_gateway_payment(payment_entity(rng, order, "authorized"), actor=gw)
        return
    outcome_payment = apply_gateway_payment(payment_entity(rng, order, "captured"), actor=gw).payment
    if outcome == "refunded":
        apply_gateway_refund(refund_entity(rng, outcome_payment, order.total), actor=gw)
    elif outcome == "partially_refunded":
        apply_gateway_refund(refund_entity(rng, outcome_payment, order.total // 4), actor=gw)


def _if_set(column, value):
    return case((column.is_not(None), value), else_=None)


def _backdate(order: Order, when) -> None:
    """Move the order's timestamps (and those of what it produced) back to `when`."""
    later = when + timedelta(minutes=7)
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(
            created_at=when,
            updated_at=later,
            expires_at=when + timedelta(days=1),
            paid_at=_if_set(Order.paid_at, later),
        )
    )
    db.session.execute(
        update(Payment)
        .where(Payment.order_id == order.id)
        .values(
            created_at=when + timedelta(minutes=5),
            updated_at=later,
            authorized_at=_if_set(Payment.authorized_at, when + timedelta(minutes=5)),
            captured_at=_if_set(Payment.captured_at, later),
        )
    )
    db.session.execute(
        update(Refund)
        .where(Refund.order_id == order.id)
        .values(
            created_at=when + timedelta(days=2),
            updated_at=when + timedelta(days=2),
            processed_at=_if_set(Refund.processed_at, when + timedelta(days=2)),
        )
    )
    payment_ids = select(Payment.id).where(Payment.order_id == order.id)
    refund_ids = select(Refund.id).where(Refund.order_id == order.id)
    db.session.execute(
        update(HistoryEvent)
        .where(
            ((HistoryEvent.entity_type == "order") & (HistoryEvent.entity_id == order.id))
            | ((HistoryEvent.entity_type == "payment") & HistoryEvent.entity_id.in_(payment_ids))
            | ((HistoryEvent.entity_type == "refund") & HistoryEvent.entity_id.in_(refund_ids))
        )
        .values(created_at=later)
    )
    db.session.commit()


def seed_orders(
    rng: random.Random, customers: list[User], products: list[Product], count: int, days: int, progress=None
) -> int:
    outcomes, weights = zip(*OUTCOMES, strict=True)
    now = utcnow()
    for n in range(count):
        when = now - timedelta(days=days * (count - n) / count, minutes=rng.randint(0, 600))
        # The oldest orders play every outcome once, so even a small seed shows every state.
        outcome = outcomes[n] if n < len(outcomes) <= count else rng.choices(outcomes, weights)[0]
        if when > now - timedelta(hours=20) and outcome == "expired":
            outcome = "pending"
        picks = rng.sample(products[:12], k=rng.choice([1, 1, 1, 2]))
        items = [{"product_id": p.id, "quantity": 1} for p in picks]
        if rng.random() < 0.2:
            items.append({"product_id": rng.choice(products[12:]).id, "quantity": rng.randint(1, 2)})
        order = place_order(rng.choice(customers), items, gateway_order_id=gateway_id(rng, "order"))
        _play(rng, order, outcome)
        _backdate(order, when)
        if progress:
            progress(1)
    return count


def seed(customers: int = 50, orders: int = 300, days: int = 90, seed_value: int = 7, progress=None) -> dict:
    """Seed an empty database; refuses (returns {'skipped': True}) when there are orders already."""
    if db.session.scalar(select(Order.id).limit(1)) is not None:
        return {"skipped": True}
    rng = random.Random(seed_value)
    products = seed_catalogue()  # seed_orders relies on its order: 12 courses, then 4 goods
    people = seed_people(rng, customers)
    seed_orders(rng, people, list(products), orders, days, progress)
    return {"skipped": False, "products": len(products), "customers": len(people), "orders": orders}
