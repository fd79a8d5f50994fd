"""Jinja filters and globals: money, dates, status badges."""

from __future__ import annotations

from datetime import datetime

from portal.money import format_money

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


def when(value: datetime | None, fmt: str = "%d %b %Y, %H:%M") -> str:
    return value.strftime(fmt) + " UTC" if value else "—"


def humanize(value) -> str:
    return str(value or "").replace("_", " ")


def register(app) -> None:
    app.jinja_env.filters.update(money=money, when=when, humanize=humanize)
    app.jinja_env.globals.update(
        status_tone=lambda s: STATUS_TONES.get(str(s), "muted"),
        has_endpoint=lambda endpoint: endpoint in app.view_functions,
    )
