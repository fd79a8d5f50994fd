"""Counting rejected deliveries: one row per day and reason, so a flood of forgeries adds no rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.timeutil import utcnow
from portal.webhooks.models import WebhookRejection

REASONS = {
    "missing_signature": "no X-Razorpay-Signature header",
    "bad_signature": "signature did not match",
    "malformed": "signed, but not a Razorpay event (unreadable or too deeply nested JSON, or a bad event id)",
    "too_large": "body too large",
}


def count_rejection(reason: str) -> None:
    """Add one to today's counter for `reason` with an atomic upsert (safe under concurrent floods)."""
    now = utcnow()
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(WebhookRejection).values(day=now.date(), reason=reason, count=1, last_seen_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "reason"],
        set_={"count": WebhookRejection.count + 1, "last_seen_at": now},
    )
    try:
        db.session.execute(statement)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def recent_rejections(days: int = 14) -> list[WebhookRejection]:
    """The counters of the last `days` days, newest first (what ops sees on the webhook log)."""
    since = (utcnow() - timedelta(days=days)).date()
    query = select(WebhookRejection).where(WebhookRejection.day >= since)
    return list(db.session.scalars(query.order_by(WebhookRejection.day.desc(), WebhookRejection.reason)))
