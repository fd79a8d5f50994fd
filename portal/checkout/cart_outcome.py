"""The callback's page for a multi-vendor checkout (a Checkout's gateway order, not a single order's).

A signed success completes the checkout through the same service as `POST /api/v1/checkout/verify` and the
webhook (portal.cart.checkout.complete_checkout_payment: exactly once, whoever comes first). A failure
redirect is unsigned: the payment it names is fetched from the gateway and only a payment that the
gateway reports failed, for this checkout's gateway order, fails the checkout (its stock is released).
"""

from __future__ import annotations

import json

from flask import current_app, render_template, url_for
from sqlalchemy import select

from portal.cart.completion import apply_checkout_payment, complete_checkout_payment
from portal.cart.models import Checkout
from portal.cart.status import OPEN
from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor


def gateway_order_of(params: dict) -> str:
    """The gateway order id the callback is about: the signed success's, or the failure's metadata."""
    if params.get("razorpay_order_id"):
        return params["razorpay_order_id"]
    try:
        meta = json.loads(params.get("error[metadata]") or "{}")
    except ValueError:
        return ""
    return meta.get("order_id") or "" if isinstance(meta, dict) else ""


def checkout_for(params: dict) -> Checkout | None:
    """The checkout whose gateway order the callback names, or None (a single order's callback)."""
    gateway_order_id = gateway_order_of(params)
    if not gateway_order_id or params.get("razorpay_payment_link_id"):
        return None
    return db.session.scalar(select(Checkout).where(Checkout.gateway_order_id == gateway_order_id))


def settle(checkout: Checkout, params: dict, *, actor: Actor) -> tuple[str, Checkout]:
    """(state, checkout) after applying what the callback reports: a signed success through
    complete_checkout_payment, an unsigned failure only as the gateway itself reports that payment.
    Raises InvalidSignature / PaymentNotForOrder (the page says "invalid"), GatewayError ("unknown")."""
    if params.get("razorpay_signature"):
        outcome = complete_checkout_payment(
            params["razorpay_order_id"], params["razorpay_payment_id"], params["razorpay_signature"], actor=actor
        )
        return outcome.state, outcome.checkout
    payment_id = _failed_payment_id(params)
    entity = get_gateway().fetch_payment(payment_id) if payment_id else {}
    if entity.get("order_id") != checkout.gateway_order_id or entity.get("status") != "failed":
        return "failed", checkout  # nothing we can confirm: the page offers the retry, nothing is changed
    outcome = apply_checkout_payment(entity, actor=actor, reason="the customer's payment failed at the checkout")
    return outcome.state, outcome.checkout


def _failed_payment_id(params: dict) -> str:
    try:
        meta = json.loads(params.get("error[metadata]") or "{}")
    except ValueError:
        return ""
    return str(meta.get("payment_id") or "") if isinstance(meta, dict) else ""


def page(state: str, checkout: Checkout | None, status: int = 200):
    """The success page (every order with its vendor, amount and status), or the failure page with a retry
    while the checkout is open, or the refunded / expired / unverifiable states in the customer's words."""
    orders = list(checkout.orders) if checkout is not None else []
    retry = checkout is not None and checkout.status in OPEN and state == "failed"
    return (
        render_template(
            "checkout/checkout_outcome.html",
            state=state,
            checkout=checkout,
            orders=orders,
            seller_name=current_app.config.get("SELLER_NAME") or "us",
            retry_url=_endpoint("sandbox_cart.pay_checkout", checkout_id=checkout.id) if retry else None,
            store_url=_endpoint("sandbox_store.index"),
        ),
        status,
    )


def _endpoint(name: str, **values) -> str | None:
    """A storefront link when the demo storefront is there (sandbox mode); a real shop links its own."""
    return url_for(name, **values) if name in current_app.view_functions else None
