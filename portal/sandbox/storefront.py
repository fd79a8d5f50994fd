"""The demo storefront at /sandbox/store: a stand-in for a customer's app. It signs in as the demo customer,
lists courses, places an order and opens the hosted checkout (and, in portal.sandbox.store_cart, fills a
multi-vendor cart and checks it out) — all through the public customer API over
HTTP (in-process), exactly as a merchant's own app would. Portal-only; its forms carry the CSRF token."""

from __future__ import annotations

import secrets

import requests
from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.sandbox.store_api import StoreError, call
from portal.sandbox.store_cart import cart_context

bp = Blueprint("sandbox_store", __name__, url_prefix="/sandbox/store")


@bp.get("/")
def index():
    try:
        courses = call("GET", "/orders/available-courses")["data"]
        orders = call("GET", "/orders/my-orders", params={"per_page": 10})["data"]
    except (StoreError, requests.RequestException) as exc:
        return render_template("sandbox/store.html", problem=str(exc), courses=[], orders=[], catalog=[])
    return render_template(
        "sandbox/store.html",
        problem=None,
        courses=courses,
        orders=orders,
        idempotency_key=secrets.token_hex(12),
        **cart_context(),
    )


@bp.post("/buy")
def buy():
    """Place an order for one unit and go to its hosted checkout."""
    product_id = request.form.get("product_id", type=int)
    key = request.form.get("idempotency_key") or secrets.token_hex(12)
    try:
        data = call(
            "POST",
            "/orders",
            json={"items": [{"product_id": product_id, "quantity": 1}]},
            headers_extra={"Idempotency-Key": key},
        )["data"]
    except (StoreError, requests.RequestException) as exc:
        flash(f"Could not place the order: {exc}", "error")
        return redirect(url_for(".index"))
    checkout = data.get("checkout") or {}
    if not checkout.get("checkout_url"):
        flash(data.get("message") or "The order cannot be paid now.", "error")
        return redirect(url_for(".index"))
    return redirect(checkout["checkout_url"])
