"""`flask jobs …`: the worker (the Procfile's `worker:`), status, and the run log's purge."""

from __future__ import annotations

import logging
import os
import socket
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from portal.jobs import services
from portal.jobs.locks import Lease
from portal.jobs.queue import huey, set_worker_app
from portal.timeutil import utcnow

jobs_cli = AppGroup("jobs", help="Background jobs and schedules (Huey).")
SCHEDULER_LEASE, SCHEDULER_TTL = "scheduler", 90  # renewed every TTL/3 by the worker that runs the schedule


@jobs_cli.command("worker")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Worker threads.")
@click.option(
    "--schedule/--no-schedule",
    default=True,
    show_default=True,
    help="Run the periodic schedule in this worker. Exactly one worker per backend may: a second one "
    "started with --schedule refuses to start; start the others with --no-schedule.",
)
@click.option(
    "--max-delay",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Longest wait between polls of an empty queue, in seconds.",
)
@click.option("--verbose", is_flag=True, help="Log every task run.")
def worker(workers: int, schedule: bool, max_delay: float, verbose: bool) -> None:
    """Run background jobs (and the schedule) until interrupted."""
    app = current_app._get_current_object()
    if huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is on: jobs run where they are enqueued, a worker has none")
    set_worker_app(app)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("huey").setLevel(logging.INFO if verbose else logging.WARNING)
    backend = services.backend_label(app.config["JOBS_BACKEND"])
    lease, renewing = _claim_schedule(backend) if schedule else (None, None)
    click.echo(f"jobs worker: {workers} thread(s), schedule {'on' if schedule else 'off'}, backend {backend}")
    consumer = huey.create_consumer(workers=workers, periodic=schedule, max_delay=max_delay, worker_type="thread")
    try:
        consumer.run()
    finally:
        if lease is not None:
            renewing.set()
            lease.release()


def _claim_schedule(backend: str) -> tuple[Lease, threading.Event]:
    """The single-scheduler rule: hold the `scheduler` lease while running, renewed in the background
    until the returned event is set."""
    lease = Lease(huey, SCHEDULER_LEASE, SCHEDULER_TTL)
    try:
        claimed = lease.acquire()
    except Exception as exc:
        raise click.ClickException(f"jobs backend {backend} does not answer: {exc}") from None
    if not claimed and _holder_died(lease):
        claimed = lease.acquire()
    if not claimed:
        holder = lease.holder()
        who = f"{holder.owner}, lapses in {holder.expires_in:.0f}s unless renewed" if holder else "another worker"
        raise click.ClickException(
            f"another worker already runs the schedule on {backend} ({who}); start this one with --no-schedule"
        )
    stop = threading.Event()
    threading.Thread(target=_renew, args=(lease, stop), name="scheduler-lease", daemon=True).start()
    return lease, stop


def _holder_died(lease: Lease) -> bool:
    """A scheduler on this machine that was killed (kill -9, a closed terminal) left its lease to lapse:
    take it over now instead of refusing for the rest of its TTL. Holders on other machines just lapse."""
    holder = lease.holder()
    if holder is None:
        return True
    host, _, rest = holder.owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        Lease(huey, lease.name, lease.ttl, owner=holder.owner).release()
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _renew(lease: Lease, stop: threading.Event) -> None:
    log = logging.getLogger(__name__)
    while not stop.wait(SCHEDULER_TTL / 3):
        try:
            if not lease.renew():
                log.error("the scheduler lease was taken over by another worker; two may run the schedule now")
        except Exception:
            log.warning("could not renew the scheduler lease", exc_info=True)


@jobs_cli.command("status")
def status() -> None:
    """Queued and scheduled jobs, failed runs in the last 24 h, every schedule's next run and the locks held.

    Exits 1 when the jobs backend (JOBS_BACKEND) does not answer."""
    try:
        snap = services.snapshot(current_app.config["JOBS_BACKEND"])
    except services.BackendDown as exc:
        click.echo(f"jobs status: backend {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"backend:   {snap.backend}")
    click.echo(f"queued:    {snap.queued}")
    click.echo(f"scheduled: {snap.scheduled} (delayed or waiting to retry)")
    click.echo(f"failed:    {snap.failed_24h} run(s) in the last 24 h")
    click.echo("schedule (UTC):")
    now = utcnow()
    for item in snap.schedules:
        nxt = item.next_run.strftime("%Y-%m-%d %H:%M") if item.next_run else "not within 31 days"
        wait = f" (in {_ago(item.next_run - now)})" if item.next_run else ""
        click.echo(f"  {item.name:<28} {item.cron:<16} next {nxt}{wait}")
    click.echo("locks held:" + ("" if snap.locks else " none"))
    for lock in snap.locks:
        click.echo(f"  {lock.name:<37} by {lock.owner}, lapses in {lock.expires_in:.0f}s")
    click.echo(
        f"jobs status: {snap.queued} queued, {snap.scheduled} scheduled, {snap.failed_24h} failed in 24 h, "
        f"{len(snap.schedules)} schedule(s), {len(snap.locks)} lock(s) held"
    )


def _ago(delta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


@jobs_cli.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True, help="Age in days.")
@click.option(
    "--keep-failures",
    "failed_days",
    type=click.IntRange(min=1),
    default=None,
    help="Keep failed (and stuck running) runs this many days  [default: JOB_RUNS_KEEP_FAILED_DAYS, 60]; "
    "never fewer than --older-than.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
def purge(days: int, failed_days: int | None, dry_run: bool) -> None:
    """Delete job-run records older than DAYS days; failures are kept longer (--keep-failures)."""
    failed_days = failed_days or current_app.config["JOB_RUNS_KEEP_FAILED_DAYS"]
    count = services.purge_runs(days, failed_days=failed_days, dry_run=True)
    if not dry_run and count:
        with click.progressbar(length=count, label="Purging job runs", show_pos=True) as bar:
            count = services.purge_runs(days, failed_days=failed_days, progress=bar.update)
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"jobs purge: {verb} {count} run(s) older than {days} day(s) "
        f"(failures older than {max(days, failed_days)} day(s))"
    )
