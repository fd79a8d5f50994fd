"""`/api/v1/orders...`: the customer's catalogue, orders, checkout and payment verification.

Views are thin: validated input (spectree + pydantic) → one service call → a response schema.
Domain exceptions become the one error shape in portal/api/errors.py.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response, current_app

from portal.api import queries, serializers
from portal.api.auth import current_customer, current_customer_id, rate_limit_key, require_customer
from portal.api.errors import ApiError
from portal.api.openapi import responses, spec
from portal.api.schemas import (
    CatalogueResponse,
    CheckoutResponse,
    CreateOrderRequest,
    IdempotencyHeaders,
    OrderListResponse,
    OrderResponse,
    PageQuery,
    PaymentLinkResponse,
    StatisticsResponse,
    VerifyPaymentRequest,
    VerifyPaymentResponse,
)
from portal.extensions import limiter
from portal.gateway import GatewayError, get_gateway
from portal.history.services import Actor
from portal.invoices.services import invoice_pdf_for_order
from portal.orders.checkout import (
    cancel_unpaid_order,
    ensure_payment_link,
    open_gateway_order,
    place_order_once,
    request_fingerprint,
)
from portal.payments.services import InvalidSignature, PaymentNotForOrder, confirm_checkout_payment
from portal.payments.status import PaymentStatus

bp = Blueprint("api", __name__, url_prefix="/api/v1")
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)
PUBLIC_ENDPOINTS = {"api.openapi"}

READY = "Order placed. Open the checkout with these parameters, then send its result to /api/v1/orders/verify-payment."
NOT_STARTED = (
    "Your order is saved, but payment could not be started because the payment gateway is not reachable. "
    "Nothing was charged. Try again in a moment with POST /api/v1/orders/{id}/pay."
)


@bp.before_request
def _authenticate():
    from flask import request

    if request.endpoint not in PUBLIC_ENDPOINTS:
        require_customer()


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API, generated from the schemas that validate it."""
    return current_app.json.response(spec.spec)


@bp.get("/orders/available-courses")
@spec.validate(resp=responses(200, CatalogueResponse), tags=["catalogue"])
def available_courses():
    """Purchasable catalogue items (active and in stock), priced in minor units."""
    return CatalogueResponse(data=[serializers.product(p) for p in queries.available_products()])


def _checkout_body(order) -> CheckoutResponse:
    """The order and, when the gateway order exists (created here on first need), its checkout."""
    order_id, message = order.id, READY  # the id read once: after each commit `order` would re-read its row
    if order.is_payable:
        try:
            open_gateway_order(order_id)
        except GatewayError:
            message = NOT_STARTED.format(id=order_id)
    else:
        message = f"This order is {order.status}; it cannot be paid."
    order = queries.customer_order(current_customer_id(), order_id)
    checkout = serializers.checkout(order, get_gateway())
    data = {"order": serializers.order(order), "checkout": checkout, "payment_ready": checkout is not None}
    return CheckoutResponse(data={**data, "message": message})


@bp.post("/orders")
@spec.validate(
    json=CreateOrderRequest,
    headers=IdempotencyHeaders,
    resp=responses(201, CheckoutResponse, 409, 415),
    tags=["orders"],
)
def create_order(json: CreateOrderRequest, headers: IdempotencyHeaders):
    """Place an order priced from the catalogue (with tax) and open its Razorpay order.

    Send an `Idempotency-Key` header to retry safely: the same key and body answer as the first time
    did; the same key with another body answers 409. If the gateway is down the order is still kept
    (`payment_ready: false`); start its payment later with POST /api/v1/orders/{id}/pay.
    """
    body = json.model_dump()
    order, replayed = place_order_once(
        current_customer(),
        body["items"],
        idempotency_key=headers.idempotency_key,
        request_hash=request_fingerprint(body),
    )
    extra = {"Idempotent-Replayed": "true"} if replayed else {}
    return _checkout_body(order), 201, extra


@bp.post("/orders/<int(max=2147483647):order_id>/pay")
@spec.validate(resp=responses(200, CheckoutResponse, 409, 415, 502, 503), tags=["orders"])
def pay_order(order_id: int):
    """(Re)start payment of an unpaid order: opens its Razorpay order if it has none yet."""
    order = open_gateway_order(queries.require_own_order(current_customer_id(), order_id))
    return _checkout_body(order)


@bp.get("/orders/my-orders")
@spec.validate(query=PageQuery, resp=responses(200, OrderListResponse), tags=["orders"])
def my_orders(query: PageQuery):
    """The caller's orders, newest first, `per_page` at most 100."""
    rows, total = queries.customer_orders(current_customer_id(), query.page, query.per_page)
    meta = {"page": query.page, "per_page": query.per_page, "total": total, "pages": math.ceil(total / query.per_page)}
    return OrderListResponse(data=[serializers.listed_order(o) for o in rows], meta=meta)


@bp.get("/orders/statistics")
@spec.validate(resp=responses(200, StatisticsResponse), tags=["orders"])
def statistics():
    """The caller's order counts and totals by status and currency, and what was spent."""
    return StatisticsResponse(data=queries.customer_statistics(current_customer_id()))


@bp.get("/orders/<int(max=2147483647):order_id>")
@spec.validate(resp=responses(200, OrderResponse), tags=["orders"])
def order_detail(order_id: int):
    """One of the caller's orders with its items, payments, refunds and invoice link."""
    return OrderResponse(data=serializers.order(queries.customer_order(current_customer_id(), order_id)))


@bp.patch("/orders/<int(max=2147483647):order_id>/cancel")
@spec.validate(resp=responses(200, OrderResponse, 409, 415), tags=["orders"])
def cancel(order_id: int):
    """Cancel the caller's unpaid order (409 once paid, cancelled or expired); its payment link is cancelled."""
    queries.require_own_order(current_customer_id(), order_id)
    cancel_unpaid_order(order_id, actor=Actor.user(current_customer()), reason="cancelled by the customer")
    return OrderResponse(data=serializers.order(queries.customer_order(current_customer_id(), order_id)))


@bp.get("/orders/<int(max=2147483647):order_id>/payment-link")
@spec.validate(resp=responses(200, PaymentLinkResponse, 409, 502, 503), tags=["orders"])
def payment_link(order_id: int):
    """A Razorpay payment link for the caller's unpaid order (created once, then reused)."""
    queries.require_own_order(current_customer_id(), order_id)
    order = ensure_payment_link(order_id, callback_url=serializers.callback_url())
    return PaymentLinkResponse(data=serializers.payment_link(order))


@bp.post("/orders/verify-payment")
@spec.validate(
    json=VerifyPaymentRequest, resp=responses(200, VerifyPaymentResponse, 409, 415, 502, 503), tags=["orders"]
)
def verify_payment(json: VerifyPaymentRequest):
    """Verify a checkout result, record the payment once, capture it and mark the order paid.

    The signature is checked in constant time and the payment is fetched from Razorpay: amount,
    currency and state come from the gateway, never from the client. Calling it again is harmless.
    """
    customer = current_customer()
    order = queries.customer_order_by_gateway_id(customer.id, json.razorpay_order_id)
    try:
        outcome = confirm_checkout_payment(
            order.gateway_order_id, json.razorpay_payment_id, json.razorpay_signature, actor=Actor.user(customer)
        )
    except InvalidSignature:
        raise ApiError(
            400, "invalid_signature", "The payment signature does not match; nothing was recorded."
        ) from None
    except PaymentNotForOrder:
        raise ApiError(422, "payment_not_for_order", "That payment does not belong to this order.") from None
    _refuse_unsettled(outcome)
    fresh = queries.customer_order(customer.id, order.id)
    return VerifyPaymentResponse(
        data={"order": serializers.order(fresh), "payment": serializers.payment(outcome.payment)}
    )


def _refuse_unsettled(outcome) -> None:
    """Anything but a paid order is an error answer (the payment itself is recorded either way)."""
    payment, order = outcome.payment, outcome.order
    details = {"payment_status": str(payment.status), "order_status": str(order.status)}
    if outcome.problems:
        details["problems"] = outcome.problems
        raise ApiError(422, "payment_mismatch", "The payment does not match the order; it was not accepted.", details)
    if payment.status == PaymentStatus.FAILED:
        message = payment.error_description or "The payment failed."
        raise ApiError(422, "payment_failed", message, details)
    if order.status in ("cancelled", "expired") and payment.is_settled:
        message = f"The payment arrived after the order was {order.status}; it is refunded in full."
        raise ApiError(409, "order_not_payable", message, details)
    if not outcome.order_paid:
        raise ApiError(409, "payment_incomplete", "The payment is not complete yet.", details)


@bp.get("/orders/<int(max=2147483647):order_id>/invoice")
@spec.validate(resp=responses(200, None), tags=["orders"])
def order_invoice(order_id: int):
    """The invoice PDF of the caller's order (404 until an invoice has been issued)."""
    found = invoice_pdf_for_order(queries.require_own_order(current_customer_id(), order_id))
    if found is None:
        raise ApiError(404, "invoice_not_found", "No invoice has been issued for this order yet.")
    filename, data = found
    # A plain response, not send_file: spectree reads the body to validate it, which a file stream forbids.
    disposition = f'attachment; filename="{filename}"'
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": disposition})
