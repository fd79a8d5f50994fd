"""Reading the outbox: the list's filters from the query string, one page of messages, an order's messages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db
from portal.inputs import db_int
from portal.listing import NumberedPage, clamped_int, numbered_page
from portal.notifications.kinds import KINDS, label_for
from portal.notifications.models import MessageStatus, OutboxMessage

PER_PAGE = 25
MAX_PER_PAGE = 100
ORDER_MESSAGES_LIMIT = 50


@dataclass(frozen=True)
class Filters:
    status: str = ""
    kind: str = ""
    recipient: str = ""
    order: int | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "").strip()
        return cls(
            status=status if status in set(MessageStatus) else "",
            kind=args.get("kind", "").strip()[:40],
            recipient=args.get("recipient", "").strip()[:255],
            order=db_int(args.get("order", "").strip()),  # None for anything not a storable id
            page=clamped_int(args.get("page"), 1, 1, 100000),
            per_page=clamped_int(args.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE),
        )

    def args(self, **changes) -> dict:
        """The query string of this filter (for links that keep it), with `changes` applied."""
        values = {
            "status": self.status,
            "kind": self.kind,
            "recipient": self.recipient,
            "order": self.order or "",
            "page": self.page if self.page > 1 else "",
            "per_page": self.per_page if self.per_page != PER_PAGE else "",
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value not in ("", None)}


def filtered(filters: Filters):
    query = select(OutboxMessage)
    if filters.status:
        query = query.where(OutboxMessage.status == filters.status)
    if filters.kind:
        query = query.where(OutboxMessage.kind == filters.kind)
    if filters.recipient:
        query = query.where(OutboxMessage.recipient == filters.recipient)
    if filters.order is not None:
        query = query.where(OutboxMessage.order_id == filters.order)
    return query


def list_messages(filters: Filters) -> NumberedPage:
    """One page of the filtered outbox, newest first."""
    order = (OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return numbered_page(filtered(filters), order, filters.page, filters.per_page)


def kind_choices() -> list[tuple[str, str]]:
    """(name, label) of every registered kind and of any kind present in the table, for the filter."""
    present = set(db.session.scalars(select(OutboxMessage.kind).distinct()))
    names = sorted(set(KINDS) | present)
    return [(name, label_for(name)) for name in names]


def order_messages(order_id: int) -> list[OutboxMessage]:
    """The messages about one order, newest first (the order page's list)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.order_id == order_id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(ORDER_MESSAGES_LIMIT)
    )
    return list(db.session.scalars(query))


def failed_messages():
    """The needs-attention panel's query: messages that gave up."""
    return select(OutboxMessage).where(OutboxMessage.status == MessageStatus.FAILED)
