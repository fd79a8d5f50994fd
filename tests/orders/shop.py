"""Marketplace orders for the fulfilment tests, paid through the real sandbox (hosted checkout → SDK → adapter).

A vendor's order waiting for approval is what the checkout makes for a vendor without auto-approve: placed,
marked `awaiting_vendor`, then paid. A rental order carries what the checkout writes for a rental: a `rental`
line for its dates, a `deposit` line (no GST) and the committed booking (a Reservation of its item).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.money import percent_of
from portal.orders.models import LineType, OrderItem
from portal.orders.status import FulfilmentStatus
from portal.payments.services import apply_gateway_payment
from portal.stock.models import Reservation, ReservationStatus
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
    """A paid rental of `units` units for `days` days from `start`, with its deposit line and its booking."""
    product = factories.product(kind=ProductKind.RENTAL, stock=owned, price=price, deposit=deposit)
    order = factories.order(customer, products=[product], quantity=units, vendor_id=shop.id if shop else None)
    start = start or date.today() + timedelta(days=7)
    rental = order.items[0]
    rental.line_type, rental.rental_start, rental.rental_end = LineType.RENTAL, start, start + timedelta(days=days - 1)
    rental.unit_price = price * days
    rental.taxable_amount = rental.unit_price * units
    rental.tax_amount = percent_of(rental.taxable_amount, rental.tax_rate_bp)
    order.items.append(_deposit_line(product, units, deposit))
    product.stock = owned  # a rental never takes stock (the legacy order placing did)
    order.subtotal = sum(i.taxable_amount for i in order.items)
    order.tax = sum(i.tax_amount for i in order.items)
    order.total = order.subtotal + order.tax
    db.session.flush()
    db.session.add(_booking(product, rental))
    outcome = pay(driver, order)
    return outcome.order, outcome.payment


def _deposit_line(product, units: int, deposit: int) -> OrderItem:
    return OrderItem(
        product_id=product.id,
        sku=product.sku,
        title=f"Deposit: {product.title}",
        kind=product.kind,
        hsn_sac=product.hsn_sac,
        unit_price=deposit,
        quantity=units,
        tax_rate_bp=0,
        taxable_amount=deposit * units,
        tax_amount=0,
        line_type=LineType.DEPOSIT,
    )


def _booking(product, item: OrderItem) -> Reservation:
    return Reservation(
        product_id=product.id,
        quantity=item.quantity,
        status=ReservationStatus.COMMITTED,
        rental_start=item.rental_start,
        rental_end=item.rental_end,
        order_item_id=item.id,
    )


def shipped(order_id: int, *, actor=None) -> None:
    """Take a paid goods order to `delivered` through the services (accepting it first when it waits)."""
    from portal.orders.fulfilment import accept_order, advance
    from portal.orders.models import Order

    actor = actor or Actor.system("test")
    if db.session.get(Order, order_id).fulfilment_status == FulfilmentStatus.AWAITING_VENDOR:
        accept_order(order_id, actor=actor)
    advance(order_id, "processing", actor=actor)
    advance(order_id, "shipped", actor=actor, carrier="BlueDart", tracking_number="AWB123")
    advance(order_id, "delivered", actor=actor)
