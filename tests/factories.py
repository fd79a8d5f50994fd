"""Model factories that go through the real services where one exists."""

from __future__ import annotations

import itertools

from portal.auth.models import Role
from portal.auth.services import upsert_user
from portal.catalog.models import Product, ProductKind
from portal.extensions import db
from portal.history.services import Actor
from portal.orders.services import place_order
from portal.payments.services import apply_gateway_payment

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


def staff(role: str = "admin", email: str | None = None):
    return upsert_user(email or f"{role}{next(_seq)}@staff.test", PASSWORD, role)[0]


def customer(email: str | None = None, **fields):
    return upsert_user(email or f"customer{next(_seq)}@example.test", PASSWORD, Role.CUSTOMER, **fields)[0]


def product(price: int = 100000, kind: str = ProductKind.COURSE, **fields) -> Product:
    n = next(_seq)
    item = Product(
        sku=fields.pop("sku", f"SKU-{n}"),
        title=fields.pop("title", f"Product {n}"),
        price=price,
        kind=kind,
        tax_rate_bp=fields.pop("tax_rate_bp", 1800),
        **fields,
    )
    db.session.add(item)
    db.session.commit()
    return item


def order(customer_user=None, products=None, quantity: int = 1, gateway_order_id: str | None = None, **fields):
    customer_user = customer_user or customer()
    products = products or [product()]
    items = [{"product_id": p.id, "quantity": quantity} for p in products]
    gateway_order_id = gateway_order_id or f"order_T{next(_seq):013d}"
    return place_order(customer_user, items, gateway_order_id=gateway_order_id, **fields)


def payment_entity(order_obj, status: str = "captured", **fields) -> dict:
    entity = {
        "id": f"pay_T{next(_seq):013d}",
        "entity": "payment",
        "amount": order_obj.total,
        "currency": order_obj.currency,
        "status": status,
        "order_id": order_obj.gateway_order_id,
        "method": "upi",
        "email": order_obj.customer.email,
        "contact": "+919999999999",
    }
    entity.update(fields)
    return entity


def paid_order(**kwargs):
    """An order with a captured payment, applied the way the gateway reports it."""
    placed = order(**kwargs)
    outcome = apply_gateway_payment(payment_entity(placed), actor=Actor.gateway())
    return outcome.order, outcome.payment
