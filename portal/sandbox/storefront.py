"""The demo storefront at /sandbox/store: a stand-in for a customer's app. It signs in as the demo customer,
lists courses, places an order and opens the hosted checkout (and, in portal.sandbox.store_cart, fills a
multi-vendor cart and checks it out) — all through the public customer API over
HTTP (in-process), exactly as a merchant's own app would. Portal-only; its forms carry the CSRF token."""

from __future__ import annotations

import secrets

import requests
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from portal.gateway.transport import TimeoutSession, WSGITransport

bp = Blueprint("sandbox_store", __name__, url_prefix="/sandbox/store")
TOKEN_KEY = "sandbox_store_token"  # noqa: S105 (a session key name, not a secret)


class StoreError(Exception):
    pass


def api() -> tuple[requests.Session, str]:
    app = current_app._get_current_object()
    base = app.config["PUBLIC_BASE_URL"]
    http = TimeoutSession(10)
    http.mount(base, WSGITransport(lambda: app))
    return http, base + "/api/v1"


def call(method: str, path: str, headers_extra: dict | None = None, **kwargs) -> dict:
    """Call the customer API as the demo customer; signs in once per browser session."""
    http, base = api()
    token = session.get(TOKEN_KEY) or _sign_in(http, base)
    headers = {"Authorization": f"Bearer {token}", **(headers_extra or {})}
    response = http.request(method, base + path, headers=headers, **kwargs)
    if response.status_code == 401:
        session.pop(TOKEN_KEY, None)
    if response.status_code >= 400:
        error = response.json().get("error", {}) if response.content else {}
        raise StoreError(error.get("message") or f"the API answered {response.status_code}")
    return response.json()


def _sign_in(http: requests.Session, base: str) -> str:
    from portal.demo.seed import DEMO_CUSTOMER, DEMO_PASSWORD

    response = http.post(f"{base}/auth/token", json={"email": DEMO_CUSTOMER, "password": DEMO_PASSWORD})
    if response.status_code != 200:
        raise StoreError(f"cannot sign in as {DEMO_CUSTOMER}: run `flask demo seed` first")
    session[TOKEN_KEY] = response.json()["data"]["token"]
    return session[TOKEN_KEY]


@bp.get("/")
def index():
    try:
        courses = call("GET", "/orders/available-courses")["data"]
        orders = call("GET", "/orders/my-orders", params={"per_page": 10})["data"]
    except (StoreError, requests.RequestException) as exc:
        return render_template("sandbox/store.html", problem=str(exc), courses=[], orders=[], catalog=[])
    from portal.sandbox.store_cart import cart_context

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
