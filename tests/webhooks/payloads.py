"""Razorpay-shaped webhook bodies (envelopes as in the official docs' samples), signed like Razorpay signs them."""

from __future__ import annotations

import hmac
import itertools
import json
import time
from hashlib import sha256

_seq = itertools.count(1)
ACCOUNT = "acc_BFQ7uQEaa7j2z7"


def new_event_id() -> str:
    return f"Ev{next(_seq):012d}"


def envelope(event: str, **entities) -> dict:
    return {
        "entity": "event",
        "account_id": ACCOUNT,
        "event": event,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": int(time.time()),
    }


def body_of(data: dict) -> bytes:
    return json.dumps(data, indent=2).encode()


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, sha256).hexdigest()


def payment(order, status: str = "captured", pay_id: str | None = None, **fields) -> dict:
    entity = {
        "id": pay_id or f"pay_W{next(_seq):013d}",
        "entity": "payment",
        "amount": order.total,
        "currency": order.currency,
        "status": status,
        "order_id": order.gateway_order_id,
        "invoice_id": None,
        "international": False,
        "method": "upi",
        "amount_refunded": 0,
        "refund_status": None,
        "captured": status == "captured",
        "description": f"Order {order.number}",
        "vpa": "gaurav.kumar@exampleupi",
        "email": order.customer.email,
        "contact": "+919876543210",
        "notes": [],
        "fee": 236 if status == "captured" else None,
        "tax": 36 if status == "captured" else None,
        "error_code": None,
        "error_description": None,
        "created_at": int(time.time()),
    }
    if status == "failed":
        entity.update(
            error_code="BAD_REQUEST_ERROR",
            error_description="Payment failed",
            error_source="bank",
            error_step="payment_authorization",
            error_reason="payment_failed",
        )
    entity.update(fields)
    return entity


def refund(payment_entity: dict, status: str = "processed", amount: int | None = None, **fields) -> dict:
    entity = {
        "id": fields.pop("id", f"rfnd_W{next(_seq):012d}"),
        "entity": "refund",
        "amount": amount if amount is not None else payment_entity["amount"],
        "currency": payment_entity["currency"],
        "payment_id": payment_entity["id"],
        "notes": [],
        "receipt": None,
        "acquirer_data": {"arn": None},
        "created_at": int(time.time()),
        "batch_id": None,
        "status": status,
        "speed_processed": "normal",
        "speed_requested": "normal",
    }
    entity.update(fields)
    return entity


def gateway_order(order, status: str = "paid") -> dict:
    paid = order.total if status == "paid" else 0
    return {
        "id": order.gateway_order_id,
        "entity": "order",
        "amount": order.total,
        "amount_paid": paid,
        "amount_due": order.total - paid,
        "currency": order.currency,
        "receipt": order.receipt,
        "offer_id": None,
        "status": status,
        "attempts": 1,
        "notes": [],
        "created_at": int(time.time()),
    }


def payment_link(plink_id: str, order, status: str = "paid", gateway_order_id: str = "order_PlinkOrder0001") -> dict:
    return {
        "id": plink_id,
        "amount": order.total,
        "amount_paid": order.total if status == "paid" else 0,
        "currency": order.currency,
        "accept_partial": False,
        "description": f"Order {order.number}",
        "reference_id": order.number,
        "order_id": gateway_order_id,
        "status": status,
        "short_url": f"https://rzp.io/i/{plink_id[-7:]}",
        "expire_by": 0,
        "expired_at": int(time.time()) if status == "expired" else 0,
        "cancelled_at": int(time.time()) if status == "cancelled" else 0,
        "created_at": int(time.time()),
        "updated_at": int(time.time()),
    }


def dispute(payment_entity: dict, status: str = "open", dispute_id: str = "disp_W0000000000001") -> dict:
    return {
        "id": dispute_id,
        "entity": "dispute",
        "payment_id": payment_entity["id"],
        "amount": payment_entity["amount"],
        "currency": payment_entity["currency"],
        "amount_deducted": 0,
        "reason_code": "chargeback",
        "respond_by": int(time.time()) + 7 * 86400,
        "status": status,
        "phase": "chargeback",
        "created_at": int(time.time()),
    }
