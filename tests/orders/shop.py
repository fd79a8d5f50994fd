"""Marketplace orders for the fulfilment tests, paid through the real sandbox (hosted checkout → SDK → adapter).

A vendor's goods order waiting for approval is what the checkout makes for a vendor without auto-approve: placed,
marked `awaiting_vendor`, then paid. A rental goes through the real cart and checkout (portal/cart): its `rental`
line for its dates, its `deposit` line (no GST), its committed booking and the payment's allocation.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from portal.cart.checkout import start_checkout
from portal.cart.completion import complete_checkout_payment
from portal.cart.services import add_line
from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.orders.models import Order
from portal.orders.status import FulfilmentStatus
from portal.payments.services import apply_gateway_payment
from portal.vendors.models import Vendor
from tests import factories

_seq = itertools.count(1)


def vendor(**fields) -> Vendor:
    n = next(_seq)
    shop = Vendor(name=fields.pop("name", f"Vendor {n}"), invoice_prefix=fields.pop("invoice_prefix", f"V{n:03d}"))
    for key, value in {"auto_approve": False, **fields}.items():
        setattr(shop, key, value)
    db.session.add(shop)
    db.session.commit()
    return shop


def pay(driver, order, outcome: str = "success"):
    """Open the order's gateway order at the sandbox for its total and pay it there; the applied outcome."""
    gateway_order = get_gateway().create_order(amount=order.total, currency=order.currency, receipt="t", notes={})
    order.gateway_order_id = gateway_order["id"]
    db.session.commit()
    answer = driver.pay(gateway_order["id"], outcome=outcome)
    payment_id = answer.get("razorpay_payment_id") or answer["error"]["metadata"]["payment_id"]
    return apply_gateway_payment(get_gateway().fetch_payment(payment_id), actor=Actor.gateway())


def goods_order(driver, *, products=None, quantity: int = 1, shop=None, awaiting: bool = False, customer=None):
    """A paid order of goods (2 units of a stocked good by default), of `shop`, awaiting approval or not."""
    products = products or [factories.product(kind=ProductKind.GOOD, stock=10, price=50000)]
    order = factories.order(customer, products=products, quantity=quantity, vendor_id=shop.id if shop else None)
    if awaiting:
        order.fulfilment_status = FulfilmentStatus.AWAITING_VENDOR  # as the checkout writes it
    outcome = pay(driver, order)
    return outcome.order, outcome.payment


def rental_order(
    driver, *, price=40000, deposit=200000, days=3, units=1, owned=1, start=None, shop=None, customer=None
):
    """A paid rental of `units` units for `days` days from `start`, through the real cart and checkout: its
    `rental` line, its `deposit` line and its committed booking, the payment allocated to the order."""
    product = factories.product(
        kind=ProductKind.RENTAL, stock=owned, price=price, deposit=deposit, vendor_id=shop.id if shop else None
    )
    customer = customer or factories.customer()
    start = start or date.today() + timedelta(days=7)
    add_line(customer, product.id, units, rental_start=start, rental_end=start + timedelta(days=days - 1))
    checkout, _ = start_checkout(customer)
    answer = driver.pay(checkout.gateway_order_id)
    outcome = complete_checkout_payment(
        answer["razorpay_order_id"], answer["razorpay_payment_id"], answer["razorpay_signature"], actor=Actor.gateway()
    )
    [order] = outcome.orders
    return db.session.get(Order, order.id), outcome.payment


def shipped(order_id: int, *, actor=None) -> None:
    """Take a paid goods order to `delivered` through the services (accepting it first when it waits)."""
    from portal.orders.fulfilment import accept_order, advance

    actor = actor or Actor.system("test")
    if db.session.get(Order, order_id).fulfilment_status == FulfilmentStatus.AWAITING_VENDOR:
        accept_order(order_id, actor=actor)
    advance(order_id, "processing", actor=actor)
    advance(order_id, "shipped", actor=actor, carrier="BlueDart", tracking_number="AWB123")
    advance(order_id, "delivered", actor=actor)
