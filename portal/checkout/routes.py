"""`GET/POST /payments/razorpay/callback`: verify the returned signature, apply the payment, show the outcome.

No login (the customer arrives from the gateway) and no CSRF token (the gateway posts here); the
signature is what proves the parameters. The payment is fetched from the gateway and settled through
the same service as the API's verify-payment and the webhooks.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template, request

from portal.checkout import cart_outcome
from portal.extensions import csrf
from portal.gateway import GatewayError, get_gateway
from portal.history.services import Actor
from portal.payments.services import (
    InvalidSignature,
    PaymentNotForOrder,
    UnknownGatewayOrder,
    confirm_checkout_payment,
    confirm_payment_link_payment,
    settle_payment,
    should_auto_capture,
)

bp = Blueprint("checkout", __name__)
ACTOR = Actor.gateway("checkout callback")


def init_app(app) -> None:
    if bp.name not in app.blueprints:
        csrf.exempt(bp)
        app.register_blueprint(bp)


@bp.route("/payments/razorpay/callback", methods=["GET", "POST"])
def callback():
    """Show the customer how their payment went, after checking it with the gateway."""
    params = request.values.to_dict()
    checkout = cart_outcome.checkout_for(params)
    if checkout is not None:
        return _checkout_callback(checkout, params)
    try:
        outcome = _settle(params)
    except (InvalidSignature, PaymentNotForOrder, UnknownGatewayOrder, KeyError):
        return _page("invalid", None, 400)
    except GatewayError:
        current_app.logger.warning("checkout callback: gateway trouble", exc_info=True)
        return _page("unknown", None, 503)
    if outcome is None:
        return _page("failed", None, 200)
    return _page(_state(outcome), outcome.order, 200)


def _checkout_callback(checkout, params: dict):
    """A multi-vendor checkout's return: the success page with every order, or the failure page with a retry."""
    try:
        state, checkout = cart_outcome.settle(checkout, params, actor=ACTOR)
    except (InvalidSignature, PaymentNotForOrder, KeyError):
        return cart_outcome.page("invalid", None, 400)  # a forged return learns nothing
    except GatewayError:
        current_app.logger.warning("checkout callback: gateway trouble", exc_info=True)
        return cart_outcome.page("unknown", checkout, 503)
    return cart_outcome.page(state, checkout)


def _settle(params: dict):
    if params.get("razorpay_payment_link_id"):
        return confirm_payment_link_payment(params, actor=ACTOR)
    if params.get("razorpay_signature"):
        return confirm_checkout_payment(
            params["razorpay_order_id"], params["razorpay_payment_id"], params["razorpay_signature"], actor=ACTOR
        )
    return _settle_failure(params)


def _settle_failure(params: dict):
    """Checkout's failure redirect carries error[metadata] = {"payment_id", "order_id"}: unsigned, so the
    payment is only recorded as the gateway reports it when it belongs to that gateway order."""
    try:
        meta = json.loads(params.get("error[metadata]") or "{}")
    except ValueError:
        return None
    payment_id, order_id = meta.get("payment_id"), meta.get("order_id")
    if not payment_id or not order_id:
        return None
    entity = get_gateway().fetch_payment(payment_id)
    if entity.get("order_id") != order_id:
        return None
    return settle_payment(entity, actor=ACTOR)


def _state(outcome) -> str:
    if outcome.problems:
        return "mismatch"
    if outcome.order.status in ("cancelled", "expired") and outcome.payment.is_settled:
        return "late"
    if outcome.order_paid:
        return "paid"
    if outcome.payment.status == "failed":
        return "failed"
    if outcome.payment.status == "authorized" and not should_auto_capture(outcome.order):
        return "authorized"  # a manual-capture order: finance captures it
    return "pending"


def _page(state: str, order, status: int):
    return render_template("checkout/outcome.html", state=state, order=order), status
