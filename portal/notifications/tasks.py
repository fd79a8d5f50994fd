"""The outbox's background work: one job per message, and the sweep that catches what a lost job missed."""

from __future__ import annotations

from portal.extensions import db
from portal.jobs import crontab, enqueue, job, schedule
from portal.notifications import services


@job()
def send_message(message_id: int) -> str:
    """Render and send one outbox message (safe to run twice, or twice at once: the row's claim decides)."""
    return services.send_message_now(message_id)


@schedule(crontab(minute="*"), lock_ttl=300)
def send_due_messages() -> int:
    """Every minute: enqueue a send for each queued message that is due — retries whose backoff has passed,
    and rows whose own job was lost (Redis down at commit, a worker killed)."""
    ids = services.due_message_ids()
    for message_id in ids:
        enqueue(send_message, message_id)
    db.session.commit()  # the enqueues wait for the end of the read transaction
    return len(ids)


def enqueue_send(message) -> None:
    """outbox.queue_message's hook: the row is flushed for its id; the job is sent when the caller commits."""
    db.session.flush()
    enqueue(send_message, message.id)
