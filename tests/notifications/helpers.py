"""Small helpers for the outbox tests: queue a test message, read a row fresh, a kind that fails to render."""

from __future__ import annotations

import itertools
from contextlib import contextmanager

from portal.extensions import db
from portal.notifications.kinds import KINDS, Kind, register
from portal.notifications.models import Audience, OutboxMessage
from portal.notifications.outbox import queue_message

_seq = itertools.count(1)


def queue_test_message(to: str = "ops@shop.test", commit: bool = True, **fields) -> int:
    """A committed test_message row (its send job runs at commit in immediate mode); its id."""
    message = queue_message(
        "test_message", to=to, key=f"test:{next(_seq)}", audience=Audience.STAFF, context={"requested_by": "a test"}
    )
    for name, value in fields.items():
        setattr(message, name, value)
    db.session.flush()
    message_id = message.id
    if commit:
        db.session.commit()
    return message_id


def fresh(message_id: int) -> OutboxMessage:
    """The row as the database has it now."""
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


@contextmanager
def registered(kind: Kind):
    """`kind` registered for the block only (a kind of the same name comes back afterwards)."""
    previous = KINDS.get(kind.name)
    register(kind)
    try:
        yield kind
    finally:
        if previous is None:
            KINDS.pop(kind.name, None)
        else:
            register(previous)


def stored_message(to: str = "ops@shop.test", **fields) -> int:
    """A queued row written directly (no job enqueued: as if its enqueue was lost); its id."""
    message = OutboxMessage(
        idempotency_key=f"stored:{next(_seq)}",
        kind=fields.pop("kind", "test_message"),
        audience=fields.pop("audience", Audience.STAFF),
        recipient=to,
        **fields,
    )
    db.session.add(message)
    db.session.commit()
    return message.id
