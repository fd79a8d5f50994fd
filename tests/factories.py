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


def vendor(name: str | None = None, **fields):
    from portal.vendors.models import Vendor

    n = next(_seq)
    item = Vendor(name=name or f"Vendor {n}", legal_name=fields.pop("legal_name", f"Vendor {n} Pvt Ltd"), **fields)
    db.session.add(item)
    db.session.commit()
    return item


def checkout(customer_user=None, products=None, status: str = "pending", orders=(), **fields):
    """A Checkout written directly (no gateway, no cart): one held reservation and one priced line per product,
    moved to `status` through the checkout machine (history rows and all); `orders` are linked to it."""
    from datetime import timedelta

    from portal.cart.models import Checkout
    from portal.cart.status import CHECKOUT
    from portal.statemachine import advance_to
    from portal.stock.models import Reservation
    from portal.timeutil import utcnow

    customer_user = customer_user or customer()
    products = products or [product()]
    n = next(_seq)
    lines = [{"product_id": p.id, "vendor_id": p.vendor_id, "quantity": 1, "unit_price": p.price} for p in products]
    expires_at = utcnow() + timedelta(minutes=30)
    item = Checkout(
        number=fields.pop("number", f"CHK-T{n:06d}"),
        customer_id=customer_user.id,
        currency="INR",
        amount=fields.pop("amount", sum(p.price for p in products)),
        gateway_order_id=fields.pop("gateway_order_id", f"order_C{n:013d}"),
        expires_at=fields.pop("expires_at", expires_at),
        lines=lines,
        **fields,
    )
    item.reservations = [Reservation(product_id=p.id, quantity=1, expires_at=expires_at) for p in products]
    db.session.add(item)
    db.session.flush()
    for linked in orders:
        linked.checkout_id = item.id
    if status != "pending":
        advance_to(item, CHECKOUT, status, actor=Actor.system(), reason="factory")
    db.session.commit()
    return item
