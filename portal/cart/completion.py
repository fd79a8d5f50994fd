"""A checkout's payment: verified, recorded, turned into one order per vendor — or refunded in full.

The one transaction under the checkout's row lock (then the payment's, as every money path locks: the
refund's order or checkout first, the payment second) either finds the checkout already paid (a second
verify, the webhook racing it: the same orders), or creates the orders, or marks the checkout refunded.
The refund itself is sent after the commit, through `create_refund` with a stable form token (one refund
however often this runs), and the customer is told by the `checkout_refunded` message.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.cart.lookup import CheckoutOutcome, lock_checkout
from portal.cart.models import Checkout
from portal.cart.orders import create_vendor_orders
from portal.cart.services import remove_checked_out
from portal.cart.status import ABANDONED, CHECKOUT, OPEN, CheckoutStatus
from portal.dbutil import for_update
from portal.extensions import db
from portal.gateway import GatewayRejected, get_gateway
from portal.history.services import Actor, record_event
from portal.payments.models import Payment
from portal.payments.services import (
    PaymentOutcome,
    advance_payment,
    copy_payment_details,
    payment_of_gateway_order,
    run_payment_hooks,
    verified_payment,
)
from portal.payments.status import PaymentStatus
from portal.statemachine import transition
from portal.stock.reservations import commit_sale, holds_are_live, lock_products, release, reserve_again
from portal.timeutil import from_unix, utcnow
from portal.vendors.models import Vendor

EXPIRED = "Your payment arrived after the checkout had expired, so the items were no longer held for you."


class UnknownCheckout(LookupError):
    """The gateway order is not a checkout's."""


def checkout_by_gateway_order(gateway_order_id: str) -> Checkout | None:
    return db.session.scalar(select(Checkout).where(Checkout.gateway_order_id == gateway_order_id))


def complete_checkout_payment(gateway_order_id: str, payment_id: str, signature: str, *, actor: Actor):
    """Verify the checkout result (signature in constant time, via the gateway port), fetch the payment from the
    gateway and apply it (`apply_checkout_payment`). A bad signature raises InvalidSignature before anything is
    read or written; a payment of another gateway order, PaymentNotForOrder. Idempotent."""
    return apply_checkout_payment(verified_payment(gateway_order_id, payment_id, signature), actor=actor)


def fail_checkout_payment(gateway_order_id: str, payment_id: str, *, actor: Actor) -> CheckoutOutcome:
    """The callback page's error branch (its parameters are not signed): the payment is fetched from the gateway
    and applied only if it belongs to this gateway order, so a forged error cannot fail a checkout. Idempotent."""
    return apply_checkout_payment(payment_of_gateway_order(gateway_order_id, payment_id), actor=actor)


def _capture_if_authorized(checkout: Checkout, entity: dict) -> dict:
    """An authorized payment of the right amount is captured first (a checkout always auto-captures)."""
    if entity.get("status") != PaymentStatus.AUTHORIZED or int(entity["amount"]) != checkout.amount:
        return entity
    gateway = get_gateway()
    try:
        return gateway.capture_payment(entity["id"], int(entity["amount"]), entity["currency"])
    except GatewayRejected:  # captured meanwhile (auto-capture, the webhook): the gateway's word
        return gateway.fetch_payment(entity["id"])


def apply_checkout_payment(entity: dict, *, actor: Actor, reason: str = "") -> CheckoutOutcome:
    """Apply a gateway payment entity of a checkout's gateway order. Commits; safe to repeat and to race.

    captured → the orders (state "paid"), or a full refund (state "refunded"; "expired" when it came too
    late); failed → the checkout fails and its reservations are released (state "failed"); anything else
    (authorized and not capturable now) → "pending". Raises UnknownCheckout for a gateway order not ours.
    """
    checkout = checkout_by_gateway_order(entity.get("order_id") or "")
    if checkout is None:
        raise UnknownCheckout(entity.get("order_id"))
    entity = _capture_if_authorized(checkout, entity)
    for attempt in range(2):
        try:
            outcome, refund_due = _apply(checkout.id, entity, actor, reason or f"gateway reports {entity['status']}")
            db.session.commit()
            break
        except IntegrityError:  # a concurrent caller inserted the payment first: apply again
            db.session.rollback()
            if attempt:
                raise
        except Exception:
            db.session.rollback()
            raise
    _after_commit(outcome, refund_due)
    return outcome


def _payment(checkout: Checkout, entity: dict, actor: Actor) -> Payment:
    payment = db.session.scalar(
        for_update(select(Payment).where(Payment.gateway_payment_id == entity["id"]), of=Payment)
    )
    if payment is not None:
        return payment
    payment = Payment(
        checkout_id=checkout.id,
        gateway_payment_id=entity["id"],
        amount=int(entity["amount"]),
        currency=entity["currency"],
        status=PaymentStatus.CREATED,
        created_at=from_unix(entity.get("created_at")) or utcnow(),
    )
    db.session.add(payment)
    db.session.flush()  # the unique gateway id settles a race here
    record_event(
        payment,
        action="create",
        actor=actor,
        to_state=PaymentStatus.CREATED,
        reason=f"payment {entity['id']} seen (checkout {checkout.number})",
    )
    return payment


def _apply(checkout_id: int, entity: dict, actor: Actor, reason: str) -> tuple[CheckoutOutcome, bool]:
    checkout = lock_checkout(checkout_id)
    payment = _payment(checkout, entity, actor)
    target = PaymentStatus.CAPTURED if entity["status"] == PaymentStatus.REFUNDED else entity["status"]
    _, stale = advance_payment(payment, target, actor, reason)
    if not stale:
        copy_payment_details(payment, entity)
    outcome = CheckoutOutcome(checkout, list(checkout.orders), payment=payment)
    if payment.status == PaymentStatus.FAILED:
        return _failed(checkout, payment, actor, outcome), False
    if not payment.is_settled:
        return outcome, False
    if checkout.status == CheckoutStatus.PAID:
        if payment.allocations:  # the payment that paid it: answer as the first time
            outcome.state = "paid"
            return outcome, False
        return _refunding(checkout, payment, "This checkout was already paid by another payment.", outcome), True
    if checkout.status == CheckoutStatus.REFUNDED:
        outcome.message = checkout.failure_reason or ""
        outcome.state = "expired" if outcome.message == EXPIRED else "refunded"
        return outcome, not payment.refunds
    return _settle(checkout, payment, actor, outcome)


def _failed(checkout: Checkout, payment: Payment, actor: Actor, outcome: CheckoutOutcome) -> CheckoutOutcome:
    outcome.state = "failed"
    outcome.message = payment.error_description or "The payment failed."
    if checkout.status == CheckoutStatus.PENDING:
        checkout.failure_reason = outcome.message
        transition(checkout, CHECKOUT, CheckoutStatus.FAILED, actor=actor, reason=outcome.message[:200])
        release(checkout, "payment failed")
    return outcome


def _vendors_of(checkout: Checkout) -> dict[int, Vendor]:
    """The vendors of the checkout's lines, by id (the house's lines have none)."""
    ids = {line["vendor_id"] for line in checkout.lines if line.get("vendor_id")}
    return {v.id: v for v in db.session.scalars(select(Vendor).where(Vendor.id.in_(ids or [0])))}


def _why_not(checkout: Checkout, payment: Payment, products: dict, vendors: dict[int, Vendor], now) -> str | None:
    """Why orders cannot be made from this checkout now, in the customer's words; None when they can.
    `products`: the lines' products, as just locked; `vendors`: the lines' vendors."""
    if payment.amount != checkout.amount or payment.currency != checkout.currency:
        return "The amount paid did not match your checkout."
    if checkout.status in ABANDONED or checkout.expires_at <= now:
        return EXPIRED
    gone = [line["title"] for line in checkout.lines if not getattr(products.get(line["product_id"]), "active", 0)]
    if gone:
        return f"{', '.join(gone)} stopped being sold before your payment arrived."
    for vendor in vendors.values():
        if not vendor.active:
            return f"{vendor.name} stopped taking orders before your payment arrived."
    if not holds_are_live(checkout, now) and reserve_again(checkout, now):
        return "Some of your items sold out before your payment arrived."
    return None


def _settle(checkout: Checkout, payment: Payment, actor: Actor, outcome: CheckoutOutcome):
    # The products first, in id order, before any row that references them is written: an order item or a
    # reservation takes a KEY SHARE lock on its product, and two payments holding those while both asking
    # FOR UPDATE (to take the stock) would deadlock.
    products = lock_products(line["product_id"] for line in checkout.lines)
    now = utcnow()
    vendors = _vendors_of(checkout)
    why = _why_not(checkout, payment, products, vendors, now)
    if why is not None:
        outcome = _refunding(checkout, payment, why, outcome)
        outcome.state = "expired" if why == EXPIRED else "refunded"
        return outcome, True
    orders, items_by_line = create_vendor_orders(checkout, payment, vendors, actor, now)
    commit_sale(checkout, items_by_line)
    remove_checked_out(_cart_id(checkout), checkout.lines)
    checkout.paid_at = now
    transition(
        checkout,
        CHECKOUT,
        CheckoutStatus.PAID,
        actor=actor,
        reason=f"payment {payment.gateway_payment_id}: {len(orders)} order(s)",
    )
    outcome.orders, outcome.state = orders, "paid"
    return outcome, False


def _cart_id(checkout: Checkout) -> int | None:
    from portal.cart.models import Cart

    return db.session.scalar(select(Cart.id).where(Cart.customer_id == checkout.customer_id))


def _refunding(checkout: Checkout, payment: Payment, why: str, outcome: CheckoutOutcome) -> CheckoutOutcome:
    """The checkout ends refunded (its holds released) and the customer is told why; the refund follows."""
    from portal.notifications.outbox import queue_message

    actor = Actor.system("checkout")
    if checkout.status != CheckoutStatus.REFUNDED and checkout.status != CheckoutStatus.PAID:
        checkout.failure_reason = why
        if checkout.status in OPEN and checkout.expires_at <= utcnow():
            transition(checkout, CHECKOUT, CheckoutStatus.EXPIRED, actor=actor, reason="not paid in time")
        transition(checkout, CHECKOUT, CheckoutStatus.REFUNDED, actor=actor, reason=why[:200])
        release(checkout, "checkout refunded")
    customer = checkout.customer
    queue_message(
        "checkout_refunded",
        to=customer.email,
        key=f"checkout_refunded:payment:{payment.id}",
        context={
            "checkout_number": checkout.number,
            "reason": why,
            "amount": payment.amount,
            "currency": payment.currency,
        },
        payment=payment,
        customer=customer,
    )
    outcome.state, outcome.message = "refunded", why
    return outcome


def refund_form_token(payment: Payment) -> str:
    return f"checkout-{payment.gateway_payment_id}"


def _after_commit(outcome: CheckoutOutcome, refund_due: bool) -> None:
    if refund_due:
        _refund_in_full(outcome.payment.id, outcome.checkout.number)
    elif outcome.state == "paid":
        payment = outcome.payment
        for order in outcome.orders:
            run_payment_hooks(PaymentOutcome(payment, order))  # the invoice of each order (AUTO_INVOICE)


def _refund_in_full(payment_id: int, number: str) -> None:
    from portal.refunds.errors import RefundError
    from portal.refunds.services import create_refund

    payment = db.session.get(Payment, payment_id)
    try:
        create_refund(
            payment_id,
            amount=None,
            reason="checkout_not_completed",
            notes=f"checkout {number}: the orders could not be created",
            actor=Actor.system("checkout"),
            form_token=refund_form_token(payment),
        )
    except RefundError as exc:  # already refunded in full (another caller), or nothing captured
        current_app.logger.info("checkout refund of payment %s skipped: %s", payment_id, exc)


def cancel_checkout(checkout_id: int, *, actor: Actor) -> Checkout:
    """Cancel an unpaid checkout and release its reservations. Commits; IllegalTransition once paid."""
    try:
        checkout = lock_checkout(checkout_id)
        transition(checkout, CHECKOUT, CheckoutStatus.CANCELLED, actor=actor, reason="cancelled")
        release(checkout, "checkout cancelled")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return checkout
