"""Builders for Razorpay-shaped documents (see razorpay-reference.md §2 for the field sets)."""

from __future__ import annotations

import time

from portal.sandbox.store import new_id
from portal.timeutil import unix_now

METHOD_DETAILS = {
    "card": {
        "card_id": None,
        "card": {
            "entity": "card",
            "name": "Gaurav Kumar",
            "last4": "1111",
            "network": "Visa",
            "type": "credit",
            "issuer": "HDFC",
            "international": False,
            "emi": False,
            "sub_type": "consumer",
        },
    },
    "upi": {
        "vpa": "gaurav.kumar@exampleupi",
        "upi": {"payer_account_type": "bank_account", "vpa": "gaurav.kumar@exampleupi", "flow": "collect"},
    },
    "netbanking": {"bank": "HDFC"},
    "wallet": {"wallet": "payzapp"},
}
METHODS = tuple(METHOD_DETAILS)
SAMPLE_EMAIL, SAMPLE_CONTACT = "gaurav.kumar@example.com", "+919000090000"  # Razorpay's docs' sample customer

FAILURES = {
    "card": ("Payment failed because the card was declined", "card_declined"),
    "upi": ("Payment failed because the UPI PIN entered was incorrect", "incorrect_pin"),
    "netbanking": ("Payment was unsuccessful as the bank could not process it", "payment_failed"),
    "wallet": ("Payment failed because the wallet balance was insufficient", "insufficient_balance"),
}


def ts() -> int:
    return int(unix_now())  # the portal's clock: the demo seed plays history in the past


def order(*, amount: int, currency: str, receipt: str | None, notes, capture: str, partial: bool) -> dict:
    return {
        "id": new_id("order"),
        "entity": "order",
        "amount": amount,
        "amount_paid": 0,
        "amount_due": amount,
        "currency": currency,
        "receipt": receipt,
        "offer_id": None,
        "status": "created",
        "attempts": 0,
        "notes": notes,
        "created_at": ts(),
        "_partial_payment": partial,
        # Not part of Razorpay's order body; kept under a private key and stripped on output.
        "_capture": capture,
    }


def payment(order_doc: dict, method: str, *, email: str, contact: str) -> dict:
    doc = {
        "id": new_id("pay"),
        "entity": "payment",
        "amount": order_doc["amount_due"],
        "currency": order_doc["currency"],
        "status": "created",
        "order_id": order_doc["id"],
        "invoice_id": None,
        "international": False,
        "method": method,
        "amount_refunded": 0,
        "refund_status": None,
        "captured": False,
        "description": order_doc.get("_description") or "Sandbox payment",
        "card_id": None,
        "bank": None,
        "wallet": None,
        "vpa": None,
        "email": email,
        "contact": contact,
        "notes": order_doc["notes"],
        "fee": None,
        "tax": None,
        "error_code": None,
        "error_description": None,
        "error_source": None,
        "error_step": None,
        "error_reason": None,
        "acquirer_data": {},
        "created_at": ts(),
    }
    doc.update(METHOD_DETAILS[method])
    return doc


def authorize(pay: dict) -> None:
    pay["status"] = "authorized"
    pay["acquirer_data"] = {"rrn": str(100000000000 + int(time.time() * 1000) % 899999999999)}


def capture(pay: dict) -> None:
    """Captured: fee is 2 % of the amount and includes 18 % GST (as Razorpay reports them)."""
    pay["status"] = "captured"
    pay["captured"] = True
    pay["fee"] = round(pay["amount"] * 0.02)
    pay["tax"] = round(pay["fee"] * 18 / 118)


def fail(pay: dict) -> None:
    description, reason = FAILURES[pay["method"]]
    pay.update(
        status="failed",
        error_code="BAD_REQUEST_ERROR",
        error_description=description,
        error_source="bank" if pay["method"] != "upi" else "customer",
        error_step="payment_authorization",
        error_reason=reason,
    )


def refund(pay: dict, *, amount: int, notes, receipt: str | None, speed: str) -> dict:
    return {
        "id": new_id("rfnd"),
        "entity": "refund",
        "amount": amount,
        "currency": pay["currency"],
        "payment_id": pay["id"],
        "notes": notes,
        "receipt": receipt,
        "acquirer_data": {"arn": None},
        "created_at": ts(),
        "batch_id": None,
        "status": "pending",
        "speed_processed": "normal",
        "speed_requested": speed,
    }


def payment_link(data: dict, *, amount: int, currency: str, notes, base_url: str) -> dict:
    plink_id = new_id("plink")
    now = ts()
    return {
        "id": plink_id,
        "amount": amount,
        "amount_paid": 0,
        "currency": currency,
        "accept_partial": bool(data.get("accept_partial", False)),
        "first_min_partial_amount": int(data.get("first_min_partial_amount") or 0),
        "description": data.get("description") or "",
        "reference_id": data.get("reference_id") or "",
        "customer": data.get("customer") or {},
        "notify": data.get("notify") or {"email": False, "sms": False},
        "reminder_enable": bool(data.get("reminder_enable", False)),
        "reminders": [],
        "notes": notes or None,
        "order_id": "",
        "payments": None,
        "short_url": f"{base_url}/sandbox/pay/{plink_id}",
        "status": "created",
        "upi_link": bool(data.get("upi_link", False)),
        "user_id": "",
        "callback_url": data.get("callback_url") or "",
        "callback_method": data.get("callback_method") or "",
        "expire_by": int(data.get("expire_by") or 0),
        "expired_at": 0,
        "cancelled_at": 0,
        "created_at": now,
        "updated_at": now,
    }


def public(doc: dict | None) -> dict | None:
    """The document as the API shows it: without the sandbox's private `_` keys."""
    if doc is None:
        return None
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def collection(items: list[dict]) -> dict:
    return {"entity": "collection", "count": len(items), "items": [public(i) for i in items]}
