"""Reading the webhook log: filters from the query string, pagination and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select

from portal.extensions import db
from portal.inputs import db_int
from portal.listing import NumberedPage, clamped_int, day_range_clauses, lenient_date, numbered_page
from portal.timeutil import to_local
from portal.webhooks.models import WebhookEvent, WebhookStatus

PER_PAGE = 25
MAX_PER_PAGE = 100
CSV_COLUMNS = (
    "id",
    "event_id",
    "event_type",
    "status",
    "received_at",
    "processed_at",
    "attempts",
    "gateway_order_id",
    "gateway_payment_id",
    "order_id",
    "payment_id",
    "outcome",
    "last_error",
)


@dataclass(frozen=True)
class Filters:
    status: str = ""
    type: str = ""
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "").strip()
        return cls(
            status=status if status in set(WebhookStatus) else "",
            type=args.get("type", "").strip()[:60],
            q=args.get("q", "").strip()[:80],
            date_from=lenient_date(args.get("from")),
            date_to=lenient_date(args.get("to")),
            page=clamped_int(args.get("page"), 1, 1, 100000),
            per_page=clamped_int(args.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE),
        )

    def args(self, **changes) -> dict:
        """The query string of this filter (for links that keep it), with `changes` applied."""
        values = {
            "status": self.status,
            "type": self.type,
            "q": self.q,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "page": self.page if self.page > 1 else "",
            "per_page": self.per_page if self.per_page != PER_PAGE else "",
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


def filtered(filters: Filters):
    query = select(WebhookEvent)
    if filters.status:
        query = query.where(WebhookEvent.status == filters.status)
    if filters.type:
        query = query.where(WebhookEvent.event_type == filters.type)
    query = query.where(*day_range_clauses(WebhookEvent.received_at, filters.date_from, filters.date_to))
    if filters.q:
        q = filters.q
        matches = [
            WebhookEvent.event_id == q,
            WebhookEvent.gateway_payment_id == q,
            WebhookEvent.gateway_order_id == q,
        ]
        number = db_int(q)  # None for ≥ 2^31: PostgreSQL would raise "integer out of range"
        if number is not None:
            matches += [WebhookEvent.order_id == number, WebhookEvent.payment_id == number, WebhookEvent.id == number]
        query = query.where(or_(*matches))
    return query


def list_events(filters: Filters) -> NumberedPage:
    """One page of the filtered log, newest first."""
    order = (WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
    return numbered_page(filtered(filters), order, filters.page, filters.per_page)


def event_types() -> list[str]:
    """Types present in the log (for the filter's choices)."""
    return list(db.session.scalars(select(WebhookEvent.event_type).distinct().order_by(WebhookEvent.event_type)))


def _cell(value) -> str:
    if isinstance(value, datetime):  # stored naive UTC → the business's local time with its offset
        value = to_local(value).isoformat(sep=" ", timespec="seconds")
    text = "" if value is None else str(value)
    # A cell that starts like a formula is neutralised so a spreadsheet never evaluates it.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(filters: Filters) -> Iterator[str]:
    """The whole filtered log as CSV lines (not paginated), newest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = filtered(filters).order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
    for row in db.session.scalars(query.execution_options(yield_per=500)):
        writer.writerow([_cell(getattr(row, column)) for column in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def pretty_payload(row: WebhookEvent) -> str:
    try:
        return json.dumps(json.loads(row.payload), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return row.payload
