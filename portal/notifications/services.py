"""Sending outbox messages: claim, render, send, record — exactly once per message.

A send is three short steps, so no database lock is held while the SMTP server is talked to (on SQLite a
row lock is the whole database's write lock):

1. **claim** — lock the row; go on only if it is `queued`, due, and nobody holds a live claim; count the
   attempt and set `sending_until` (the claim) to now + SEND_LEASE; commit. A second job for the same
   message, at the same moment or later, finds the claim (or a non-queued status) and does nothing.
2. **render and send** outside any transaction.
3. **record** — lock the row again and write the outcome: `sent` (sent_at), `not_sent` (no SMTP_URL),
   `failed` (a template error, or the attempt limit reached) or `queued` again with next_attempt_at
   = now + base·2^(attempts-1), capped. The claim is released.

A worker that dies between 1 and 3 leaves a claim that lapses after SEND_LEASE; the sweep then sends the
message again (at least once: an SMTP server that accepted the message just before the crash receives it
twice — the Message-ID header is the same, so mail systems that de-duplicate do).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import and_, func, or_, select

from portal.dbutil import for_update
from portal.extensions import db
from portal.notifications import mailer
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.notifications.rendering import Rendered, RenderError, render
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
SEND_LEASE = timedelta(minutes=5)  # longer than any render + SMTP exchange (SMTP timeouts are seconds)
SWEEP_GRACE = timedelta(seconds=60)  # a fresh row's own job is probably on its way: the sweep leaves it alone
SWEEP_BATCH = 500


class NotAllowed(Exception):
    """The action does not apply to the message in its current state."""


@dataclass(frozen=True)
class Claim:
    message_id: int
    attempt: int  # the row's attempts after this claim: the token that the outcome belongs to this send


def send_message_now(message_id: int) -> str:
    """Claim, render, send and record one message. Returns what happened: sent, not_sent, retry, failed,
    or skipped (not queued, not due, or another job is sending it)."""
    claim = claim_message(message_id)
    if claim is None:
        return "skipped"
    message = db.session.get(OutboxMessage, message_id)
    to, header = message.recipient, message_id_header(message)
    try:
        rendered = render(message)
    except RenderError as exc:
        db.session.rollback()
        return record(claim, error=str(exc), permanent=not exc.transient)
    db.session.rollback()  # rendering only reads: end its transaction before talking to the network
    if not mailer.configured():
        return record(claim, rendered=rendered, delivered=False)
    try:
        mailer.send(rendered, to=to, message_id=header)
    except mailer.MailError as exc:
        log.warning("outbox message %s not sent: %s", message_id, exc)
        return record(claim, rendered=rendered, error=str(exc))
    return record(claim, rendered=rendered, delivered=True)


def claim_message(message_id: int, now: datetime | None = None) -> Claim | None:
    now = now or utcnow()
    message = _locked(message_id)
    if message is None or not _claimable(message, now):
        db.session.rollback()
        return None
    message.attempts += 1
    message.sending_until = now + SEND_LEASE
    claim = Claim(message.id, message.attempts)
    db.session.commit()
    return claim


def _claimable(message: OutboxMessage, now: datetime) -> bool:
    if message.status != MessageStatus.QUEUED:
        return False
    if message.next_attempt_at is not None and message.next_attempt_at > now:
        return False
    return message.sending_until is None or message.sending_until <= now


def _locked(message_id: int) -> OutboxMessage | None:
    return db.session.scalar(for_update(select(OutboxMessage).where(OutboxMessage.id == message_id)))


def record(
    claim: Claim,
    *,
    rendered: Rendered | None = None,
    delivered: bool | None = None,
    error: str | None = None,
    permanent: bool = False,
) -> str:
    """Write the outcome of the claimed attempt (ignored when the row moved on without this send)."""
    now = utcnow()
    message = _locked(claim.message_id)
    if message is None or message.attempts != claim.attempt or message.status != MessageStatus.QUEUED:
        db.session.rollback()
        return "skipped"
    message.sending_until = None
    if rendered is not None:
        store_rendering(message, rendered)
    outcome = _apply(message, now, delivered=delivered, error=error, permanent=permanent)
    db.session.commit()
    return outcome


def _apply(message: OutboxMessage, now: datetime, *, delivered, error, permanent) -> str:
    if error is None:
        message.status = MessageStatus.SENT if delivered else MessageStatus.NOT_SENT
        message.sent_at = now if delivered else None
        message.last_error = None if delivered else "SMTP_URL is not set: rendered, not sent"
        message.next_attempt_at = None
        return str(message.status)
    message.last_error = error[:2000]
    if permanent or message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.status = MessageStatus.FAILED
        message.next_attempt_at = None
        return "failed"
    message.next_attempt_at = now + backoff(message.attempts)
    return "retry"


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: base·2^(attempts-1), capped."""
    config = current_app.config
    base, cap = config["OUTBOX_RETRY_BASE_SECONDS"], config["OUTBOX_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def store_rendering(message: OutboxMessage, rendered: Rendered) -> None:
    message.subject = rendered.subject
    message.body_text = rendered.text
    message.body_html = rendered.html
    message.attachments = [
        {"filename": name, "mimetype": mimetype, "size": len(data)} for name, data, mimetype in rendered.attachments
    ] or None


def message_id_header(message: OutboxMessage) -> str:
    """The same Message-ID on every attempt of one message, so a receiver can tell a repeat."""
    sender = parseaddr(current_app.config["MAIL_FROM"])[1]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}@{domain}>"


def due_clause(now: datetime, grace: timedelta = SWEEP_GRACE):
    """Queued rows that are due and not being sent. A row that never had an attempt is due once it is
    `grace` old: until then its own job (enqueued after its commit) is expected to take it."""
    return and_(
        OutboxMessage.status == MessageStatus.QUEUED,
        or_(OutboxMessage.sending_until.is_(None), OutboxMessage.sending_until <= now),
        or_(
            OutboxMessage.next_attempt_at <= now,
            and_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.created_at <= now - grace),
        ),
    )


def due_message_ids(now: datetime | None = None, grace: timedelta = SWEEP_GRACE, limit: int = SWEEP_BATCH):
    """Ids of the messages the sweep should send now, oldest first."""
    now = now or utcnow()
    query = select(OutboxMessage.id).where(due_clause(now, grace)).order_by(OutboxMessage.id).limit(limit)
    return list(db.session.scalars(query))


def resend(message_id: int, now: datetime | None = None) -> OutboxMessage:
    """A new attempt of the same row: queued and due now (never a second row). Refused while it is being sent."""
    now = now or utcnow()
    message = _locked(message_id)
    if message is None:
        db.session.rollback()
        raise NotAllowed("no such message")
    if message.sending_until is not None and message.sending_until > now:
        db.session.rollback()
        raise NotAllowed("it is being sent right now")
    message.status = MessageStatus.QUEUED
    message.next_attempt_at = now
    message.sending_until = None
    message.sent_at = None
    _enqueue_send(message)
    db.session.commit()
    return message


def _enqueue_send(message: OutboxMessage) -> None:
    from portal.jobs import enqueue
    from portal.notifications.tasks import send_message

    enqueue(send_message, message.id)


def purgeable(older_than: datetime):
    """Sent and not_sent messages created before `older_than` (failed and queued ones are always kept)."""
    return select(OutboxMessage.id).where(
        OutboxMessage.status.in_([MessageStatus.SENT, MessageStatus.NOT_SENT]),
        OutboxMessage.created_at < older_than,
    )


def count_purgeable(older_than: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(purgeable(older_than).subquery()))


def purge(older_than: datetime, batch: int = 1000) -> int:
    """Delete the purgeable messages in batches (each its own transaction); the number deleted."""
    deleted = 0
    while ids := list(db.session.scalars(purgeable(older_than).order_by(OutboxMessage.id).limit(batch))):
        db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.id.in_(ids)))
        db.session.commit()
        deleted += len(ids)
    return deleted
