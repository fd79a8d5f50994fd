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
from portal.gateway import GatewayRejected, get_gateway
from portal.history.services import Actor


def _error_metadata(params: dict) -> dict:
    """A failure redirect's `error[metadata]` ({"payment_id", "order_id"}); {} when absent or unreadable."""
    try:
        meta = json.loads(params.get("error[metadata]") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def gateway_order_of(params: dict) -> str:
    """The gateway order id the callback is about: the signed success's, or the failure's metadata."""
    return str(params.get("razorpay_order_id") or _error_metadata(params).get("order_id") or "")


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
    entity = _reported_payment(str(_error_metadata(params).get("payment_id") or ""))
    if entity.get("order_id") != checkout.gateway_order_id or entity.get("status") != "failed":
        return state_of(checkout), checkout  # nothing confirmed: nothing changes, the page says where it stands
    outcome = apply_checkout_payment(entity, actor=actor, reason="the customer's payment failed at the checkout")
    return outcome.state, outcome.checkout


def _reported_payment(payment_id: str) -> dict:
    """The gateway's own record of the payment a failure redirect names; {} for none or an unknown id."""
    if not payment_id:
        return {}
    try:
        return get_gateway().fetch_payment(payment_id)
    except GatewayRejected:  # no such payment: the redirect was not the gateway's
        return {}


def state_of(checkout: Checkout) -> str:
    """The page for a checkout as it stands (an unconfirmed failure redirect changes nothing)."""
    return {"paid": "paid", "refunded": "refunded", "expired": "expired", "cancelled": "cancelled"}.get(
        str(checkout.status), "failed"
    )


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
