"""The Razorpay implementation of the gateway port, through the official SDK — the only module that
imports `razorpay`. Talks to api.razorpay.com, to a standalone sandbox by URL, or in-process to the sandbox.

Every call has a timeout, is logged (`portal.gateway`: operation, duration, outcome) and ends in a result,
`GatewayRejected` (the gateway said no), `GatewayUnavailable` (not sent: connection refused) or
`GatewayOutcomeUnknown` (sent, then a read timeout, a 5xx or garbage: it may have taken effect).
Only reads and refunds (which carry X-Refund-Idempotency) are retried; creating an order, capturing or
creating/cancelling a link is never retried blindly, because its first attempt may have succeeded.
A 429 "Too many requests" is refused before it is carried out, so every call is retried after it, behind
a pause shared by all threads (portal/gateway/throttle.py); one that outlasts the budget is `GatewayRateLimited`.
Retries stay inside the call's budget (the session timeout): a caller waits at most about that long in all.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from urllib.parse import urlencode

import razorpay
import requests
from razorpay.errors import BadRequestError, SignatureVerificationError

from portal.gateway.base import GatewayOutcomeUnknown, GatewayRateLimited, GatewayRejected, GatewayUnavailable
from portal.gateway.throttle import Throttle
from portal.gateway.transport import TooManyRequests

log = logging.getLogger("portal.gateway")


class _Client(razorpay.Client):
    """The SDK's client, reading its own version once. The SDK looks it up in the installed package's metadata
    on every request, for the User-Agent (~0.7 ms a call: a quarter of a reconcile fetch's own cost)."""

    _version: str | None = None

    def _get_version(self) -> str:
        if _Client._version is None:
            _Client._version = super()._get_version()
        return _Client._version


class RazorpayGateway:
    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secret: str,
        base_url: str,
        session: requests.Session,
        retries: int = 2,
        backoff: float = 0.2,
        checkout_base: str | None = None,
    ):
        self.key_id = key_id
        self.webhook_secret = webhook_secret
        self.retries, self.backoff, self.checkout_base = retries, backoff, checkout_base
        self.session = session
        self.throttle = Throttle()  # one per adapter: every thread of the process backs off together
        self.client = _Client(session=session, auth=(key_id, key_secret), base_url=base_url.rstrip("/"))
        self.client.set_app_details({"title": "portal", "version": "1.0"})

    # orders -------------------------------------------------------------------------------------
    def create_order(
        self, *, amount: int, currency: str, receipt: str, notes: dict, payment_capture: bool = True
    ) -> dict:
        data = {"amount": amount, "currency": currency, "receipt": receipt, "notes": notes or {}}
        data["payment_capture"] = 1 if payment_capture else 0
        return self._call("create_order", lambda: self.client.order.create(data))

    def fetch_order(self, order_id: str) -> dict:
        return self._call("fetch_order", lambda: self.client.order.fetch(order_id), safe=True)

    def find_orders_by_receipt(self, receipt: str) -> list[dict]:
        answer = self._call("find_orders_by_receipt", lambda: self.client.order.all({"receipt": receipt}), safe=True)
        return list(answer.get("items", []))

    def fetch_order_payments(self, order_id: str) -> list[dict]:
        answer = self._call("fetch_order_payments", lambda: self.client.order.payments(order_id), safe=True)
        return list(answer.get("items", []))

    # payments -----------------------------------------------------------------------------------
    def fetch_payment(self, payment_id: str) -> dict:
        return self._call("fetch_payment", lambda: self.client.payment.fetch(payment_id), safe=True)

    def capture_payment(self, payment_id: str, amount: int, currency: str) -> dict:
        return self._call(
            "capture_payment", lambda: self.client.payment.capture(payment_id, amount, {"currency": currency})
        )

    # refunds ------------------------------------------------------------------------------------
    def refund_payment(self, payment_id: str, *, amount: int, idempotency_key: str, notes: dict | None = None) -> dict:
        data = {"amount": amount, "notes": notes or {}}
        headers = {"X-Refund-Idempotency": idempotency_key}
        # Safe to retry: Razorpay answers a replay of the same key with the refund it already made.
        return self._call(
            "refund_payment",
            lambda: self.client.payment.refund(payment_id, dict(data), headers=dict(headers)),
            safe=True,
        )

    def fetch_refund(self, refund_id: str) -> dict:
        return self._call("fetch_refund", lambda: self.client.refund.fetch(refund_id), safe=True)

    def fetch_payment_refunds(self, payment_id: str) -> list[dict]:
        answer = self._call(
            "fetch_payment_refunds", lambda: self.client.payment.fetch_multiple_refund(payment_id, {}), safe=True
        )
        return list(answer.get("items", []))

    # payment links ------------------------------------------------------------------------------
    def create_payment_link(
        self,
        *,
        amount: int,
        currency: str,
        reference_id: str,
        description: str,
        customer: dict,
        callback_url: str,
        expire_by: int | None,
        notes: dict,
    ) -> dict:
        data = {
            "amount": amount,
            "currency": currency,
            "reference_id": reference_id,
            "description": description,
            # What we do not know is left out: Razorpay takes "" as a contact/email given (and wrong).
            "customer": {key: value for key, value in (customer or {}).items() if value},
            "notify": {"sms": False, "email": False},
            "notes": notes or {},
        }
        if callback_url:
            data.update(callback_url=callback_url, callback_method="get")
        if expire_by:
            data["expire_by"] = expire_by
        return self._call("create_payment_link", lambda: self.client.payment_link.create(data))

    def fetch_payment_link(self, plink_id: str) -> dict:
        return self._call("fetch_payment_link", lambda: self.client.payment_link.fetch(plink_id), safe=True)

    def cancel_payment_link(self, plink_id: str) -> dict:
        return self._call("cancel_payment_link", lambda: self.client.payment_link.cancel(plink_id))

    # signatures (local HMAC checks: no network) -------------------------------------------------
    def verify_payment_signature(self, order_id: str, payment_id: str, signature: str) -> bool:
        params = {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}
        return self._verify(lambda: self.client.utility.verify_payment_signature(params))

    def verify_payment_link_signature(
        self, plink_id: str, reference_id: str, status: str, payment_id: str, signature: str
    ) -> bool:
        params = {
            "payment_link_id": plink_id,
            "payment_link_reference_id": reference_id or "",
            "payment_link_status": status,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": signature,
        }
        return self._verify(lambda: self.client.utility.verify_payment_link_signature(params))

    def verify_webhook_signature(self, body: bytes, signature: str) -> bool:
        if not signature or not self.webhook_secret:
            return False
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return self._verify(lambda: self.client.utility.verify_webhook_signature(text, signature, self.webhook_secret))

    def checkout_url(self, gateway_order_id: str, prefill: dict | None = None) -> str | None:
        if not self.checkout_base:
            return None
        # Razorpay's hosted checkout takes the customer as prefill[name|email|contact]; unknown ones are left out.
        query = urlencode({f"prefill[{key}]": value for key, value in (prefill or {}).items() if value})
        return f"{self.checkout_base}/sandbox/checkout/{gateway_order_id}" + (f"?{query}" if query else "")

    # plumbing -----------------------------------------------------------------------------------
    def _verify(self, check: Callable[[], bool]) -> bool:
        try:
            return bool(check())
        except (SignatureVerificationError, TypeError, ValueError, KeyError):
            return False

    def _call(self, operation: str, call: Callable[[], dict], *, safe: bool = False) -> dict:
        deadline = time.monotonic() + self.session.default_timeout  # the whole call's budget, retries included
        attempt = failures = 0
        while True:
            attempt += 1
            if not self.throttle.wait(deadline):
                raise GatewayRateLimited("the gateway is rate limiting us (429 Too many requests)")
            started = time.monotonic()
            try:
                with self.session.budget(deadline):
                    result = call()
            except Exception as exc:
                failure = _translate(exc)
                _log(operation, started, attempt, type(failure).__name__, str(failure))
                failures += not isinstance(failure, GatewayRateLimited)
                pause = self._pause(failure, failures if safe else self.retries + 1, started)
                if pause is None or time.monotonic() + pause >= deadline:
                    raise failure from exc
                time.sleep(pause)
                continue
            self.throttle.succeeded()
            _log(operation, started, attempt, "ok", "")
            return _as_dict(result)

    def _pause(self, failure: Exception, failures: int, sent_at: float) -> float | None:
        """How long to wait before trying again, or None to give up. A 429 was refused before it was carried
        out, so any call may be sent again (after the shared pause, which `wait` sleeps out); other failures
        only for calls safe to repeat, `retries` times."""
        if isinstance(failure, GatewayRateLimited):
            self.throttle.rate_limited(sent_at)
            return 0.0
        if isinstance(failure, GatewayRejected) or failures > self.retries:
            return None
        return self.backoff * 2 ** (failures - 1)


def _translate(exc: Exception) -> GatewayRejected | GatewayUnavailable:
    """The gateway said no; the request never left (connect failed); or it left and the answer is lost."""
    if isinstance(exc, TooManyRequests):
        return GatewayRateLimited("the gateway answered 429 Too many requests")
    if isinstance(exc, BadRequestError):
        return GatewayRejected(str(exc) or "The gateway refused the request")
    if isinstance(exc, razorpay.errors.ServerError | razorpay.errors.GatewayError):
        return GatewayOutcomeUnknown(f"gateway error: {exc}")
    if isinstance(exc, requests.ConnectTimeout | requests.ConnectionError):  # before a byte of the request
        return GatewayUnavailable(f"gateway unreachable: {type(exc).__name__}")
    if isinstance(exc, requests.Timeout):
        return GatewayOutcomeUnknown("gateway timed out after the request was sent")
    if isinstance(exc, requests.RequestException | ValueError):  # a broken or non-JSON answer (an HTML 503)
        return GatewayOutcomeUnknown(f"gateway answered garbage: {type(exc).__name__}")
    log.exception("unexpected failure talking to the gateway")
    return GatewayOutcomeUnknown(f"unexpected gateway failure: {type(exc).__name__}")


def _as_dict(result) -> dict:
    if isinstance(result, str):  # the SDK turns a 204 into the string '{}'
        result = json.loads(result)
    if not isinstance(result, dict):
        raise GatewayUnavailable("gateway answered something that is not a JSON object")
    return result


def _log(operation: str, started: float, attempt: int, outcome: str, detail: str) -> None:
    ms = (time.monotonic() - started) * 1000
    # A 429 is retried behind the shared pause: expected under load, not a fault worth a warning each time.
    level = logging.INFO if outcome in ("ok", "GatewayRejected", "GatewayRateLimited") else logging.WARNING
    log.log(
        level,
        "gateway %s attempt=%d outcome=%s duration_ms=%.1f %s",
        operation,
        attempt,
        outcome,
        ms,
        detail,
        extra={"gateway_operation": operation, "gateway_outcome": outcome, "duration_ms": round(ms, 1)},
    )
