"""The multi-vendor checkout: reserve and open one gateway order; on a verified payment, one order per vendor.

`start_checkout` validates the cart, reserves every line under row locks and commits the checkout (with the
priced snapshot) before creating ONE gateway order for the whole amount (adopted by its receipt, the checkout
number, after a timeout). `apply_checkout_payment` is the one path for verify, the callback page and the
webhook: under the checkout's row lock it records the payment, and either creates the orders (paid, with
allocations; reservations committed; the checked-out lines leave the cart; checkout → paid), or — when
that is no longer possible (expired, stock gone, a vendor or product gone) — marks the checkout refunded
and refunds the payment in full after the commit. Never money kept without orders; never orders twice.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.cart.errors import (
    CartNotReady,
    CheckoutConflict,
    OutOfStock,
    UnsupportedPaymentMethod,
)
from portal.cart.lookup import CheckoutOutcome, customer_checkout, lock_checkout
from portal.cart.models import Checkout
from portal.cart.services import lock_cart
from portal.cart.status import CHECKOUT, CheckoutStatus
from portal.cart.view import describe, snapshot, view_of
from portal.extensions import db
from portal.gateway import GatewayError, get_gateway
from portal.history.services import Actor, record_event
from portal.orders.services import NUMBER_ALPHABET
from portal.stock.reservations import hold_until, reserve
from portal.timeutil import utcnow

# The interface the storefront and the callback page use, in one place (completion.py holds the payment side).
__all__ = [
    "CheckoutOutcome",
    "cancel_checkout",
    "complete_checkout_payment",
    "customer_checkout",
    "ensure_gateway_order",
    "fail_checkout_payment",
    "start_checkout",
]

PAYMENT_METHODS = ("razorpay",)  # wallet, bank_transfer, cod: issue 15


def new_checkout_number() -> str:
    return "CHK-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


# ---------------------------------------------------------------- starting


def _by_key(customer_id: int, key: str) -> Checkout | None:
    return db.session.scalar(
        select(Checkout).where(Checkout.customer_id == customer_id, Checkout.idempotency_key == key)
    )


def _replay(checkout: Checkout, request_hash: str | None) -> tuple[Checkout, bool]:
    if checkout.request_hash != request_hash:
        raise CheckoutConflict("This Idempotency-Key was already used for a different request.")
    return ensure_gateway_order(checkout.id), True


def start_checkout(
    customer, *, payment_method: str = "razorpay", idempotency_key: str | None = None, request_hash: str | None = None
) -> tuple[Checkout, bool]:
    """Reserve the customer's cart and open its one gateway order. Returns (checkout, replayed).

    The same Idempotency-Key with the same body replays the first checkout; with another body,
    CheckoutConflict. Raises UnsupportedPaymentMethod, CartNotReady (the problems), OutOfStock (the short
    lines), GatewayUnavailable / GatewayRejected (the checkout stays pending, its reservations held: a replay
    with the same key opens the gateway order).
    """
    if idempotency_key:
        existing = _by_key(customer.id, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash)
    if payment_method not in PAYMENT_METHODS:
        raise UnsupportedPaymentMethod(
            f"Paying by {payment_method} is not available yet; pay with razorpay.", {"payment_method": payment_method}
        )
    try:
        checkout_id = _reserve_checkout(customer, payment_method, idempotency_key, request_hash)
    except IntegrityError:  # a concurrent request with the same key won
        db.session.rollback()
        existing = _by_key(customer.id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return ensure_gateway_order(checkout_id), False


def _blocking(problems: list[dict]) -> list[dict]:
    # Stock is decided under the product locks (409 out_of_stock), not from the unlocked view.
    return [p for p in problems if p["code"] != "out_of_stock"]


def _reserve_checkout(customer, payment_method, idempotency_key, request_hash) -> int:
    try:
        cart = lock_cart(customer)
        view = view_of(cart)
        problems = _blocking(view.problems)
        if problems:
            raise CartNotReady("Your cart cannot be checked out yet.", {"problems": problems})
        if view.total <= 0:
            raise CartNotReady("There is nothing to pay for in your cart.", {"problems": []})
        now = utcnow()
        lines = snapshot(view)
        checkout = Checkout(
            number=new_checkout_number(),
            customer_id=customer.id,
            status=CheckoutStatus.PENDING,
            currency=view.currency,
            amount=view.total,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            expires_at=hold_until(now),
            lines=lines,
            created_at=now,
            updated_at=now,
        )
        db.session.add(checkout)
        db.session.flush()
        short = reserve(checkout, lines, now)
        if short:
            raise OutOfStock("Some items are no longer available in the quantity you asked for.", {"lines": short})
        record_event(
            checkout,
            action="create",
            actor=Actor.user(customer),
            to_state=CHECKOUT.initial,
            reason=describe(view),
            changes={"amount": [None, checkout.amount]},
        )
        db.session.commit()
        return checkout.id
    except Exception:
        db.session.rollback()
        raise


# ---------------------------------------------------------------- the gateway order


def ensure_gateway_order(checkout_id: int) -> Checkout:
    """The pending checkout's one gateway order, created (or adopted by its receipt) exactly once, under the
    checkout's row lock. Commits. A gateway failure is recorded and re-raised (the next call adopts or creates)."""
    checkout = db.session.get(Checkout, checkout_id)
    if checkout.gateway_order_id or checkout.status != CheckoutStatus.PENDING:
        return checkout
    try:
        checkout = lock_checkout(checkout_id)
        if checkout.gateway_order_id is None and checkout.status == CheckoutStatus.PENDING:
            _attach_gateway_order(checkout)
        db.session.commit()
    except GatewayError as exc:
        db.session.rollback()
        checkout = lock_checkout(checkout_id)
        note = f"gateway order not created: {exc}"[:500]
        record_event(checkout, action="gateway_error", actor=Actor.system("checkout"), reason=note)
        db.session.commit()
        raise
    except Exception:
        db.session.rollback()
        raise
    return checkout


def _is_ours(entity: dict, checkout: Checkout) -> bool:
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    return (
        entity.get("amount") == checkout.amount
        and entity.get("currency") == checkout.currency
        and str(notes.get("checkout_id", checkout.id)) == str(checkout.id)
    )


def _attach_gateway_order(checkout: Checkout) -> None:
    gateway = get_gateway()
    found = [g for g in gateway.find_orders_by_receipt(checkout.number) if _is_ours(g, checkout)]
    if found:
        chosen, note = found[-1], f"{found[-1]['id']} adopted (found by receipt {checkout.number})"
    else:
        chosen = gateway.create_order(
            amount=checkout.amount,
            currency=checkout.currency,
            receipt=checkout.number,
            notes={"checkout_id": str(checkout.id), "checkout_number": checkout.number},
        )
        note = f"{chosen['id']} created"
    checkout.gateway_order_id = chosen["id"]
    record_event(checkout, action="gateway_order", actor=Actor.system("checkout"), reason=note)


from portal.cart.completion import (  # noqa: E402  (re-exported; completion imports nothing from here)
    cancel_checkout,
    complete_checkout_payment,
    fail_checkout_payment,
)
