"""Jinja filters and globals: money, dates (in the business's TIMEZONE), status badges."""

from __future__ import annotations

from datetime import datetime

from portal.money import format_money
from portal.refunds.reasons import reason_label
from portal.timeutil import to_local

STATUS_TONES = {
    "paid": "ok",
    "captured": "ok",
    "processed": "ok",
    "issued": "ok",
    "delivered": "ok",
    "pending": "wait",
    "created": "wait",
    "authorized": "wait",
    "processing": "wait",
    "unfulfilled": "wait",
    "shipped": "wait",
    "draft": "wait",
    "open": "wait",
    "failed": "bad",
    "cancelled": "muted",
    "expired": "muted",
    "void": "muted",
    "ignored": "muted",
    "partially_refunded": "info",
    "refunded": "info",
    "not_required": "muted",
}


def money(amount, currency="INR") -> str:
    return format_money(amount, currency or "INR")


def when(value: datetime | None, fmt: str = "%d %b %Y, %H:%M %Z") -> str:
    """A stored (naive UTC) time in the business's zone, e.g. '01 Apr 2026, 05:30 IST'."""
    return to_local(value).strftime(fmt) if value else "—"


def isotime(value: datetime | None) -> str:
    """The machine-readable form for <time datetime>: local time with its offset (2026-04-01T05:30:00+05:30)."""
    return to_local(value).isoformat() if value else ""


def humanize(value) -> str:
    return str(value or "").replace("_", " ")


def register(app) -> None:
    app.jinja_env.filters.update(money=money, when=when, isotime=isotime, humanize=humanize, refund_reason=reason_label)
    app.jinja_env.globals.update(
        status_tone=lambda s: STATUS_TONES.get(str(s), "muted"),
        has_endpoint=lambda endpoint: endpoint in app.view_functions,
    )
