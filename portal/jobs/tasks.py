"""The jobs platform's own schedule: the run log's retention."""

from __future__ import annotations

import logging

from flask import current_app

from portal.jobs import crontab, schedule, services

log = logging.getLogger(__name__)


@schedule(crontab(minute="17", hour="3"), lock_ttl=1800)
def purge_job_runs() -> int:
    """Daily: `flask jobs purge` with JOB_RUNS_KEEP_DAYS (failures: JOB_RUNS_KEEP_FAILED_DAYS)."""
    config = current_app.config
    count = services.purge_runs(config["JOB_RUNS_KEEP_DAYS"], failed_days=config["JOB_RUNS_KEEP_FAILED_DAYS"])
    log.info("purge_job_runs: deleted %d run(s)", count)
    return count
