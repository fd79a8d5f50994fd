"""Background jobs and schedules on Huey (see docs/jobs.md).

    from portal.jobs import job, schedule, enqueue, crontab

    @job(retries=5, retry_delay=30)
    def render_invoice_pdf(invoice_id: int): ...

    enqueue(render_invoice_pdf, invoice.id)    # sent when the current transaction commits; dropped on rollback

    @schedule(crontab(minute="*"), lock_ttl=300)
    def expire_unpaid_orders(): ...            # one run at a time (a lease); also a `flask` command

Every task body runs in its own app context (its own database session). Arguments must be plain values
(ids, strings): the database row, never an ORM object, is what a task reads. Every run is recorded in
`job_runs` (portal/jobs/recorder.py), shown at /admin/jobs and counted by `flask jobs status`.
"""

from __future__ import annotations

import functools

from huey import crontab as huey_crontab
from huey.exceptions import TaskLockedException

from portal.jobs.locks import Lease, LeaseHeld
from portal.jobs.queue import huey, in_app_context
from portal.jobs.transactions import enqueue

__all__ = ["crontab", "enqueue", "huey", "init_app", "job", "schedule"]


def crontab(minute="*", hour="*", day="*", month="*", day_of_week="*", strict=False):
    """Huey's crontab (UTC), remembering its fields so `flask jobs status` and /admin/jobs can show them."""
    validate = huey_crontab(minute, hour, day, month, day_of_week, strict=strict)
    validate.spec = " ".join(str(part) for part in (minute, hour, day, month, day_of_week))
    return validate


def job(*, name: str | None = None, **options):
    """A Huey task whose body runs in an app context. Options are Huey's (retries, retry_delay, priority, …)."""

    def decorator(func):
        return huey.task(name=name or func.__name__, **options)(in_app_context(func))

    return decorator


def schedule(cron, *, name: str | None = None, lock_ttl: int = 600, **options):
    """A Huey periodic task (crontab, UTC) that never overlaps itself: a run that finds the previous one
    still going is skipped and recorded as `locked`. The guard is a lease (portal/jobs/locks.py) that
    lapses after `lock_ttl` seconds if a worker dies inside it — Huey's own lock_task cannot take a TTL on
    its SQLite storage, nor on Redis before 7.4."""

    def decorator(func):
        task_name = name or func.__name__

        @functools.wraps(func)
        def locked(*args, **kwargs):
            try:
                lease = Lease(huey, f"schedule:{task_name}", lock_ttl).__enter__()
            except LeaseHeld as exc:
                raise TaskLockedException(str(exc)) from None
            try:
                return func(*args, **kwargs)
            finally:
                lease.release()

        wrapper = huey.periodic_task(cron, name=task_name, **options)(in_app_context(locked))
        wrapper.task_class.cron_spec = getattr(cron, "spec", None)
        wrapper.task_class.lock_name = f"schedule:{task_name}"
        return wrapper

    return decorator


def init_app(app) -> None:
    from portal.jobs import recorder, routes, tasks  # noqa: F401  (tasks: the jobs' own schedule)
    from portal.jobs.cli import jobs_cli
    from portal.jobs.queue import configure

    configure(app)
    recorder.connect(huey)
    app.cli.add_command(jobs_cli)
    app.register_blueprint(routes.bp)
