"""Finding and locking checkouts, and what a payment did to one (shared by checkout.py and completion.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal.cart.errors import CheckoutNotFound
from portal.cart.models import Checkout
from portal.dbutil import for_update
from portal.extensions import db
from portal.inputs import db_int


@dataclass
class CheckoutOutcome:
    """What a payment did to a checkout: `state` is paid, refunded, failed, expired or pending."""

    checkout: Checkout
    orders: list = field(default_factory=list)
    state: str = "pending"
    payment: object | None = None
    message: str = ""


def lock_checkout(checkout_id: int) -> Checkout:
    checkout = db.session.scalar(for_update(select(Checkout).where(Checkout.id == checkout_id), of=Checkout))
    if checkout is None:
        raise CheckoutNotFound("No such checkout.")
    return checkout


def customer_checkout(customer_id: int, checkout_id: int) -> Checkout:
    """The customer's checkout; another customer's answers exactly like an unknown one (CheckoutNotFound)."""
    checkout = db.session.get(Checkout, checkout_id) if db_int(checkout_id) is not None else None
    if checkout is None or checkout.customer_id != customer_id:
        raise CheckoutNotFound("No such checkout.")
    return checkout
