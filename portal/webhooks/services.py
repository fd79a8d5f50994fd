"""The webhook pipeline: raw body → verify → store (unique event id) → dispatch → record the outcome.

Storing commits on its own before anything is applied: once a delivery is stored we own its retry, so
a processing failure marks the event `failed` and the gateway still gets its 2xx.

WEBHOOK_PROCESSING=queue (the default outside tests): the web process stores the event unclaimed
(attempts=0) and enqueues `process_webhook_event(id)` (portal/webhooks/tasks.py) on the jobs queue; the
job claims it with a compare-and-set on `attempts`, so duplicate enqueues and racing workers apply it
once. The event table stays the source of truth: `sweep` re-enqueues what nobody picked up (a lost
enqueue, a worker that died mid-event), and `retry_failed(due_only=True)` retries failures with backoff.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import JSON, bindparam, delete, func, select, text, update

from portal.extensions import db
from portal.inputs import loads_json
from portal.timeutil import utcnow
from portal.webhooks.handlers import Event, Handled, dispatch
from portal.webhooks.models import WebhookEvent, WebhookRejection, WebhookStatus
from portal.webhooks.rejections import count_rejection
from portal.webhooks.signature import signature_is_valid

PROVIDER = "razorpay"
MAX_BODY_BYTES = 256 * 1024  # Razorpay events are a few KB; anything this big is not one
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Razorpay-Event-Id", "X-Razorpay-Signature", "Request-Id")
DEFAULT_MAX_ATTEMPTS = 5
STUCK_AFTER = timedelta(minutes=5)  # a pending event this old lost its process (a crash) and is retried
UNPICKED_AFTER = timedelta(seconds=30)  # an unclaimed event this old lost its enqueue (or the queue is behind)
SWEEP_LIMIT = 5000  # events re-enqueued per sweep run (the next run, a minute later, takes the rest)
RETRY_BASE = timedelta(minutes=1)  # backoff after the first failure; doubled with every attempt
RETRY_CAP = timedelta(hours=1)
MODES = ("inline", "queue")


class Rejected(Exception):
    """A delivery we refuse (answered 400 and counted, never stored)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class NotAllowed(Exception):
    """The action does not fit the event's status (answered 409)."""


@dataclass
class IngestResult:
    status: str  # processed, ignored, failed, duplicate
    event_pk: int | None = None


def event_id_for(body: bytes, header: str | None) -> str:
    """Razorpay's X-Razorpay-Event-Id; without one, the body's hash (a resend has the same bytes)."""
    header = (header or "").strip()
    if header:
        if len(header) > 80 or not header.isprintable():
            raise Rejected("malformed", "X-Razorpay-Event-Id is too long or holds control characters")
        return header
    return "sha256:" + hashlib.sha256(body).hexdigest()[:64]


def parse_body(body: bytes | str) -> dict:
    """The event document of a body; Rejected("malformed") for what is not one.

    Unreadable JSON, and JSON nested deeper than MAX_JSON_DEPTH (a Razorpay event nests about six
    levels), are refused like a bad signature: answered 400 and counted, never stored — so a hostile
    body is not retried forever. NUL characters in strings (`\\u0000`, valid JSON) are dropped from the
    parsed document: PostgreSQL text cannot hold them, and no Razorpay field carries one. The stored
    raw body keeps them escaped, as received.
    """
    try:
        data = loads_json(body.decode("utf-8") if isinstance(body, bytes) else body)
    except ValueError as exc:  # UnicodeDecodeError is one: the raw body is stored as UTF-8 text
        raise Rejected("malformed", f"body is not JSON: {str(exc)[:200]}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("event"), str) or not without_nul(data["event"]):
        raise Rejected("malformed", "body is not a Razorpay event (no 'event' name)")
    return without_nul(data)


def without_nul(value):
    """`value` with NUL characters removed from every string in it, keys included (depth already bounded)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    return value


def _gateway_ids(event: Event) -> tuple[str | None, str | None]:
    payment = event.entity("payment") or {}
    order = event.entity("order") or {}
    refund = event.entity("refund") or {}
    dispute = event.entity("dispute") or {}
    payment_id = payment.get("id") or refund.get("payment_id") or dispute.get("payment_id")
    order_id = order.get("id") or payment.get("order_id") or (event.entity("payment_link") or {}).get("order_id")
    return (str(payment_id)[:40] if payment_id else None), (str(order_id)[:40] if order_id else None)


def verify(body: bytes, headers) -> Event:
    """Check size, signature and shape; raise Rejected (counted) for anything we will not store."""
    try:
        if len(body) > MAX_BODY_BYTES:
            raise Rejected("too_large", "body is too large")
        signature = headers.get("X-Razorpay-Signature")
        if not signature:
            raise Rejected("missing_signature", "X-Razorpay-Signature is missing")
        if not signature_is_valid(body, signature):
            raise Rejected("bad_signature", "signature does not match")
        data = parse_body(body)
        return Event(event_id_for(body, headers.get("X-Razorpay-Event-Id")), data["event"][:60], data)
    except Rejected as exc:
        count_rejection(exc.reason)
        raise


# Plain SQL, understood alike by PostgreSQL and SQLite (≥ 3.35): the dialects' insert().on_conflict_do_nothing()
# constructs carry no cache key, so SQLAlchemy would compile them anew on every delivery.
_STORE_SQL = text(
    "INSERT INTO webhook_events (provider, event_id, event_type, status, signature_valid, headers, payload,"
    " gateway_payment_id, gateway_order_id, attempts, received_at)"
    " VALUES (:provider, :event_id, :event_type, :status, :signature_valid, :headers, :payload,"
    " :gateway_payment_id, :gateway_order_id, :attempts, :received_at)"
    " ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
).bindparams(bindparam("headers", type_=JSON))


def store(event: Event, body: bytes, headers, *, claimed: bool = True) -> int | None:
    """Insert the event — claimed for processing here (attempts=1), or left unclaimed (attempts=0) for the
    `process_webhook_event` job — and commit; its id, or None for a duplicate.

    One `INSERT ... ON CONFLICT DO NOTHING` answers both cases in a single round trip, and two deliveries
    of one event at the same instant are settled by the unique (provider, event_id) constraint.
    """
    payment_id, order_id = _gateway_ids(event)
    values = {
        "provider": PROVIDER,
        "event_id": event.event_id,
        "event_type": event.type,
        "status": WebhookStatus.PENDING.value,
        "signature_valid": True,
        "headers": without_nul({name: headers[name] for name in KEPT_HEADERS if name in headers}),
        "payload": body.decode("utf-8"),
        "gateway_payment_id": payment_id,
        "gateway_order_id": order_id,
        "attempts": 1 if claimed else 0,
        "received_at": utcnow(),
    }
    try:
        event_pk = db.session.execute(_STORE_SQL, values).scalar()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return event_pk


def _finish(event_pk: int, handled: Handled | None, error: str | None) -> str:
    """Record how processing went, with one UPDATE; returns the event's new status."""
    if error is not None:
        values = {"status": WebhookStatus.FAILED, "last_error": without_nul(error)[:2000]}
    else:
        values = {
            "status": WebhookStatus.IGNORED if handled.ignored else WebhookStatus.PROCESSED,
            "last_error": None,
            "outcome": handled.note[:2000],
        }
        values.update({k: v for k, v in (("order_id", handled.order_id), ("payment_id", handled.payment_id)) if v})
    values["processed_at"] = utcnow()
    if db.engine.dialect.name == "postgresql":
        # This commit need not wait for the disk: if it is lost in a crash the event stays `pending`
        # (attempts=1) and `flask webhooks retry` applies it again, which the handlers make harmless.
        db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    db.session.execute(update(WebhookEvent).where(WebhookEvent.id == event_pk).values(**values))
    db.session.commit()
    return str(values["status"])


def process(event_pk: int, event: Event) -> str:
    """Dispatch a stored (and claimed) event and record how it went. Never raises for a handler failure."""
    try:
        handled = dispatch(event)
    except Exception as exc:  # any failure is recorded on the event and retried later
        db.session.rollback()
        return _finish(event_pk, None, f"{type(exc).__name__}: {exc}")
    return _finish(event_pk, handled, None)


def run(row: WebhookEvent) -> WebhookEvent:
    """Process an event already in the log (portal actions, the retry command); returns it reloaded."""
    event_pk = row.id
    event = Event(row.event_id, row.event_type)
    try:
        event.body = parse_body(row.payload)
    except Rejected as exc:
        _finish(event_pk, None, f"stored payload is not an event: {exc}")
    else:
        process(event_pk, event)
    db.session.expire_all()
    return db.session.get(WebhookEvent, event_pk)


def ingest(body: bytes, headers, *, mode: str = "inline") -> IngestResult:
    """Verify, store and process one delivery. Raises Rejected for what must be answered 400.

    `inline`: processed before the answer; the result is its final status. `queue`: stored unclaimed and
    its id enqueued for a worker (`process_webhook_event`); the result is `pending`. A failed enqueue (the
    jobs backend down) is logged and the answer is the same: the stored row is swept up later.
    """
    event = verify(body, headers)
    queued = mode == "queue"
    event_pk = store(event, body, headers, claimed=not queued)
    if event_pk is None:
        return IngestResult("duplicate")
    if queued:
        from portal.jobs import enqueue
        from portal.webhooks.tasks import process_webhook_event

        enqueue(process_webhook_event, event_pk)
        return IngestResult(WebhookStatus.PENDING.value, event_pk)
    return IngestResult(process(event_pk, event), event_pk)


def apply_stored(event_pk: int, seen_attempts: int = 0) -> str | None:
    """The job's body: claim a pending event (compare-and-set from `seen_attempts`) and apply it.

    Returns its new status, or None when someone else claimed it (a duplicate enqueue, another worker,
    an admin's "process") or it is not pending any more — so any number of enqueues apply it once.
    """
    if not try_claim(event_pk, seen_attempts, (WebhookStatus.PENDING,)):
        return None
    return str(run(db.session.get(WebhookEvent, event_pk)).status)


def unpicked(now=None, *, limit: int = SWEEP_LIMIT) -> list[tuple[int, int]]:
    """(id, attempts) of pending events nobody is applying: unclaimed and older than UNPICKED_AFTER (a lost
    enqueue), or claimed and older than STUCK_AFTER (a worker that died mid-event); oldest first."""
    now = now or utcnow()
    lost = (WebhookEvent.attempts == 0) & (WebhookEvent.received_at < now - UNPICKED_AFTER)
    stuck = (WebhookEvent.attempts > 0) & (WebhookEvent.received_at < now - STUCK_AFTER)
    query = (
        select(WebhookEvent.id, WebhookEvent.attempts)
        .where(WebhookEvent.status == WebhookStatus.PENDING, lost | stuck)
        .order_by(WebhookEvent.received_at, WebhookEvent.id)
        .limit(limit)
    )
    rows = [(event_pk, attempts) for event_pk, attempts in db.session.execute(query)]
    db.session.commit()  # end the read: each claim is its own transaction
    return rows


def sweep(*, dry_run: bool = False, now=None) -> int:
    """Re-enqueue the pending events nobody picked up (`sweep_webhook_events`, every minute); how many.

    Claimed-but-stuck events are always re-enqueued (their job ran and died). Unclaimed ones may simply be
    waiting in a queue that runs behind, so only as many as the queue's backlog cannot account for are
    re-enqueued, oldest first (those are the likeliest to have been lost, e.g. while Redis was down): a slow
    worker does not get its backlog doubled every minute. A second enqueue of an event is harmless anyway —
    the claim lets one job apply it.
    """
    from portal.jobs import enqueue
    from portal.webhooks.tasks import process_webhook_event

    rows = unpicked(now)
    lost = [row for row in rows if row[1] == 0]
    stuck = [row for row in rows if row[1] > 0]
    chosen = stuck + lost[: max(len(lost) - queue_backlog(), 0)]
    if not dry_run:
        for event_pk, attempts in chosen:
            enqueue(process_webhook_event, event_pk, attempts)
    return len(chosen)


def queue_backlog() -> int:
    """Jobs waiting in the queue (0 when it cannot be asked: then everything unpicked is re-enqueued)."""
    from portal.jobs import huey

    if huey.immediate:
        return 0
    try:
        return huey.pending_count()
    except Exception:  # the backend is down: the enqueues will fail too, and the next sweep tries again
        return 0


def count_unclaimed() -> int:
    query = select(func.count()).where(WebhookEvent.status == WebhookStatus.PENDING, WebhookEvent.attempts == 0)
    return db.session.scalar(query) or 0


def work(*, batch: int = 100, on_applied=None) -> dict[str, int]:
    """Apply every unclaimed pending event in this process, oldest first (`flask webhooks work`: ops, when
    no worker runs); counts by resulting status. Safe beside running workers: each event is claimed."""
    counts: dict[str, int] = {}
    while True:
        query = (
            select(WebhookEvent.id)
            .where(WebhookEvent.status == WebhookStatus.PENDING, WebhookEvent.attempts == 0)
            .order_by(WebhookEvent.id)
            .limit(batch)
        )
        ids = list(db.session.scalars(query))
        db.session.commit()
        if not ids:
            return counts
        for event_pk in ids:
            status = apply_stored(event_pk) or "claimed elsewhere"
            counts[status] = counts.get(status, 0) + 1
            if on_applied:
                on_applied(status)


def try_claim(event_pk: int, seen_attempts: int, allowed: tuple[str, ...]) -> bool:
    """Compare-and-set on `attempts`: true for exactly one of several callers that read the same row."""
    claimed = db.session.execute(
        update(WebhookEvent)
        .where(
            WebhookEvent.id == event_pk,
            WebhookEvent.attempts == seen_attempts,
            WebhookEvent.status.in_(allowed),
        )
        .values(attempts=seen_attempts + 1)
    ).rowcount
    db.session.commit()
    return bool(claimed)


def _claim(event_pk: int, allowed: tuple[str, ...]) -> WebhookEvent:
    """Take an event for processing: one caller wins even when an admin and the CLI act at once."""
    row = db.session.get(WebhookEvent, event_pk)
    if row is None:
        raise LookupError(event_pk)
    if row.status not in allowed:
        db.session.rollback()
        raise NotAllowed(f"event is {row.status}; this action needs {' or '.join(allowed)}")
    if not try_claim(event_pk, row.attempts, allowed):
        raise NotAllowed("the event is being processed by someone else")
    return db.session.get(WebhookEvent, event_pk)


def process_event(event_pk: int) -> WebhookEvent:
    """Process a pending event now (the portal's "process" action)."""
    return run(_claim(event_pk, (WebhookStatus.PENDING,)))


def retry_event(event_pk: int) -> WebhookEvent:
    """Process a failed event again (the portal's "retry" action)."""
    return run(_claim(event_pk, (WebhookStatus.FAILED,)))


def delete_event(event_pk: int) -> None:
    """Remove an event from the log (admin housekeeping; what it applied stays applied)."""
    if db.session.get(WebhookEvent, event_pk) is None:
        raise LookupError(event_pk)
    db.session.execute(delete(WebhookEvent).where(WebhookEvent.id == event_pk))
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    """How long a failed event waits before its next try: RETRY_BASE doubled per attempt, capped at RETRY_CAP."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def retryable(max_attempts: int = DEFAULT_MAX_ATTEMPTS, *, due_only: bool = False, now=None) -> list[int]:
    """Failed events under the attempt cap, and pending ones stuck after a crash; oldest first.

    `due_only` (the scheduled retry) keeps only the failed events whose backoff has elapsed since their last
    try (`processed_at` + retry_delay(attempts)) — stuck pending ones are the sweep's. The failed set under
    the cap is small, so the backoff is applied here rather than in SQL.
    """
    now = now or utcnow()
    failed = WebhookEvent.status == WebhookStatus.FAILED
    stuck = (WebhookEvent.status == WebhookStatus.PENDING) & (WebhookEvent.received_at < now - STUCK_AFTER)
    query = (
        select(WebhookEvent.id, WebhookEvent.attempts, WebhookEvent.processed_at)
        .where(failed if due_only else failed | stuck, WebhookEvent.attempts < max_attempts)
        .order_by(WebhookEvent.received_at, WebhookEvent.id)
    )
    rows = db.session.execute(query).all()
    if due_only:
        rows = [row for row in rows if row.processed_at is None or row.processed_at + retry_delay(row.attempts) <= now]
    return [row.id for row in rows]


def retry_failed(
    *, max_attempts: int = DEFAULT_MAX_ATTEMPTS, dry_run: bool = False, due_only: bool = False, now=None
) -> dict[str, int]:
    """Re-process every retryable event once; returns counts by resulting status.

    The `retry_failed_webhooks` schedule runs it every minute with `due_only` (exponential backoff);
    `flask webhooks retry` runs it by hand (everything retryable now, or `--due-only` as the schedule)."""
    counts: dict[str, int] = {}
    for event_pk in retryable(max_attempts, due_only=due_only, now=now):
        if dry_run:
            counts["would_retry"] = counts.get("would_retry", 0) + 1
            continue
        row = db.session.get(WebhookEvent, event_pk)
        allowed = (str(row.status),)
        try:
            status = str(run(_claim(event_pk, allowed)).status)
        except (NotAllowed, LookupError):
            status = "skipped"
        counts[status] = counts.get(status, 0) + 1
    return counts


def purge(older_than_days: int, *, dry_run: bool = False) -> int:
    """Delete processed and ignored events received more than `older_than_days` ago; returns how many."""
    if older_than_days < 1:
        raise ValueError("--older-than must be at least 1 day")
    done = (WebhookStatus.PROCESSED, WebhookStatus.IGNORED)
    condition = WebhookEvent.status.in_(done) & (WebhookEvent.received_at < utcnow() - timedelta(days=older_than_days))
    if dry_run:
        return len(list(db.session.scalars(select(WebhookEvent.id).where(condition))))
    count = db.session.execute(delete(WebhookEvent).where(condition)).rowcount
    db.session.commit()
    return count


__all__ = ["IngestResult", "NotAllowed", "Rejected", "WebhookRejection", "ingest"]
