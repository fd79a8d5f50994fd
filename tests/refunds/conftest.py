"""Refund fixtures: orders paid through the real sandbox (hosted checkout → SDK → adapter), and gateways
with short timeouts built by the real `build_gateway` (no fakes: the adapter and SDK are the real ones)."""

from __future__ import annotations

import pytest

from portal.gateway import build_gateway, get_gateway
from portal.history.services import Actor
from portal.orders.pricing import quote
from portal.payments.services import apply_gateway_payment
from tests import factories


def pay_through_sandbox(driver, *, price: int = 100000, quantity: int = 1, products=None, outcome="success"):
    """(order, payment): an order whose gateway order lives in the sandbox, paid at its hosted checkout."""
    products = products or [factories.product(price=price)]
    items = [{"product_id": p.id, "quantity": quantity} for p in products]
    total = quote(items).total
    gateway_order = get_gateway().create_order(amount=total, currency="INR", receipt="test", notes={})
    # An authorize-only payment stays authorized on a manual-capture order (an auto one's is captured on arrival).
    capture_mode = "manual" if outcome == "authorize" else "auto"
    order = factories.order(
        products=products, quantity=quantity, gateway_order_id=gateway_order["id"], capture_mode=capture_mode
    )
    answer = driver.pay(gateway_order["id"], outcome=outcome)
    payment_id = answer.get("razorpay_payment_id") or answer["error"]["metadata"]["payment_id"]
    outcome_ = apply_gateway_payment(get_gateway().fetch_payment(payment_id), actor=Actor.gateway())
    assert outcome_.order.id == order.id
    return outcome_.order, outcome_.payment


@pytest.fixture
def paid(sandbox):
    """`paid(price=..., quantity=..., outcome=...)` → (order, payment) captured at the sandbox."""
    return lambda **kw: pay_through_sandbox(sandbox, **kw)


@pytest.fixture
def gateway_with_timeout(app):
    """Swap in the real adapter with a short timeout and no retries: `gateway_with_timeout(0.2)`."""
    original = app.extensions["gateway"]

    def _swap(timeout: float):
        app.extensions["gateway"] = build_gateway(app, timeout=timeout, retries=0, backoff=0)
        return app.extensions["gateway"]

    yield _swap
    app.extensions["gateway"] = original


@pytest.fixture
def finance_actor():
    return Actor.user(factories.staff("finance"))
