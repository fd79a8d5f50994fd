"""The demo storefront's cart (/sandbox/store/cart…): products of several vendors into one cart, one
checkout, one payment on the sandbox's hosted page — all through the customer API, as a merchant's app
would call it (portal.sandbox.store_api.call). The prices shown come from the API; none is sent back."""

from __future__ import annotations

import secrets

import requests
from flask import Blueprint, flash, redirect, request, url_for

from portal.sandbox.store_api import StoreError, call

bp = Blueprint("sandbox_cart", __name__, url_prefix="/sandbox/store")
OPEN = ("pending", "failed")  # a checkout that a payment may still complete (portal.cart.status.OPEN)


def cart_context() -> dict:
    """The catalogue by vendor and the priced cart for the store page; `cart_problem` when the API cannot
    give them (before `flask demo seed`, or on an API error), so the page still renders."""
    problems, catalog, cart = [], [], None
    try:
        catalog = call("GET", "/catalog", params={"per_page": 100})["data"]
    except (StoreError, requests.RequestException) as exc:
        problems.append(f"The catalogue is not available: {exc}")
    try:
        cart = call("GET", "/cart")["data"]
    except (StoreError, requests.RequestException) as exc:
        problems.append(f"The cart is not available: {exc}")
    return {
        "catalog": by_vendor(catalog),
        "products_by_id": {p["id"]: p for p in catalog},
        "cart": cart,
        "cart_problem": " ".join(problems) or None,
        "checkout_key": secrets.token_hex(12),
    }


def by_vendor(products: list[dict]) -> list[tuple[str, list[dict]]]:
    """[(vendor name, its products)], the house's first, then the vendors by name."""
    groups: dict[str, list[dict]] = {}
    for product in products:
        groups.setdefault((product.get("vendor") or {}).get("name") or "", []).append(product)
    return [(name or "The house", groups[name]) for name in sorted(groups)]


def _go_back(message: str = "", category: str = "error"):
    if message:
        flash(message, category)
    return redirect(url_for("sandbox_store.index") + "#store-cart")


def _api_or_flash(what: str, method: str, path: str, **kwargs):
    """Call the API; on a refusal, flash the API's own message (which names the problem) and go back."""
    try:
        call(method, path, **kwargs)
    except (StoreError, requests.RequestException) as exc:
        return _go_back(f"{what}: {exc}")
    return _go_back()


@bp.post("/cart/items")
def add_to_cart():
    """Add a product (quantity, options, and the dates of a rental) to the demo customer's cart."""
    form = request.form
    line = {"product_id": form.get("product_id", type=int), "quantity": form.get("quantity", 1, type=int)}
    for name in ("rental_start", "rental_end"):
        if form.get(name):
            line[name] = form[name]
    if options := form.getlist("options"):
        line["options"] = options
    return _api_or_flash("Could not add it to the cart", "POST", "/cart/items", json=line)


@bp.post("/cart/items/<int:line_id>")
def change_quantity(line_id: int):
    """Set a line's quantity (0 removes it)."""
    quantity = request.form.get("quantity", type=int)
    if quantity is None:
        return _go_back("Type a quantity as a whole number.")
    return _api_or_flash(
        "Could not change the quantity", "PATCH", f"/cart/items/{line_id}", json={"quantity": quantity}
    )


@bp.post("/cart/items/<int:line_id>/remove")
def remove_line(line_id: int):
    """Take a line out of the cart."""
    return _api_or_flash("Could not remove it", "DELETE", f"/cart/items/{line_id}")


@bp.post("/checkout")
def checkout():
    """Check the cart out (stock reserved, one gateway order for every vendor) and open the hosted checkout.
    The form's Idempotency-Key makes a double click one checkout."""
    key = request.form.get("idempotency_key") or secrets.token_hex(12)
    try:
        data = call("POST", "/checkout", json={"payment_method": "razorpay"}, headers_extra={"Idempotency-Key": key})
    except (StoreError, requests.RequestException) as exc:
        return _go_back(f"Could not check out: {exc}")
    return _to_hosted_page(data["data"])


@bp.get("/checkouts/<int:checkout_id>/pay")
def pay_checkout(checkout_id: int):
    """Pay (again) for a checkout while it is open: after a failed payment, the same checkout and gateway order."""
    try:
        data = call("GET", f"/checkouts/{checkout_id}")["data"]
    except (StoreError, requests.RequestException) as exc:
        return _go_back(f"Could not open the checkout: {exc}")
    if data.get("status") not in OPEN:
        return _go_back(f"That checkout is {data.get('status')}: it can no longer be paid.")
    return _to_hosted_page(data)


def _to_hosted_page(checkout: dict):
    gateway_order_id = checkout.get("gateway_order_id")
    if not gateway_order_id:
        return _go_back("Nothing is left to pay at the gateway for this checkout.", "success")
    return redirect(url_for("sandbox.checkout", order_id=gateway_order_id))
