"""The managed list of refund reasons (the code is stored; the notes carry the free text)."""

from __future__ import annotations

# Offered in the create and edit forms, in this order.
REFUND_REASONS: dict[str, str] = {
    "requested_by_customer": "Requested by the customer",
    "duplicate_payment": "Duplicate payment",
    "order_cancelled": "Order cancelled",
    "not_delivered": "Not delivered / no access to the course",
    "quality_issue": "Product or service issue",
    "goodwill": "Goodwill gesture",
    "late_payment": "Payment landed after cancellation or expiry",
    "checkout_not_completed": "Paid, but the checkout's orders could not be created",
    "other": "Other (explain in the notes)",
}
# Reasons the system records but a person does not choose.
SYSTEM_REASONS: dict[str, str] = {"gateway": "Made at the gateway"}
NOTES_REQUIRED_FOR = frozenset({"other"})


def reason_label(code: str) -> str:
    return REFUND_REASONS.get(code) or SYSTEM_REASONS.get(code) or code.replace("_", " ")
