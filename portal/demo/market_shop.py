"""The marketplace demo's steps through the app's own paths: the cart service, the checkout service (stock
reserved, one gateway order), the sandbox's hosted checkout (its JSON answer, as an app scripts it), the
verify service, the vendor's accept and the fulfilment moves, the release schedule. Each step ends with the
sandbox's webhooks delivered and processed (portal.demo.shop.Shop.deliver)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from flask import Flask

from portal.cart import services as cart
from portal.cart.checkout import start_checkout
from portal.cart.completion import complete_checkout_payment
from portal.cart.expiry import release_expired
from portal.cart.models import Checkout
from portal.demo.shop import Shop
from portal.extensions import db
from portal.history.services import Actor
from portal.orders import fulfilment
from portal.orders.models import Order

CARRIER = "Delhivery"


class MarketShop(Shop):
    """Shop's steps, plus the cart, the checkout and the vendor's side of an order."""

    def __init__(self, app: Flask, finance, vendor_user):
        super().__init__(app, finance)
        self.vendor_user = vendor_user
        self.ttl = timedelta(minutes=app.config["RESERVATION_TTL_MINUTES"])

    def add_to_cart(self, customer, product_id: int, quantity: int = 1, rental: tuple[date, date] | None = None):
        start, end = rental or (None, None)
        cart.add_line(customer, product_id, quantity, rental_start=start, rental_end=end)

    def open_checkout(self, customer) -> int:
        """Check the customer's cart out (as POST /api/v1/checkout does): reservations and a gateway order."""
        checkout, _ = start_checkout(customer, idempotency_key=secrets.token_hex(8))
        self.deliver()
        return checkout.id

    def pay_checkout(self, checkout_id: int, *, first_attempt_fails: bool = False) -> dict[str, int]:
        """Pay at the hosted checkout (a declined card first, if asked) and verify: {vendor name: order id}."""
        checkout = db.session.get(Checkout, checkout_id)
        customer = Actor.user(checkout.customer)
        if first_attempt_fails:
            self._hosted(checkout.gateway_order_id, "failure", "card")
        answer = self._hosted(checkout.gateway_order_id, "success", "upi")
        complete_checkout_payment(
            answer["razorpay_order_id"], answer["razorpay_payment_id"], answer["razorpay_signature"], actor=customer
        )
        self.deliver()
        db.session.expire_all()
        checkout = db.session.get(Checkout, checkout_id)
        return {(o.vendor.name if o.vendor else ""): o.id for o in checkout.orders}

    def _hosted(self, gateway_order_id: str, outcome: str, method: str) -> dict:
        answer = self.browser.post(
            f"/sandbox/checkout/{gateway_order_id}",
            data={"outcome": outcome, "method": method},
            headers={"Accept": "application/json"},
        ).get_json()
        self.deliver()
        return answer

    def _staff_of(self, order_id: int) -> Actor:
        """The vendor's own staff user for its orders; the house's staff for a vendor without one."""
        order = db.session.get(Order, order_id)
        return Actor.user(self.vendor_user) if order.vendor_id == self.vendor_user.vendor_id else self.finance

    def accept(self, order_id: int) -> None:
        """The vendor's staff accept an order waiting for them."""
        fulfilment.accept_order(order_id, actor=self._staff_of(order_id))
        self.deliver()

    def advance(self, order_id: int, target: str, tracking: str | None = None) -> None:
        """One fulfilment step; `shipped` with the carrier and its tracking number."""
        carrier = CARRIER if tracking else None
        actor = self._staff_of(order_id)
        fulfilment.advance(order_id, target, actor=actor, carrier=carrier, tracking_number=tracking)
        self.deliver()

    def release_expired(self) -> None:
        """The every-minute release schedule: lapsed reservations released, their checkouts expired."""
        release_expired()
        self.deliver()
