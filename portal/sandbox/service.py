"""The sandbox's behaviour: Razorpay's entities, their states and rules, and the events each change emits.

Every operation runs in one store transaction; the webhook deliveries it causes are written in the same
transaction (so a change and its events are never separated) and handed to the dispatcher afterwards.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from portal.sandbox import entities as ent
from portal.sandbox import validation as v
from portal.sandbox.errors import ApiError, not_found
from portal.sandbox.links import PaymentLinks
from portal.sandbox.signatures import payment_link_signature, payment_signature

DEFAULT_FAULTS = {
    "latency_ms": 0,  # every API answer is delayed this long
    "error_rate": 0.0,  # this share of API calls answers 500 SERVER_ERROR (and changes nothing)
    "down": False,  # every API call answers 503 with a load balancer's HTML page
    "duplicate_webhooks": False,  # every event is delivered twice (same X-Razorpay-Event-Id)
    "out_of_order_webhooks": False,  # the events of one change are delivered newest first
    "fail_refunds": False,  # refunds are accepted (pending), then fail (refund.failed)
    "drop_webhooks": False,  # events are logged as dropped and never delivered
    "pending_refunds": False,  # refunds stay `pending` until `process_refund` (processed or failed)
    "gateway_error_rate": 0.0,  # this share of API calls is carried out, then answers 504 GATEWAY_ERROR
    "rate_limit_per_second": 0,  # more API calls than this in any one second answer 429 (0: no limit)
}
OUTCOMES = ("success", "failure", "authorize")
ORDER_FIELDS = {"amount", "currency", "receipt", "notes", "partial_payment", "first_payment_min_amount"}
ORDER_FIELDS |= {"payment", "payment_capture"}
REFUND_FIELDS = {"amount", "speed", "notes", "receipt"}
PLINK_FIELDS = {"amount", "currency", "accept_partial", "first_min_partial_amount", "description", "reference_id"}
PLINK_FIELDS |= {"customer", "expire_by", "notify", "reminder_enable", "notes", "callback_url", "callback_method"}
PLINK_FIELDS |= {"upi_link", "options"}


@dataclass
class Change:
    """The events one operation emits, each payload a snapshot taken when the event happened."""

    events: list[tuple[str, dict]] = field(default_factory=list)

    def emit(self, name: str, **objects: dict) -> None:
        self.events.append((name, {key: {"entity": copy.deepcopy(ent.public(doc))} for key, doc in objects.items()}))


@dataclass
class Sandbox(PaymentLinks):
    """The emulated Razorpay account: credentials, storage, faults and webhook dispatcher."""

    key_id: str
    key_secret: str
    webhook_secret: str
    public_base_url: str
    merchant: str
    store_factory: object
    webhooks: object = None
    _store: object = None
    _limiter: object = None

    @property
    def store(self):
        if self._store is None:  # created on first use: `flask db upgrade` need not touch it
            self._store = self.store_factory()
        return self._store

    # faults --------------------------------------------------------------------------------------
    def faults(self) -> dict:
        return {**DEFAULT_FAULTS, **self.store.get_settings()}

    def set_faults(self, **values) -> dict:
        """Change fault knobs (see DEFAULT_FAULTS); unknown names are refused."""
        unknown = set(values) - set(DEFAULT_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
        self.store.put_settings({k: type(DEFAULT_FAULTS[k])(val) for k, val in values.items()})
        return self.faults()

    def clear_faults(self) -> dict:
        return self.set_faults(**DEFAULT_FAULTS)

    def admit(self, per_second: int) -> bool:
        """One API call against the `rate_limit_per_second` knob: False when it is over the limit (a moving
        one-second window per key, in this process's memory — the `limits` library, as Flask-Limiter uses)."""
        if self._limiter is None:
            from limits.storage import MemoryStorage
            from limits.strategies import MovingWindowRateLimiter

            self._limiter = MovingWindowRateLimiter(MemoryStorage())
        from limits import RateLimitItemPerSecond

        return self._limiter.hit(RateLimitItemPerSecond(per_second), "sandbox-api", self.key_id)

    def forget_rate(self) -> None:
        """Forget the calls counted against `rate_limit_per_second` (a reset starts a clean second)."""
        self._limiter = None

    @contextmanager
    def change(self):
        """A write transaction whose emitted events are queued with it and dispatched after commit."""
        change = Change()
        with self.store.transaction() as conn:
            yield conn, change
            self.webhooks.enqueue(conn, change.events, self.faults())
        self.webhooks.kick()

    # orders --------------------------------------------------------------------------------------
    def create_order(self, data: dict) -> dict:
        v.reject_unknown(data, ORDER_FIELDS)
        currency = v.currency(data)
        amount = v.amount(data, currency=currency)
        doc = ent.order(
            amount=amount,
            currency=currency,
            receipt=v.text(data, "receipt", 40),
            notes=v.notes(data),
            capture=v.capture_mode(data),
            partial=bool(data.get("partial_payment", False)),
        )
        with self.change() as (conn, _):
            self.store.add(conn, "order", doc)
        return ent.public(doc)

    def list_orders(self, params: dict) -> dict:
        """GET /orders: newest first, filtered by `receipt`, `from`/`to` (created_at) and `authorized=1`
        (orders with an authorized payment), paged by `count`/`skip`."""
        count, skip = v.page(params)
        start, end = v.moment(params, "from"), v.moment(params, "to")
        orders = [
            o
            for o in self.store.every("order")
            if (not params.get("receipt") or o["receipt"] == params["receipt"])
            and (start is None or o["created_at"] >= start)
            and (end is None or o["created_at"] <= end)
        ]
        if params.get("authorized") in ("1", "true"):
            orders = [o for o in orders if self._has_authorized_payment(o["id"])]
        return ent.collection(orders[skip : skip + count])

    def _has_authorized_payment(self, order_id: str) -> bool:
        with self.store.engine.connect() as conn:
            return any(p["status"] == "authorized" for p in self.store.children(conn, "payment", order_id))

    def fetch(self, kind: str, entity_id: str) -> dict:
        doc = self.store.read(kind, entity_id)
        if doc is None:
            raise not_found(entity_id)
        return ent.public(doc)

    def order_payments(self, order_id: str) -> dict:
        with self.store.engine.connect() as conn:
            self._get(conn, "order", order_id)
            return ent.collection(self.store.children(conn, "payment", order_id))

    # payments ------------------------------------------------------------------------------------
    def checkout(self, order_id: str, outcome: str, method: str, *, email: str = "", contact: str = "") -> dict:
        """A customer's attempt on the hosted checkout; returns the payment."""
        if outcome not in OUTCOMES:
            raise ApiError("The outcome must be one of success, failure, authorize.", field="outcome")
        if method not in ent.METHODS:
            raise ApiError("The method is invalid.", field="method")
        email, contact = v.customer_email(email), v.customer_contact(contact)
        with self.change() as (conn, change):
            order = self._get(conn, "order", order_id, lock=True)
            pay = self._attempt(conn, change, order, outcome, method, email, contact)
            self.store.save(conn, order)
        return ent.public(pay)

    def _attempt(self, conn, change: Change, order: dict, outcome: str, method: str, email: str, contact: str):
        if order["status"] == "paid":
            raise ApiError(
                "Your payment has been declined as the order is already paid.", metadata={"order_id": order["id"]}
            )
        # What the customer gave at checkout; Razorpay's own sample customer only when nothing was given.
        pay = ent.payment(order, method, email=email or ent.SAMPLE_EMAIL, contact=contact or ent.SAMPLE_CONTACT)
        order["attempts"] += 1
        order["status"] = "attempted"
        if outcome == "failure":
            ent.fail(pay)
            change.emit("payment.failed", payment=pay)
        else:
            ent.authorize(pay)
            change.emit("payment.authorized", payment=pay)
            if outcome == "success" and order.get("_capture") != "manual":
                self._capture(order, pay, change)
        self.store.add(conn, "payment", pay, parent_id=order["id"])
        return pay

    def _capture(self, order: dict, pay: dict, change: Change) -> None:
        ent.capture(pay)
        order["amount_paid"] += pay["amount"]
        order["amount_due"] = max(order["amount"] - order["amount_paid"], 0)
        change.emit("payment.captured", payment=pay)
        if order["amount_due"] == 0:
            order["status"] = "paid"
            change.emit("order.paid", payment=pay, order=order)

    def capture(self, payment_id: str, data: dict) -> dict:
        v.reject_unknown(data, {"amount", "currency"})
        with self.change() as (conn, change):
            pay = self._get(conn, "payment", payment_id, lock=True)
            amount = v.amount(data, currency=pay["currency"])
            currency = v.currency(data)
            if pay["status"] in ("captured", "refunded"):
                raise ApiError("This payment has already been captured", field="payment_id")
            if pay["status"] != "authorized":
                raise ApiError(
                    "Only payments which have been authorized and not yet captured can be captured",
                    field="payment_id",
                )
            if amount != pay["amount"]:
                raise ApiError("Capture amount must be equal to the amount authorized", field="amount")
            if currency != pay["currency"]:
                raise ApiError("The currency should be same as the payment currency", field="currency")
            order = self._get(conn, "order", pay["order_id"], lock=True)
            self._capture(order, pay, change)
            self.store.save(conn, pay)
            self.store.save(conn, order)
        return ent.public(pay)

    # refunds -------------------------------------------------------------------------------------
    def refund(self, payment_id: str, data: dict, idempotency_key: str | None = None) -> dict:
        """POST /payments/{id}/refund, honouring X-Refund-Idempotency (replay → the same refund, a different
        request with the same key → 409)."""
        key = v.idempotency_key(idempotency_key)
        v.reject_unknown(data, REFUND_FIELDS)
        digest = hashlib.sha256(json.dumps([payment_id, data], sort_keys=True).encode()).hexdigest()
        with self.change() as (conn, change):
            # One refund at a time per payment (as Razorpay serialises them): the amount already refunded is
            # read only once the payment is locked, so concurrent refunds cannot both spend the same remainder.
            pay = self._get(conn, "payment", payment_id, lock=True)
            replay = self._replay(conn, key, digest)
            if replay is not None:
                return ent.public(replay)
            rfnd = self._new_refund(pay, data)
            change.emit("refund.created", refund=rfnd, payment=pay)
            answer = self._settle_refund(rfnd, pay, change)
            self.store.add(conn, "refund", rfnd, parent_id=pay["id"])
            self.store.save(conn, pay)
            if key:
                self.store.remember_refund_key(conn, key, payment_id, digest, rfnd["id"])
        return answer

    def _replay(self, conn, key: str | None, digest: str) -> dict | None:
        if key is None:
            return None
        previous = self.store.refund_key(conn, key)
        if previous is None:
            return None
        if previous["request_hash"] != digest:
            raise ApiError(
                "Different request with the same idempotency key has already been processed.",
                status=409,
                source="NA",
                step="NA",
                reason="NA",
            )
        return self.store.get(conn, "refund", previous["refund_id"])

    def _new_refund(self, pay: dict, data: dict) -> dict:
        if pay["status"] == "refunded" or (pay["captured"] and pay["amount_refunded"] >= pay["amount"]):
            raise ApiError("The payment has been fully refunded already", field="payment_id")
        if pay["status"] != "captured":
            raise ApiError("Refund is not allowed for a payment that has not been captured", field="payment_id")
        remaining = pay["amount"] - pay["amount_refunded"]
        amount = v.amount(data, required=False, currency=pay["currency"]) or remaining
        if amount > remaining:
            raise ApiError("The refund amount provided is greater than amount captured", field="amount")
        speed = data.get("speed", "normal")
        if speed not in ("normal", "optimum"):
            raise ApiError("The selected speed is invalid.", field="speed")
        rfnd = ent.refund(pay, amount=amount, notes=v.notes(data), receipt=v.text(data, "receipt", 40), speed=speed)
        self._count_refund(pay, amount)
        return rfnd

    def _count_refund(self, pay: dict, delta: int) -> None:
        pay["amount_refunded"] += delta
        refunded = pay["amount_refunded"]
        pay["refund_status"] = None if refunded == 0 else ("full" if refunded >= pay["amount"] else "partial")
        pay["status"] = "refunded" if pay["refund_status"] == "full" else "captured"

    def _settle_refund(self, rfnd: dict, pay: dict, change: Change) -> dict:
        """Normal refunds are processed at once. With `pending_refunds` the API answers `pending` and the
        refund waits for `process_refund`; with `fail_refunds` it answers `pending` and then fails, giving
        the amount back to the payment."""
        faults = self.faults()
        if faults["pending_refunds"]:
            return ent.public(copy.deepcopy(rfnd))
        if faults["fail_refunds"]:
            answer = ent.public(copy.deepcopy(rfnd))
            self._fail_refund(rfnd, pay, change)
            return answer
        self._process_refund(rfnd, pay, change)
        return ent.public(copy.deepcopy(rfnd))

    def _process_refund(self, rfnd: dict, pay: dict, change: Change) -> None:
        rfnd["status"] = "processed"
        rfnd["acquirer_data"] = {"arn": str(int(time.time() * 1000))[-14:].rjust(14, "7")}
        instant = rfnd["speed_requested"] == "optimum" and not rfnd.get("_speed_changed")
        rfnd["speed_processed"] = "instant" if instant else "normal"
        change.emit("refund.processed", refund=rfnd, payment=pay)

    def _fail_refund(self, rfnd: dict, pay: dict, change: Change) -> None:
        rfnd["status"] = "failed"
        self._count_refund(pay, -rfnd["amount"])
        change.emit("refund.failed", refund=rfnd, payment=pay)

    # scenarios Razorpay produces on its own time (flask sandbox ..., the driver) ---------------------
    def process_refund(self, refund_id: str, outcome: str = "processed") -> dict:
        """A pending refund (see `pending_refunds`) completes: `processed`, or `failed` (amount given back)."""
        if outcome not in ("processed", "failed"):
            raise ApiError("The outcome must be processed or failed.", field="outcome")
        with self.change() as (conn, change):
            rfnd = self._get(conn, "refund", refund_id, lock=True)
            if rfnd["status"] != "pending":
                raise ApiError(f"The refund is already {rfnd['status']}.", field="refund_id")
            pay = self._get(conn, "payment", rfnd["payment_id"], lock=True)
            (self._process_refund if outcome == "processed" else self._fail_refund)(rfnd, pay, change)
            self.store.save(conn, rfnd)
            self.store.save(conn, pay)
        return ent.public(rfnd)

    def change_refund_speed(self, refund_id: str) -> dict:
        """An instant refund the bank cannot take falls back to normal speed: `refund.speed_changed`."""
        with self.change() as (conn, change):
            rfnd = self._get(conn, "refund", refund_id, lock=True)
            if rfnd["status"] != "pending":
                raise ApiError(f"The refund is already {rfnd['status']}.", field="refund_id")
            pay = self._get(conn, "payment", rfnd["payment_id"])
            rfnd["speed_processed"], rfnd["_speed_changed"] = "normal", True
            change.emit("refund.speed_changed", refund=rfnd, payment=pay)
            self.store.save(conn, rfnd)
        return ent.public(rfnd)

    def late_authorize(self, payment_id: str) -> dict:
        """Late authorisation: the bank confirms a payment after it was reported `failed`. It becomes
        authorized (`payment.authorized`) and, on an auto-capture order that is not yet paid, captured
        (`payment.captured`, `order.paid`). On a manual-capture or already paid order it stays authorized."""
        with self.change() as (conn, change):
            pay = self._get(conn, "payment", payment_id, lock=True)
            if pay["status"] != "failed":
                raise ApiError("Only a failed payment can be authorized late.", field="payment_id")
            order = self._get(conn, "order", pay["order_id"], lock=True)
            pay.update(dict.fromkeys(("error_code", "error_description", "error_source", "error_step", "error_reason")))
            ent.authorize(pay)
            change.emit("payment.authorized", payment=pay)
            if order.get("_capture") != "manual" and order["status"] != "paid":
                self._capture(order, pay, change)
            self.store.save(conn, pay)
            self.store.save(conn, order)
        return ent.public(pay)

    def payment_refunds(self, payment_id: str) -> dict:
        with self.store.engine.connect() as conn:
            self._get(conn, "payment", payment_id)
            return ent.collection(self.store.children(conn, "refund", payment_id))

    def payment_refund(self, payment_id: str, refund_id: str) -> dict:
        rfnd = self.fetch("refund", refund_id)
        if rfnd["payment_id"] != payment_id:
            raise not_found(refund_id)
        return rfnd

    # helpers -------------------------------------------------------------------------------------
    def _get(self, conn, kind: str, entity_id: str, *, lock: bool = False) -> dict:
        doc = self.store.get(conn, kind, entity_id, lock=lock)
        if doc is None:
            raise not_found(entity_id)
        return doc

    def sign_payment(self, order_id: str, payment_id: str) -> str:
        return payment_signature(self.key_secret, order_id, payment_id)

    def sign_payment_link(self, plink: dict, payment_id: str) -> str:
        return payment_link_signature(self.key_secret, plink["id"], plink["reference_id"], plink["status"], payment_id)
