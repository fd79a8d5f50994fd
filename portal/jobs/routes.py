"""/admin/jobs: the run log, failures with their errors, retry of a failed run, the schedule, queue depth."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal import htmx
from portal.auth.decorators import staff_blueprint_guard
from portal.extensions import db
from portal.inputs import db_int
from portal.jobs import services
from portal.jobs.models import JobRun, RunStatus

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")
staff_blueprint_guard(bp, minimum="admin")  # the queue's internals and arguments: admins only
log = logging.getLogger(__name__)
TONES = {"complete": "ok", "running": "wait", "retrying": "wait", "error": "bad", "interrupted": "bad"}


@bp.get("")
def list_runs():
    status = request.args.get("status", "")
    task = request.args.get("task", "")
    status = status if status in set(RunStatus) else ""
    runs = services.recent_runs(status=status, task=task[:120], before=db_int(request.args.get("before")))
    context = {"runs": runs, "run_status": status, "task": task[:120], "tones": TONES, "page_size": services.PAGE}
    if htmx.is_partial():
        return htmx.render("jobs/_runs.html", "jobs/_runs.html", **context)
    context.update(_overview())
    return htmx.render("jobs/list.html", "jobs/_runs.html", **context)


def _overview() -> dict:
    try:
        snap, down = services.snapshot(current_app.config["JOBS_BACKEND"]), None
    except services.BackendDown as exc:
        snap, down = None, str(exc)
    return {
        "snap": snap,
        "down": down,
        "schedules": snap.schedules if snap else services.schedules(),
        "statuses": [str(s) for s in RunStatus],
        "task_names": services.task_names(),
    }


@bp.post("/<int:run_id>/retry")
def retry_run(run_id: int):
    """Enqueue a failed run's task again with its stored arguments (once per failed run)."""
    if db.session.get(JobRun, run_id) is None:
        abort(404, description="No such job run.")
    try:
        run = services.retry_run(run_id, by=current_user.email)
    except services.NotRetryable as exc:
        return _refused(run_id, str(exc), 409)
    except services.BackendDown as exc:
        return _refused(run_id, str(exc), 503)
    log.info("%s retried job run %s (%s)", current_user.email, run.id, run.task_name)
    if htmx.is_partial():
        return htmx.render("jobs/_row.html", "jobs/_row.html", run=run, tones=TONES)
    flash(f"{run.task_name} (run {run.id}) enqueued again.", "success")
    return redirect(url_for("jobs.list_runs"))


def _refused(run_id: int, message: str, status: int):
    if htmx.is_partial():  # app.js shows the error page's message as a flash
        abort(status, description=f"Cannot retry run {run_id}: {message}.")
    flash(f"Cannot retry run {run_id}: {message}.", "error")
    return redirect(url_for("jobs.list_runs"))
