"""Enqueue after commit: a job about a change is sent only once the change is in the database.

`enqueue(task, *args)` inside a transaction holds the job on the session until it commits (and drops it on
rollback), so a worker never looks for a row that is not committed yet, and a rolled-back change queues
nothing. Outside a transaction it is sent at once. A failed send (Redis down) is logged, never raised: the
rows the job is about (webhook events, outbox messages) are the source of truth, and a periodic sweep
re-enqueues whatever nobody picked up.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)
PENDING = "portal.jobs.after_commit"


def enqueue(task, *args, **kwargs) -> None:
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(PENDING, []).append((task, args, kwargs))
    else:
        send(task, args, kwargs)


def send(task, args, kwargs) -> bool:
    try:
        task(*args, **kwargs)
    except Exception:  # the queue is an accelerator; the sweep finds what was not sent
        log.warning("could not enqueue %s%r; the periodic sweep will pick it up", task.name, args, exc_info=True)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _send_pending(session) -> None:
    for task, args, kwargs in session.info.pop(PENDING, ()):
        send(task, args, kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session, previous_transaction) -> None:
    if previous_transaction.parent is None and previous_transaction.nested is False:
        session.info.pop(PENDING, None)
