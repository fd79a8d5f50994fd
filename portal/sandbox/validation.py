"""Request validation with Razorpay's rules and (Laravel-style) messages."""

from __future__ import annotations

import re

from portal.sandbox.errors import ApiError

CURRENCIES = {"INR", "USD", "EUR", "GBP", "SGD", "AED", "AUD", "CAD", "MYR", "JPY"}
MAX_NOTES, MAX_NOTE_LENGTH = 15, 256
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]+$")
CONTACT = re.compile(r"^\+?[0-9]{8,15}$")


def reject_unknown(data: dict, allowed: set[str]) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ApiError(f"{', '.join(extra)} is/are not required and should not be sent", field=extra[0])


def amount(data: dict, *, required: bool = True, minimum: int = 100, currency: str = "INR") -> int | None:
    """An integer amount in subunits; digit-only strings are accepted as the live API does."""
    value = data.get("amount")
    if value is None:
        if required:
            raise ApiError("The amount field is required.", field="amount")
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError("The amount must be an integer.", field="amount")
    if value < minimum:
        raise ApiError(f"The amount must be at least {currency} {minimum / 100:.2f}", field="amount")
    return value


def currency(data: dict, *, required: bool = True, default: str = "INR") -> str:
    value = data.get("currency")
    if value is None:
        if required:
            raise ApiError("The currency field is required.", field="currency")
        return default
    if not isinstance(value, str) or value.upper() not in CURRENCIES:
        raise ApiError("The currency is invalid.", field="currency")
    return value.upper()


def text(data: dict, name: str, max_length: int) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(f"The {name} must be a string.", field=name)
    if len(value) > max_length:
        raise ApiError(f"The {name} may not be greater than {max_length} characters.", field=name)
    return value


def notes(data: dict) -> dict | list:
    """At most 15 pairs, each value at most 256 characters; empty notes come back as `[]`."""
    value = data.get("notes")
    if value in (None, [], {}):
        return []
    if not isinstance(value, dict):
        raise ApiError("The notes must be an array.", field="notes")
    if len(value) > MAX_NOTES:
        raise ApiError(f"Number of notes must not be greater than {MAX_NOTES}", field="notes")
    for key, note in value.items():
        if not isinstance(note, str | int | float) or isinstance(note, bool):
            raise ApiError(f"notes.{key} must be a string", field="notes")
        if len(str(note)) > MAX_NOTE_LENGTH:
            raise ApiError(f"notes.{key}: the length must not be greater than {MAX_NOTE_LENGTH}.", field="notes")
    return value


def idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < 10:
        raise ApiError("The idempotency key must be at least 10 characters long.", source="NA", step="NA", reason="NA")
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiError(
            "The idempotency key must only contain alphanumeric characters, underscores, and hyphens",
            source="NA",
            step="NA",
            reason="NA",
        )
    return value


def capture_mode(data: dict) -> str:
    """`automatic` (the account default) or `manual`, from `payment.capture` or legacy `payment_capture`."""
    payment = data.get("payment")
    if payment is not None:
        if not isinstance(payment, dict) or payment.get("capture") not in ("automatic", "manual"):
            raise ApiError("The payment.capture field must be automatic or manual.", field="payment")
        return payment["capture"]
    legacy = data.get("payment_capture")
    if legacy is None:
        return "automatic"
    if legacy in (0, "0", False, "false"):
        return "manual"
    if legacy in (1, "1", True, "true"):
        return "automatic"
    raise ApiError("The payment capture field is invalid.", field="payment_capture")


def page(params: dict) -> tuple[int, int]:
    """`count` (default 10, at most 100) and `skip` (default 0) of a list request."""
    count, skip = _whole(params, "count", 10), _whole(params, "skip", 0)
    if count > 100:
        raise ApiError("The count may not be greater than 100.", field="count")
    return count, skip


def moment(params: dict, name: str) -> int | None:
    """A `from`/`to` unix timestamp filter, when given."""
    return _whole(params, name, None)


def _whole(params: dict, name: str, default: int | None) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return default
    if not str(value).isdigit():
        raise ApiError(f"The {name} must be an integer.", field=name)
    return int(value)


def customer_email(value: str | None) -> str | None:
    """The email a customer gives at checkout (empty: none given)."""
    value = (value or "").strip()
    if value and not EMAIL.match(value):
        raise ApiError("The email must be a valid email address.", field="email")
    return value or None


def customer_contact(value: str | None) -> str | None:
    """The phone a customer gives at checkout: 8 to 15 digits, optionally after `+` (spaces and dashes dropped)."""
    value = re.sub(r"[\s-]", "", value or "")
    if value and not CONTACT.match(value):
        raise ApiError("The contact must be a valid phone number.", field="contact")
    return value or None
