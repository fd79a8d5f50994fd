"""The customer's cart and checkout API: /api/v1/cart…, /api/v1/checkout…, /api/v1/checkouts/<id>.

Views are thin: validated input → one service call → a serialised response. Cart and checkout errors carry
their own status and code (portal/cart/errors.py); the rest is the API's one error shape (portal/api/errors.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import select

from portal.api.auth import current_customer, current_customer_id, rate_limit_key, require_customer
from portal.api.errors import ApiError
from portal.api.openapi import responses, spec
from portal.api.schemas import IdempotencyHeaders
from portal.cart import serializers
from portal.cart.checkout import customer_checkout, start_checkout
from portal.cart.completion import cancel_checkout, checkout_by_gateway_order, complete_checkout_payment
from portal.cart.errors import CartError, CheckoutNotFound, InvalidDiscount, LineNotFound
from portal.cart.schemas import (
    AddItemRequest,
    CartResponse,
    CheckoutDetailResponse,
    DiscountRequest,
    StartCheckoutRequest,
    StartedCheckoutResponse,
    UpdateItemRequest,
    VerifiedCheckoutResponse,
    VerifyCheckoutRequest,
)
from portal.cart.services import add_line, cart_view, clear_discount, set_quantity
from portal.errors import error_body
from portal.extensions import db, limiter
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.inputs import db_int
from portal.orders.checkout import request_fingerprint
from portal.payments.services import InvalidSignature, PaymentNotForOrder
from portal.vendors.models import Vendor

bp = Blueprint("api_cart", __name__, url_prefix="/api/v1")
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)
bp.before_request(require_customer)
# A line's PATCH and DELETE share one path: with an `int` converter, an id past the database's range would
# make werkzeug answer 405 (the other rule's methods) instead of 404. The id is read as text and parsed here
# (portal.inputs.db_int): anything that is not one of our ids is an unknown line, 404.
LINE_ID = "<line_id>"
CHECKOUT_ID = "<int:checkout_id>"


def _line_id(text: str) -> int:
    line_id = db_int(text)
    if line_id is None:
        raise LineNotFound("No such line in your cart.")
    return line_id


@bp.errorhandler(CartError)
def _cart_error(error: CartError):
    return error_body(error.code, error.message, error.status, error.details)


def _cart() -> CartResponse:
    return CartResponse(data=serializers.cart(cart_view(current_customer())))


@bp.get("/cart")
@spec.validate(resp=responses(200, CartResponse), tags=["cart"])
def read_cart():
    """The caller's cart priced from today's catalogue, grouped by vendor, with what would stop a checkout."""
    return _cart()


@bp.post("/cart/items")
@spec.validate(json=AddItemRequest, resp=responses(201, CartResponse, 415), tags=["cart"])
def add_item(json: AddItemRequest):
    """Add a product (options as codes; a rental with `rental_start`/`rental_end`, ISO dates, inclusive).
    A line with the same product, options and dates grows instead."""
    add_line(
        current_customer(),
        json.product_id,
        json.quantity,
        options=json.options,
        rental_start=json.rental_start,
        rental_end=json.rental_end,
    )
    return _cart(), 201


@bp.patch(f"/cart/items/{LINE_ID}")
@spec.validate(json=UpdateItemRequest, resp=responses(200, CartResponse, 415), tags=["cart"])
def update_item(line_id: str, json: UpdateItemRequest):
    """Change a line's quantity (0 removes it). Another customer's line answers 404."""
    set_quantity(current_customer(), _line_id(line_id), json.quantity)
    return _cart()


@bp.delete(f"/cart/items/{LINE_ID}")
@spec.validate(resp=responses(200, CartResponse), tags=["cart"])
def delete_item(line_id: str):
    """Remove a line from the cart."""
    set_quantity(current_customer(), _line_id(line_id), 0)
    return _cart()


@bp.post("/cart/discount")
@spec.validate(json=DiscountRequest, resp=responses(200, CartResponse, 415), tags=["cart"])
def apply_discount(json: DiscountRequest):
    """Apply a discount code. Until the pricing engine (issue 14) exists every code answers 422 invalid_discount."""
    raise InvalidDiscount("That discount code is not valid.", {"code": json.code})


@bp.delete("/cart/discount")
@spec.validate(resp=responses(200, CartResponse), tags=["cart"])
def remove_discount():
    """Remove the cart's discount code (harmless when there is none)."""
    clear_discount(current_customer())
    return _cart()


def _vendors_of(checkout) -> dict[int, Vendor]:
    ids = {line.get("vendor_id") for line in checkout.lines if line.get("vendor_id")}
    return {v.id: v for v in db.session.scalars(select(Vendor).where(Vendor.id.in_(ids or [0])))}


@bp.post("/checkout")
@spec.validate(
    json=StartCheckoutRequest,
    headers=IdempotencyHeaders,
    resp=responses(201, StartedCheckoutResponse, 409, 415, 502, 503),
    tags=["checkout"],
)
def start(json: StartCheckoutRequest, headers: IdempotencyHeaders):
    """Reserve the cart for RESERVATION_TTL_MINUTES and open ONE Razorpay order for the whole amount.

    422 `cart_not_ready` with the problems, 409 `out_of_stock` with the short lines, 422
    `unsupported_payment_method` for anything but razorpay (for now). `Idempotency-Key` as POST /orders.
    """
    body = json.model_dump()
    checkout, replayed = start_checkout(
        current_customer(),
        payment_method=json.payment_method,
        idempotency_key=headers.idempotency_key,
        request_hash=request_fingerprint(body),
    )
    data = serializers.started(checkout, _vendors_of(checkout), get_gateway().key_id)
    return StartedCheckoutResponse(data=data), 201, {"Idempotent-Replayed": "true"} if replayed else {}


def _detail(checkout) -> dict:
    return serializers.checkout_detail(checkout, _vendors_of(checkout))


OUTCOME_ERRORS = {
    "refunded": (409, "checkout_refunded"),
    "expired": (409, "checkout_expired"),
    "failed": (422, "payment_failed"),
    "pending": (409, "payment_incomplete"),
    "invalid": (422, "payment_mismatch"),
}


@bp.post("/checkout/verify")
@spec.validate(
    json=VerifyCheckoutRequest, resp=responses(200, VerifiedCheckoutResponse, 409, 415, 502, 503), tags=["checkout"]
)
def verify(json: VerifyCheckoutRequest):
    """Verify the Razorpay result of a checkout: one paid order per vendor, stock committed, an invoice per
    order, the cart emptied. Idempotent. Money that can no longer become orders is refunded in full
    (409 `checkout_expired` / `checkout_refunded`); a tampered signature is 400 and records nothing."""
    checkout = checkout_by_gateway_order(json.razorpay_order_id)
    if checkout is None or checkout.customer_id != current_customer_id():
        raise CheckoutNotFound("No such checkout.")
    try:
        outcome = complete_checkout_payment(
            json.razorpay_order_id,
            json.razorpay_payment_id,
            json.razorpay_signature,
            actor=Actor.user(current_customer()),
        )
    except InvalidSignature:
        raise ApiError(
            400, "invalid_signature", "The payment signature does not match; nothing was recorded."
        ) from None
    except PaymentNotForOrder:
        raise ApiError(422, "payment_not_for_checkout", "That payment does not belong to this checkout.") from None
    db.session.expire_all()
    checkout = customer_checkout(current_customer_id(), outcome.checkout.id)
    if outcome.state != "paid":
        status, code = OUTCOME_ERRORS[outcome.state]
        message = outcome.message or checkout.failure_reason or "The payment did not complete the checkout."
        raise ApiError(status, code, message, {"checkout_id": checkout.id, "checkout_status": str(checkout.status)})
    orders = [serializers.checkout_order(o) for o in checkout.orders]
    data = {"checkout": _detail(checkout), "orders": orders, "total_amount": sum(o["amount"] for o in orders)}
    return VerifiedCheckoutResponse(data=data)


@bp.get(f"/checkouts/{CHECKOUT_ID}")
@spec.validate(resp=responses(200, CheckoutDetailResponse), tags=["checkout"])
def checkout_detail(checkout_id: int):
    """The caller's checkout with its status and orders (another customer's answers 404)."""
    return CheckoutDetailResponse(data=_detail(customer_checkout(current_customer_id(), checkout_id)))


@bp.patch(f"/checkouts/{CHECKOUT_ID}/cancel")
@spec.validate(resp=responses(200, CheckoutDetailResponse, 409), tags=["checkout"])
def cancel(checkout_id: int):
    """Cancel the caller's unpaid checkout: its reservations are released (409 once paid)."""
    customer_checkout(current_customer_id(), checkout_id)
    cancel_checkout(checkout_id, actor=Actor.user(current_customer()))
    db.session.expire_all()
    return CheckoutDetailResponse(data=_detail(customer_checkout(current_customer_id(), checkout_id)))


def init_app(app) -> None:
    """Register the blueprint once (CSRF-exempt: bearer tokens), with the API's error shape and JSON guard."""
    from portal.api import errors, refuse_non_json_body
    from portal.extensions import csrf

    if not getattr(bp, "_api_errors", False):
        errors.register(bp)
        bp.before_request(refuse_non_json_body)
        bp._api_errors = True
    if bp.name not in app.blueprints:
        csrf.exempt(bp)
        app.register_blueprint(bp)
