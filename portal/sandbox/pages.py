"""Browser pages of the sandbox: hosted checkout, payment-link page, and the sandbox's own dashboard.

CSRF: these pages stand in for Razorpay's own domain. They act on no portal session or user, only on a
sandbox order or link named by its unguessable id, and app developers script them with
`Accept: application/json` as they would script a test payment; so the blueprint is CSRF-exempt, like
the checkout form on Razorpay's domain is to the merchant's site.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for

from portal.sandbox.entities import METHODS
from portal.sandbox.errors import ApiError

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")
CALLBACK_PATH = "/payments/razorpay/callback"


def sandbox():
    return current_app.extensions["sandbox"]


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/")
def home():
    sb = sandbox()
    return render_template(
        "sandbox/home.html",
        orders=sb.store.latest("order", 20),
        payments=sb.store.latest("payment", 20),
        refunds=sb.store.latest("refund", 20),
        links=sb.store.latest("payment_link", 20),
        deliveries=sb.webhooks.log(30),
        faults=sb.faults(),
        store_url=url_for("sandbox_store.index") if "sandbox_store" in current_app.blueprints else None,
    )


def prefill(source) -> dict:
    """The customer's details as Razorpay's hosted checkout takes them: `prefill[email]`, `prefill[contact]`,
    `prefill[name]` (the merchant's prefill, in the URL or the form), or `email`/`contact`/`name` (what the
    customer typed in the form, which wins)."""
    return {
        key: (source.get(key) or source.get(f"prefill[{key}]") or "").strip() for key in ("name", "email", "contact")
    }


@bp.get("/checkout/<order_id>")
def checkout(order_id):
    order = _or_404(lambda: sandbox().fetch("order", order_id))
    return render_template(
        "sandbox/checkout.html",
        order=order,
        methods=METHODS,
        merchant=sandbox().merchant,
        prefill=prefill(request.args),
    )


@bp.post("/checkout/<order_id>")
def pay(order_id):
    sb = sandbox()
    outcome, method = request.form.get("outcome", ""), request.form.get("method", "upi")
    customer = prefill(request.form)
    try:
        payment = sb.checkout(order_id, outcome, method, email=customer["email"], contact=customer["contact"])
    except ApiError as error:
        return _refused(error)
    if payment["status"] == "failed":
        return _failed(payment)
    params = {
        "razorpay_order_id": order_id,
        "razorpay_payment_id": payment["id"],
        "razorpay_signature": sb.sign_payment(order_id, payment["id"]),
    }
    if wants_json():
        return jsonify(params)
    return redirect(f"{sb.public_base_url}{CALLBACK_PATH}?{urlencode(params)}")


@bp.get("/pay/<plink_id>")
def payment_link(plink_id):
    link = _or_404(lambda: sandbox().fetch_payment_link(plink_id))
    return render_template("sandbox/payment_link.html", link=link, methods=METHODS, merchant=sandbox().merchant)


@bp.post("/pay/<plink_id>")
def pay_link(plink_id):
    sb = sandbox()
    try:
        payment, link = sb.pay_payment_link(
            plink_id, request.form.get("outcome", ""), request.form.get("method", "upi")
        )
    except ApiError as error:
        return _refused(error)
    if payment["status"] == "failed":
        return _failed(payment)
    params = {
        "razorpay_payment_id": payment["id"],
        "razorpay_payment_link_id": link["id"],
        "razorpay_payment_link_reference_id": link["reference_id"],
        "razorpay_payment_link_status": link["status"],
        "razorpay_signature": sb.sign_payment_link(link, payment["id"]),
    }
    if wants_json():
        return jsonify(params)
    return redirect(f"{link['callback_url'] or sb.public_base_url + CALLBACK_PATH}?{urlencode(params)}")


def _failed(payment: dict):
    """What Razorpay Checkout hands back on a failed payment: its error object, with the ids in metadata."""
    error = {
        "code": payment["error_code"],
        "description": payment["error_description"],
        "source": payment["error_source"],
        "step": payment["error_step"],
        "reason": payment["error_reason"],
        "metadata": {"payment_id": payment["id"], "order_id": payment["order_id"]},
    }
    if wants_json():
        return jsonify({"error": error}), 400
    params = {f"error[{k}]": (json.dumps(v) if isinstance(v, dict) else v) for k, v in error.items()}
    return redirect(f"{sandbox().public_base_url}{CALLBACK_PATH}?{urlencode(params)}")


def _refused(error: ApiError):
    if wants_json():
        return jsonify(error.body()), error.status
    return render_template("sandbox/refused.html", message=error.description), error.status


def _or_404(fetch):
    try:
        return fetch()
    except ApiError:
        abort(404)


@bp.app_template_filter("sandbox_money")
def money(amount: int, currency: str = "INR") -> str:
    symbol = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}.get(currency, currency + " ")
    return f"{symbol}{amount / 100:,.2f}"


@bp.app_template_filter("sandbox_time")
def when(timestamp) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(float(timestamp), UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if timestamp else ""
