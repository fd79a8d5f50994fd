#!/usr/bin/env bash
# `make run`'s last step: the background-job worker (which also runs the schedule: expiring unpaid orders,
# webhook retries, the outbox, …) started beside the development web server, and stopped when it stops.
# Both read the same JOBS_BACKEND (default: instance/jobs.sqlite), so what the web app enqueues, this
# worker runs. Extra arguments go to `flask run`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-5000}"
export FLASK_APP=wsgi

"$BIN/flask" jobs worker --workers "${JOBS_WORKERS:-2}" &
worker=$!
stop_worker() {
  if kill -0 "$worker" 2>/dev/null; then
    kill -INT "$worker" 2>/dev/null || true  # Huey finishes the running jobs, then exits
    wait "$worker" 2>/dev/null || true
  fi
}
trap stop_worker EXIT
trap 'exit 130' INT TERM

"$BIN/flask" run --host 127.0.0.1 --port "$PORT" "$@"
