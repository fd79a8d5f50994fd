"""Figures for the dashboard.

Every figure is answered from an index range over a bounded window (today, 7 and 30 days) or over a
small status (pending refunds, failed webhooks), so the dashboard costs the same at a thousand
orders and at a million: no statement here reads the whole orders or payments table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, literal, select, union_all

from portal.extensions import db
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.notifications.queries import failed_messages
from portal.orders.models import Order
from portal.orders.status import OrderStatus
from portal.payments.models import Payment
from portal.payments.status import SETTLED, PaymentStatus
from portal.refunds.invariants import over_refunded_payments
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus
from portal.timeutil import day_start_utc, local_day_sql, local_today, utcnow
from portal.webhooks.models import WebhookEvent, WebhookStatus

WINDOWS = (("today", 1), ("7 days", 7), ("30 days", 30))
CHART_DAYS = 30
STUCK_REFUND_AFTER = timedelta(hours=1)
INVOICE_GRACE = timedelta(minutes=15)  # auto-invoicing runs right after payment; give it a moment
# The anti-join costs one index probe per paid order in the window: a week keeps it bounded, and
# `flask invoices generate --missing` sweeps anything older.
INVOICE_WINDOW = timedelta(days=7)
ATTENTION_ROWS = 5
ATTENTION_CAP = 100
SETTLED_STATES = [str(s) for s in SETTLED]


def day_start(days_back: int, today: date | None = None) -> datetime:
    """Local midnight (TIMEZONE) `days_back` days before today (0 = today), as the naive UTC we store."""
    return day_start_utc((today or local_today()) - timedelta(days=days_back))


def _by_day(rows) -> dict[str, int]:
    return {str(day)[:10]: int(value or 0) for day, value in rows}


def orders_by_status_and_day(since: datetime) -> list[tuple[str, str, int]]:
    """(status, day, orders) since `since`: one (status, created_at) index-only range per status arm, so
    one pass gives both the orders-per-day chart and the orders-by-status table."""
    day = local_day_sql(Order.created_at)
    arms = [
        select(literal(str(s)).label("status"), day.label("day"), func.count().label("n"))
        .where(Order.status == str(s), Order.created_at >= since)
        .group_by(day)
        for s in OrderStatus
    ]
    return [(status, str(d)[:10], int(n)) for status, d, n in db.session.execute(union_all(*arms))]


def daily_revenue(since: datetime) -> dict[str, int]:
    """Captured minus refunded, per local day (TIMEZONE) of capture, in minor units."""
    day = local_day_sql(Payment.captured_at)
    query = (
        select(day, func.sum(Payment.amount - Payment.amount_refunded))
        .where(Payment.captured_at >= since, Payment.status.in_(SETTLED_STATES))
        .group_by(day)
    )
    return _by_day(db.session.execute(query))


def status_counts(model, statuses, since: datetime) -> dict[str, int]:
    """{status: rows created since `since`} — one statement, one (status, created_at) index range per arm."""
    arms = [
        select(literal(str(s)).label("status"), func.count().label("n"))
        .select_from(model)
        .where(model.status == str(s), model.created_at >= since)
        for s in statuses
    ]
    return {status: int(n) for status, n in db.session.execute(union_all(*arms))}


def success_rate(counts: dict[str, int]) -> float | None:
    """Share of finished payment attempts that captured money (in-flight attempts are left out)."""
    settled = sum(counts.get(s, 0) for s in SETTLED_STATES)
    finished = settled + counts.get(PaymentStatus.FAILED, 0)
    return round(100 * settled / finished, 1) if finished else None


@dataclass
class Series:
    days: list[str] = field(default_factory=list)
    revenue: list[int] = field(default_factory=list)
    orders: list[int] = field(default_factory=list)


def series(orders: dict[str, int], since_days: int = CHART_DAYS) -> Series:
    since = day_start(since_days - 1)
    revenue = daily_revenue(since)
    out = Series()
    first = local_today() - timedelta(days=since_days - 1)
    for n in range(since_days):
        key = (first + timedelta(days=n)).isoformat()
        out.days.append(key)
        out.revenue.append(revenue.get(key, 0))
        out.orders.append(orders.get(key, 0))
    return out


def window_totals(values: list[int]) -> dict[str, int]:
    """Sums over the last 1 / 7 / 30 entries of a per-day series."""
    return {label: sum(values[-days:]) for label, days in WINDOWS}


def _count(query, cap: int = ATTENTION_CAP) -> int:
    """Rows of `query`, counted up to cap + 1 (shown as "100+"): the panel needs "how bad", not a census."""
    return int(db.session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0)


def attention() -> dict:
    """The 'needs attention' panel: a few rows and a count of each kind of trouble."""
    now = utcnow()
    late = select(Order).where(Order.needs_refund.is_(True))
    failed_hooks = select(WebhookEvent).where(WebhookEvent.status == WebhookStatus.FAILED)
    stuck = select(Refund).where(Refund.status == RefundStatus.PENDING, Refund.created_at < now - STUCK_REFUND_AFTER)
    no_invoice = select(Order).where(
        Order.status == OrderStatus.PAID,
        Order.created_at >= now - INVOICE_WINDOW,
        Order.created_at < now - INVOICE_GRACE,
        ~select(Invoice.id).where(Invoice.order_id == Order.id).exists(),
    )
    return {
        "late_payments": _panel(late, Order.created_at),
        "failed_webhooks": _panel(failed_hooks, WebhookEvent.received_at),
        "stuck_refunds": _panel(stuck, Refund.created_at),
        "paid_without_invoice": _panel(no_invoice, Order.created_at),
        "over_refunded": _panel(over_refunded_payments(), Payment.updated_at),
        "failed_messages": _panel(failed_messages(), OutboxMessage.created_at),
    }


def _panel(query, newest_first) -> dict:
    rows = db.session.scalars(query.order_by(newest_first.desc()).limit(ATTENTION_ROWS)).unique().all()
    total = len(rows) if len(rows) < ATTENTION_ROWS else _count(query)
    return {"rows": rows, "count": total}


def pending_refunds() -> dict:
    count, amount = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Refund.amount), 0)).where(Refund.status == RefundStatus.PENDING)
    ).one()
    return {"count": int(count), "amount": int(amount)}


def failed_webhooks() -> int:
    return int(
        db.session.scalar(select(func.count()).where(WebhookEvent.status == WebhookStatus.FAILED))
        or 0  # the (status, received_at) index answers this
    )


def summary() -> dict:
    """Everything the dashboard shows, in about a dozen bounded statements."""
    since = day_start(CHART_DAYS - 1)
    by_status = {str(s): 0 for s in OrderStatus}
    by_day: dict[str, int] = {}
    for status, day, n in orders_by_status_and_day(since):
        by_status[status] += n
        by_day[day] = by_day.get(day, 0) + n
    chart = series(by_day)
    payments = status_counts(Payment, list(PaymentStatus), since)
    return {
        "series": chart,
        "orders": window_totals(chart.orders),
        "revenue": window_totals(chart.revenue),
        "orders_by_status": by_status,
        "attention_cap": ATTENTION_CAP,
        "payments_by_status": payments,
        "success_rate": success_rate(payments),
        "pending_refunds": pending_refunds(),
        "failed_webhooks": failed_webhooks(),
        "attention": attention(),
    }
