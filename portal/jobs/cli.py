"""`flask jobs …`: the worker (the Procfile's `worker:`) and, later, status."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from portal.jobs.queue import huey, set_worker_app

jobs_cli = AppGroup("jobs", help="Background jobs and schedules (Huey).")


@jobs_cli.command("worker")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="Worker threads.")
@click.option(
    "--schedule/--no-schedule",
    default=True,
    show_default=True,
    help="Run the periodic schedule in this worker. Exactly one worker per backend should: start the others "
    "with --no-schedule.",
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
    click.echo(
        f"jobs worker: {workers} thread(s), schedule {'on' if schedule else 'off'}, "
        f"backend {app.config['JOBS_BACKEND'].split('@')[-1]}"
    )
    consumer = huey.create_consumer(workers=workers, periodic=schedule, max_delay=max_delay, worker_type="thread")
    consumer.run()
