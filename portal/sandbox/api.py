"""The emulated Razorpay REST API under `/v1`. Basic auth with the configured key, Razorpay's error JSON,
and the fault knobs applied up front. `/v1/v1/…` (what an SDK given a base URL ending in /v1 asks for) is
answered as Razorpay does: 400 "The requested URL was not found on the server.", so the mistake shows."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import random
import time

from flask import Blueprint, current_app, g, jsonify, request

from portal.sandbox.errors import ApiError, auth_failed, gateway_error, no_route, rate_limited, server_error

bp = Blueprint("sandbox_api", __name__)
log = logging.getLogger("portal.sandbox.api")
ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"]
DOWN_PAGE = "<html><head><title>503 Service Temporarily Unavailable</title></head><body>503</body></html>"


def sandbox():
    return current_app.extensions["sandbox"]


@bp.before_request
def _faults_and_auth():
    faults = sandbox().faults()
    if faults["latency_ms"]:  # a real sleep: concurrent callers overlap it, as with a remote server
        time.sleep(faults["latency_ms"] / 1000)
    if faults["down"]:  # the load balancer answers, not the API: an HTML body
        return current_app.response_class(DOWN_PAGE, status=503, mimetype="text/html")
    if faults["rate_limit_per_second"] and not sandbox().admit(faults["rate_limit_per_second"]):
        raise rate_limited()  # refused before any work, like Razorpay's throttle
    if faults["error_rate"] and random.random() < faults["error_rate"]:  # noqa: S311 (fault injection, not security)
        raise server_error()
    if not _authorised():
        raise auth_failed()
    # Decided up front, answered after the work: the caller cannot know whether its call took effect.
    g.gateway_error = bool(faults["gateway_error_rate"]) and random.random() < faults["gateway_error_rate"]  # noqa: S311
    return None


@bp.after_request
def _gateway_error_after_the_work(response):
    if g.get("gateway_error"):
        err = gateway_error()
        return current_app.response_class(json.dumps(err.body()), status=err.status, mimetype="application/json")
    return response


def _authorised() -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme != "Basic":
        return False
    try:
        key_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    sb = sandbox()
    return hmac.compare_digest(key_id, sb.key_id) and hmac.compare_digest(secret, sb.key_secret)


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return jsonify(error.body()), error.status


@bp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.exception("sandbox API failed on %s %s", request.method, request.path)
    err = server_error()
    return jsonify(err.body()), err.status


def body() -> dict:
    data = request.get_json(silent=True) if request.data else {}
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.", source="NA", step="NA", reason="NA")
    return data


@bp.post("/orders")
def create_order():
    return jsonify(sandbox().create_order(body()))


@bp.get("/orders")
def list_orders():
    return jsonify(sandbox().list_orders(request.args.to_dict()))


@bp.get("/orders/<order_id>")
def fetch_order(order_id):
    return jsonify(sandbox().fetch("order", order_id))


@bp.get("/orders/<order_id>/payments")
def order_payments(order_id):
    return jsonify(sandbox().order_payments(order_id))


@bp.get("/payments/<payment_id>")
def fetch_payment(payment_id):
    return jsonify(sandbox().fetch("payment", payment_id))


@bp.post("/payments/<payment_id>/capture")
def capture_payment(payment_id):
    return jsonify(sandbox().capture(payment_id, body()))


@bp.post("/payments/<payment_id>/refund")
def refund_payment(payment_id):
    key = request.headers.get("X-Refund-Idempotency")
    return jsonify(sandbox().refund(payment_id, body(), key))


@bp.get("/payments/<payment_id>/refunds")
def payment_refunds(payment_id):
    return jsonify(sandbox().payment_refunds(payment_id))


@bp.get("/payments/<payment_id>/refunds/<refund_id>")
def payment_refund(payment_id, refund_id):
    return jsonify(sandbox().payment_refund(payment_id, refund_id))


@bp.get("/refunds/<refund_id>")
def fetch_refund(refund_id):
    return jsonify(sandbox().fetch("refund", refund_id))


@bp.post("/payment_links")
def create_payment_link():
    return jsonify(sandbox().create_payment_link(body()))


@bp.get("/payment_links")
def list_payment_links():
    return jsonify(sandbox().list_payment_links(request.args.to_dict()))


@bp.get("/payment_links/<plink_id>")
def fetch_payment_link(plink_id):
    return jsonify(sandbox().fetch_payment_link(plink_id))


@bp.post("/payment_links/<plink_id>/cancel")
def cancel_payment_link(plink_id):
    return jsonify(sandbox().cancel_payment_link(plink_id))


@bp.route("/", methods=ANY)
@bp.route("/<path:_rest>", methods=ANY)
def unknown(_rest: str = ""):
    """Razorpay answers 400, not 404, for a path or method it does not serve."""
    raise no_route()


def register(app) -> None:
    """Serve the API at /v1 on `app`."""
    app.register_blueprint(bp, url_prefix="/v1")
