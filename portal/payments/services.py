"""Applying what the gateway says about a payment: the one path for verify-payment, webhooks,
reconciliation and the demo seed.

`apply_gateway_payment` is idempotent and monotonic: the same gateway entity applied twice changes
nothing the second time, and an older state (an `authorized` after `captured`) is recorded as stale
and skipped. The order row is locked first, so concurrent callers for one order run one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.dbutil import for_update
from portal.extensions import db
from portal.gateway import GatewayRejected, get_gateway
from portal.history.services import Actor, record_event
from portal.orders.models import CaptureMode, Order
from portal.orders.services import find_order_locked
from portal.orders.status import ORDER, OrderStatus
from portal.payments.models import Payment, PaymentAllocation
from portal.payments.status import PAYMENT, PaymentStatus
from portal.statemachine import IllegalTransition, advance_to
from portal.timeutil import from_unix, utcnow

GATEWAY_STATES = {s.value for s in PaymentStatus} - {"partially_refunded"}


class UnknownGatewayOrder(LookupError):
    """The payment belongs to a gateway order we do not have."""


@dataclass
class PaymentOutcome:
    payment: Payment
    order: Order
    changed: bool = False
    stale: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def order_paid(self) -> bool:
        return self.order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)


def lock_order_by_gateway_id(gateway_order_id: str) -> Order:
    order = find_order_locked(Order.gateway_order_id == gateway_order_id)
    if order is None:
        raise UnknownGatewayOrder(gateway_order_id)
    return order


def lock_order(order_id: int) -> Order:
    order = find_order_locked(Order.id == order_id)
    if order is None:
        raise UnknownGatewayOrder(f"order {order_id}")
    return order


def _get_or_create_payment(order: Order, entity: dict, actor: Actor) -> tuple[Payment, bool]:
    payment = db.session.scalar(
        for_update(select(Payment).where(Payment.gateway_payment_id == entity["id"]), of=Payment)
    )
    if payment is not None:
        return payment, False
    payment = Payment(
        order=order,
        gateway_payment_id=entity["id"],
        amount=int(entity["amount"]),
        currency=entity["currency"],
        status=PaymentStatus.CREATED,
        created_at=from_unix(entity.get("created_at")) or utcnow(),
    )
    db.session.add(payment)
    # A single order's payment pays that order in full: one allocation (a checkout's payment gets one per
    # vendor order instead, when the orders are created: portal/cart).
    payment.allocations.append(PaymentAllocation(order_id=order.id, amount=payment.amount, currency=payment.currency))
    db.session.flush()  # the unique gateway id settles a race here
    db.session.expire(order, ["payments"])  # the read-only order.payments now includes this payment
    record_event(
        payment, action="create", actor=actor, to_state=PaymentStatus.CREATED, reason=f"payment {entity['id']} seen"
    )
    return payment, True


def _copy_details(payment: Payment, entity: dict) -> None:
    payment.method = entity.get("method") or payment.method
    payment.email = entity.get("email") or payment.email
    payment.contact = entity.get("contact") or payment.contact
    payment.fee = entity.get("fee") if entity.get("fee") is not None else payment.fee
    payment.gateway_tax = entity.get("tax") if entity.get("tax") is not None else payment.gateway_tax
    for ours, theirs in (
        ("error_code", "error_code"),
        ("error_description", "error_description"),
        ("error_reason", "error_reason"),
    ):
        if entity.get(theirs):
            setattr(payment, ours, entity[theirs])
    payment.gateway_data = entity


def _check_amount(order: Order, entity: dict) -> list[str]:
    problems = []
    if int(entity["amount"]) != order.total:
        problems.append(f"amount {entity['amount']} does not match the order total {order.total}")
    if entity["currency"] != order.currency:
        problems.append(f"currency {entity['currency']} does not match the order's {order.currency}")
    return problems


def _advance_payment(payment: Payment, target: str, actor: Actor, reason: str) -> tuple[bool, bool]:
    """(changed, stale) after moving the payment towards the gateway's state."""
    current = str(payment.status)
    if target == PaymentStatus.CAPTURED and current in (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED):
        return False, False
    if PAYMENT.is_behind(current, target):
        return False, True
    changed = advance_to(payment, PAYMENT, target, actor=actor, reason=reason)
    now = utcnow()
    if payment.status in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED) and payment.authorized_at is None:
        payment.authorized_at = now
    if payment.status == PaymentStatus.CAPTURED and payment.captured_at is None:
        payment.captured_at = now
    return changed, False


def _settle_order(order: Order, payment: Payment, actor: Actor, problems: list[str]) -> bool:
    """Move the order according to its payment; returns True when the order changed."""
    if problems:
        return False
    if payment.status == PaymentStatus.CAPTURED:
        if order.is_payable:
            advance_to(
                order, ORDER, OrderStatus.PAID, actor=actor, reason=f"payment {payment.gateway_payment_id} captured"
            )
            order.paid_at = order.paid_at or utcnow()
            return True
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED) and not order.needs_refund:
            order.needs_refund = True
            record_event(
                order,
                action="late_payment",
                actor=actor,
                reason=f"payment {payment.gateway_payment_id} captured on a {order.status} order; refund due",
            )
            return True
    if payment.status == PaymentStatus.FAILED and order.status == OrderStatus.PENDING:
        transition_reason = payment.error_description or "payment failed"
        advance_to(order, ORDER, OrderStatus.FAILED, actor=actor, reason=transition_reason)
        return True
    return False


def apply_gateway_payment(
    entity: dict, *, actor: Actor, reason: str = "", order_id: int | None = None
) -> PaymentOutcome:
    """Record a gateway payment entity against its order and settle the order. Commits.

    Safe to call any number of times, concurrently, and in any order of states. `order_id` names our
    order when the payment's gateway order is not ours: a payment-link payment carries the link's own
    gateway order, and is matched to our order through `Order.payment_link_id` by the caller.
    """
    for attempt in range(2):
        try:
            outcome = _apply(entity, actor, reason, order_id)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # a concurrent caller inserted the payment first: apply again
            if attempt:
                raise
            continue
        except Exception:
            db.session.rollback()
            raise
        _after_commit(outcome)
        return outcome
    raise RuntimeError("unreachable")


def run_payment_hooks(outcome: PaymentOutcome) -> None:
    """The after-commit hooks (auto-invoice, auto-refund) for an order paid by another path (a checkout)."""
    _after_commit(outcome)


def _apply(entity: dict, actor: Actor, reason: str, order_id: int | None = None) -> PaymentOutcome:
    target = entity.get("status")
    if target not in GATEWAY_STATES:
        raise ValueError(f"unknown payment status {target!r}")
    if target == PaymentStatus.REFUNDED:
        # Our refund progress comes from refund entities (amount_refunded); for the payment itself a
        # gateway `refunded` means it was captured. Otherwise an unseen refunded payment never pays its order.
        target = PaymentStatus.CAPTURED
    order = lock_order(order_id) if order_id is not None else lock_order_by_gateway_id(entity["order_id"])
    payment, created = _get_or_create_payment(order, entity, actor)
    problems = _check_amount(order, entity)
    note = reason or f"gateway reports {target}"
    try:
        changed, stale = _advance_payment(payment, target, actor, note)
    except IllegalTransition as exc:
        problems.append(str(exc))
        changed, stale = False, True
    if not stale:  # an out-of-date entity must not overwrite what a newer one said (method, errors, fee)
        _copy_details(payment, entity)
    if stale:
        record_event(
            payment,
            action="stale_update",
            actor=actor,
            reason=f"ignored '{target}': payment is already {payment.status}",
        )
    if problems:
        record_event(order, action="payment_mismatch", actor=actor, reason="; ".join(problems))
    order_changed = _settle_order(order, payment, actor, problems)
    return PaymentOutcome(payment, order, changed or created or order_changed, stale, problems)


# Used by the checkout's payment path (portal/cart/completion.py): the same rules for a payment's own state.
advance_payment = _advance_payment
copy_payment_details = _copy_details


def _after_commit(outcome: PaymentOutcome) -> None:
    """Hooks that run after the payment is safely recorded (auto-invoice, auto-refund)."""
    for hook in current_app.extensions.get("payment_hooks", []):
        hook(outcome)


# --- Verify, capture, late-payment refunds ------------------------------------------------------


class InvalidSignature(ValueError):
    """The checkout or payment-link signature does not match: the parameters were not from the gateway."""


class PaymentNotForOrder(ValueError):
    """The gateway says this payment belongs to another order."""


def capture_payment(payment_id: int, *, actor: Actor) -> Payment:
    """Capture an authorized payment of a payable order at the gateway and record it. Commits.

    The order and payment rows stay locked across the one capture call, so two captures of one
    payment (two admins, or verify racing the admin) run one after the other and the second one sees
    `captured`. Raises IllegalTransition for a payment that is not authorized or an order that can no
    longer be paid, GatewayUnavailable / GatewayRejected when the gateway fails.
    """
    return _capture(payment_id, actor).payment


def _capture(payment_id: int, actor: Actor, *, settling: bool = False) -> PaymentOutcome:
    """`settling`: the caller only wants the payment captured (verify, callback), so a payment that a
    concurrent caller captured while this one waited for the lock is the answer, not an error."""
    try:
        payment = db.session.get(Payment, payment_id)
        if payment is None:
            raise LookupError(f"payment {payment_id}")
        order = lock_order(payment.order_id)
        db.session.refresh(payment, with_for_update=True)
        if settling and payment.status != PaymentStatus.AUTHORIZED:
            db.session.commit()
            outcome = PaymentOutcome(payment, order)
            _after_commit(outcome)  # idempotent hooks: answer as the capturing caller does (invoice issued)
            return outcome
        if payment.status != PaymentStatus.AUTHORIZED:
            raise IllegalTransition("payment", payment.status, PaymentStatus.CAPTURED)
        if not order.is_payable:
            raise IllegalTransition("order", order.status, OrderStatus.PAID)
        entity = _capture_at_gateway(payment)
        return apply_gateway_payment(entity, actor=actor, reason="captured", order_id=order.id)
    except Exception:
        db.session.rollback()
        raise


def _capture_at_gateway(payment: Payment) -> dict:
    gateway = get_gateway()
    try:
        return gateway.capture_payment(payment.gateway_payment_id, payment.amount, payment.currency)
    except GatewayRejected:
        # Captured meanwhile (auto-capture, or another caller)? Then the gateway's word is the answer.
        entity = gateway.fetch_payment(payment.gateway_payment_id)
        if entity.get("status") != PaymentStatus.CAPTURED:
            raise
        return entity


def should_auto_capture(order: Order) -> bool:
    """Whether an authorized payment of this order is captured without anyone asking: only for an auto-capture
    order (PAYMENT_CAPTURE, Razorpay's payment_capture=1). A manual one waits for finance's Capture action."""
    return order.capture_mode == CaptureMode.AUTO


def settle_payment(entity: dict, *, actor: Actor, order_id: int | None = None) -> PaymentOutcome:
    """Apply a fetched payment entity, then capture it when it is only authorized, the order payable and
    auto-capture (see should_auto_capture)."""
    outcome = apply_gateway_payment(entity, actor=actor, order_id=order_id)
    needs_capture = outcome.payment.status == PaymentStatus.AUTHORIZED and outcome.order.is_payable
    if needs_capture and should_auto_capture(outcome.order) and not outcome.problems:
        outcome = _capture(outcome.payment.id, actor, settling=True)
    return outcome


def confirm_checkout_payment(gateway_order_id: str, payment_id: str, signature: str, *, actor: Actor):
    """What a checkout success handler sends: check the signature (constant time), fetch the payment
    from the gateway (the client's word is never taken), record it once, capture, settle the order.

    Idempotent: a second call with the same parameters changes nothing and returns the same outcome.
    A bad signature raises InvalidSignature before anything is read or written.
    """
    return settle_payment(verified_payment(gateway_order_id, payment_id, signature), actor=actor)


def verified_payment(gateway_order_id: str, payment_id: str, signature: str) -> dict:
    """The gateway's payment entity for a checkout result, once its signature checks (constant time) and the
    payment belongs to that gateway order. Raises InvalidSignature / PaymentNotForOrder before any write."""
    if not get_gateway().verify_payment_signature(gateway_order_id, payment_id, signature):
        raise InvalidSignature("The payment signature does not match.")
    return payment_of_gateway_order(gateway_order_id, payment_id)


def payment_of_gateway_order(gateway_order_id: str, payment_id: str) -> dict:
    """The gateway's payment entity, refused (PaymentNotForOrder) unless it belongs to `gateway_order_id`."""
    entity = get_gateway().fetch_payment(payment_id)
    if entity.get("order_id") != gateway_order_id:
        raise PaymentNotForOrder(f"payment {payment_id} does not belong to {gateway_order_id}")
    return entity


def confirm_payment_link_payment(params: dict, *, actor: Actor) -> PaymentOutcome:
    """The payment-link callback: `params` holds razorpay_payment_link_id, _reference_id, _status,
    razorpay_payment_id and razorpay_signature. Verified, fetched and settled like a checkout payment.
    """
    gateway = get_gateway()
    plink_id, payment_id = params.get("razorpay_payment_link_id", ""), params.get("razorpay_payment_id", "")
    valid = gateway.verify_payment_link_signature(
        plink_id,
        params.get("razorpay_payment_link_reference_id", ""),
        params.get("razorpay_payment_link_status", ""),
        payment_id,
        params.get("razorpay_signature", ""),
    )
    if not valid:
        raise InvalidSignature("The payment link signature does not match.")
    order = db.session.scalar(select(Order).where(Order.payment_link_id == plink_id))
    if order is None:
        raise UnknownGatewayOrder(plink_id)
    entity = gateway.fetch_payment(payment_id)
    return settle_payment(entity, actor=actor, order_id=order.id)
