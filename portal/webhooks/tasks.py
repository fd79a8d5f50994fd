"""Webhook jobs: apply a stored event, sweep up what nobody picked up, retry failures with backoff.

The web process (WEBHOOK_PROCESSING=queue) stores each delivery unclaimed and enqueues its id. The
event table, not the queue, is the record: an enqueue lost with Redis down, or an event whose worker
died, is found by `sweep_webhook_events` a minute later; a failed event is retried by
`retry_failed_webhooks` once its backoff has elapsed (services.retry_delay), up to the attempt cap.
"""

from __future__ import annotations

import logging

from portal.jobs import crontab, job, schedule
from portal.webhooks import services

log = logging.getLogger(__name__)


@job()
def process_webhook_event(event_pk: int, seen_attempts: int = 0) -> str | None:
    """Claim (compare-and-set on attempts) and apply one stored event; None when it was not ours to apply."""
    return services.apply_stored(event_pk, seen_attempts)


@schedule(crontab(minute="*"), lock_ttl=300)
def sweep_webhook_events() -> int:
    """Every minute: re-enqueue pending events nobody picked up (`flask webhooks sweep`)."""
    count = services.sweep()
    if count:
        log.warning("webhooks sweep: re-enqueued %d event(s) nobody had picked up", count)
    return count


@schedule(crontab(minute="*"), lock_ttl=600)
def retry_failed_webhooks() -> dict[str, int]:
    """Every minute: retry failed events whose backoff has elapsed (`flask webhooks retry --due-only`)."""
    counts = services.retry_failed(due_only=True)
    if counts:
        log.info("webhooks retry: %s", ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return counts
