"""The demo's customers and staff acting through the app's own paths, one step at a time.

Orders are placed and their gateway orders opened as the API does; customers pay at the sandbox's hosted
checkout (its JSON answer, as an app developer scripts it) and their app verifies the payment; finance
refunds through the refund service and captures manual orders; the `orders expire` job expires the unpaid.
Each step ends with the sandbox's webhooks delivered to the portal and processed, so gateway and books agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import select

from portal.extensions import db
from portal.history.services import Actor
from portal.invoices.models import Invoice
from portal.invoices.services import issue_invoice
from portal.orders.checkout import cancel_unpaid_order, expire_overdue_orders, open_gateway_order
from portal.orders.models import Order
from portal.orders.services import place_order
from portal.payments.models import Payment
from portal.payments.services import capture_payment, confirm_checkout_payment
from portal.payments.status import PaymentStatus
from portal.refunds.services import create_refund


class Shop:
    """Steps of the demo's stories; every one leaves the sandbox's webhooks delivered and processed."""

    def __init__(self, app: Flask, finance):
        self.app, self.finance = app, Actor.user(finance)
        self.browser = app.test_client()
        self.webhooks = app.extensions["sandbox"].webhooks

    def deliver(self) -> None:
        """Deliver what the sandbox sent meanwhile (deferred while a gateway call was in flight)."""
        self.webhooks.deliver_due()

    def place(self, customer, items: list[dict], capture_mode: str) -> int:
        order = place_order(customer, items, capture_mode=capture_mode)
        return open_gateway_order(order.id).id

    def pay(self, order_id: int, outcome: str, method: str) -> None:
        """The customer at the hosted checkout; on success their app calls verify-payment."""
        order = db.session.get(Order, order_id)
        answer = self.browser.post(
            f"/sandbox/checkout/{order.gateway_order_id}",
            data={"outcome": outcome, "method": method},
            headers={"Accept": "application/json"},
        ).get_json()
        self.deliver()
        if "razorpay_signature" in answer:
            confirm_checkout_payment(
                answer["razorpay_order_id"],
                answer["razorpay_payment_id"],
                answer["razorpay_signature"],
                actor=Actor.user(order.customer),
            )
            self.deliver()
        self.invoice(order_id)

    def invoice(self, order_id: int) -> None:
        """The paid order's invoice (AUTO_INVOICE issues it on payment; finance does when it is off)."""
        order = db.session.get(Order, order_id)
        if order.status == "paid" and db.session.scalar(select(Invoice.id).where(Invoice.order_id == order_id)) is None:
            issue_invoice(order_id, actor=self.finance, reason="issued by finance")

    def cancel(self, order_id: int) -> None:
        order = db.session.get(Order, order_id)
        cancel_unpaid_order(order_id, actor=Actor.user(order.customer), reason="changed my mind")
        self.deliver()

    def capture(self, order_id: int) -> None:
        """Finance's Capture action on a manual order's authorized payment."""
        capture_payment(self._payment(order_id, PaymentStatus.AUTHORIZED), actor=self.finance)
        self.deliver()
        self.invoice(order_id)

    def refund(self, order_id: int, amount: int | None, reason: str, notes: str = "") -> None:
        payment_id = self._payment(order_id, PaymentStatus.CAPTURED)
        create_refund(payment_id, amount=amount, reason=reason, notes=notes, actor=self.finance)
        self.deliver()

    def expire_overdue(self) -> None:
        """The scheduled `flask orders expire` run."""
        expire_overdue_orders()
        self.deliver()

    def _payment(self, order_id: int, status: str) -> int:
        query = select(Payment.id).where(Payment.order_id == order_id, Payment.status == status)
        return db.session.scalar(query.order_by(Payment.id.desc()))


@contextmanager
def webhooks_in_this_thread(app: Flask) -> Iterator[None]:
    """While seeding: the sandbox delivers each webhook as it is sent and the portal processes it before
    answering, from this thread (the in-process transport carries the seed's clock along), instead of by the
    background delivery and processing workers, which would stamp them with the real time."""
    dispatcher = app.extensions["sandbox"].webhooks
    saved = dispatcher.sync, app.config["WEBHOOK_PROCESSING"], app.extensions.pop("webhook_worker", None)
    dispatcher.sync, app.config["WEBHOOK_PROCESSING"] = True, "inline"
    try:
        yield
    finally:
        dispatcher.sync, app.config["WEBHOOK_PROCESSING"] = saved[0], saved[1]
        if saved[2] is not None:
            app.extensions["webhook_worker"] = saved[2]
