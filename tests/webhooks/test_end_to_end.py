"""The sandbox pays and delivers signed webhooks to our real endpoint — with its delivery faults on."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.webhooks.models import WebhookEvent


def _order_at_gateway(make) -> Order:
    order = make.order()
    gateway_order = get_gateway().create_order(
        amount=order.total, currency=order.currency, receipt=order.number, notes={"order_id": str(order.id)}
    )
    order.gateway_order_id = gateway_order["id"]
    db.session.commit()
    return order


def _settled(order: Order) -> tuple[Order, Payment]:
    db.session.expire_all()
    return db.session.get(Order, order.id), db.session.scalars(select(Payment)).one()


def test_a_sandbox_payment_pays_the_order_through_webhooks_alone(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)
    sandbox.deliver()
    order, payment = _settled(order)
    assert order.status == "paid" and payment.status == "captured"
    types = set(db.session.scalars(select(WebhookEvent.event_type)))
    assert {"payment.authorized", "payment.captured", "order.paid"} <= types
    assert set(db.session.scalars(select(WebhookEvent.status))) == {"processed"}


def test_duplicated_deliveries_are_stored_and_applied_once(sandbox, make):
    sandbox.set_faults(duplicate_webhooks=True)
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)
    sandbox.deliver()
    sent = sandbox.deliveries()
    assert len(sent) > len({row["event_id"] for row in sent})  # the sandbox did send duplicates
    stored = db.session.scalar(select(func.count()).select_from(WebhookEvent))
    assert stored == len({row["event_id"] for row in sent})
    order, payment = _settled(order)
    assert order.status == "paid" and payment.status == "captured"


def test_newest_first_deliveries_converge_on_captured(sandbox, make):
    sandbox.set_faults(out_of_order_webhooks=True)
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)
    sandbox.deliver()
    order, payment = _settled(order)
    assert order.status == "paid" and payment.status == "captured"
    outcomes = list(
        db.session.scalars(select(WebhookEvent.outcome).where(WebhookEvent.event_type == "payment.authorized"))
    )
    assert outcomes and "stale" in outcomes[0]
