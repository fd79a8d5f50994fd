"""Background jobs and schedules on Huey (see docs/jobs.md).

    from portal.jobs import job, schedule, enqueue, crontab

    @job(retries=5, retry_delay=30)
    def render_invoice_pdf(invoice_id: int): ...

    enqueue(render_invoice_pdf, invoice.id)    # sent when the current transaction commits; dropped on rollback

    @schedule(crontab(minute="*"), lock_ttl=300)
    def expire_unpaid_orders(): ...            # one run at a time (Huey lock); also a `flask` command

Every task body runs in its own app context (its own database session). Arguments must be plain values
(ids, strings): the database row, never an ORM object, is what a task reads.
"""

from __future__ import annotations

import functools

from huey import crontab

from portal.jobs.queue import huey, in_app_context
from portal.jobs.transactions import enqueue

__all__ = ["crontab", "enqueue", "huey", "init_app", "job", "schedule"]


def job(*, name: str | None = None, **options):
    """A Huey task whose body runs in an app context. Options are Huey's (retries, retry_delay, priority, …)."""

    def decorator(func):
        return huey.task(name=name or func.__name__, **options)(in_app_context(func))

    return decorator


def schedule(cron, *, name: str | None = None, lock_ttl: int = 600, **options):
    """A Huey periodic task (Huey's crontab, UTC) that never overlaps itself: a run that finds the previous
    one still going is skipped (Huey's lock_task; the lock lapses after `lock_ttl` seconds if a worker dies)."""

    def decorator(func):
        task_name = name or func.__name__

        @functools.wraps(func)
        def locked(*args, **kwargs):
            with huey.lock_task(f"schedule:{task_name}", ttl=lock_ttl):
                return func(*args, **kwargs)

        return huey.periodic_task(cron, name=task_name, **options)(in_app_context(locked))

    return decorator


def init_app(app) -> None:
    from portal.jobs.cli import jobs_cli
    from portal.jobs.queue import configure

    configure(app)
    app.cli.add_command(jobs_cli)
