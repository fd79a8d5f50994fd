#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on PostgreSQL (TEST_DATABASE_URL, or the local server if one answers).
# Browser tests and real-worker tests (PORTAL_SKIP_WORKER) run once: in the PostgreSQL pass when there is one,
# else in the SQLite pass. TEST_REDIS_URL (db 15) is exported when Redis answers on 127.0.0.1:6379.
# Extra arguments go to pytest in both passes (e.g. `make test ARGS="-k refunds -x"`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
LOCAL_PG="postgresql://postgres@127.0.0.1:5432/test"

PG_URL="${TEST_DATABASE_URL:-}"
if [[ -n "$PG_URL" ]]; then
  "$BIN/python" scripts/pg_ready.py "$PG_URL" || exit 1  # a URL was given: it must work
elif "$BIN/python" scripts/pg_ready.py "$LOCAL_PG" 2>/dev/null; then
  PG_URL="$LOCAL_PG"
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI=true but PostgreSQL is not reachable: set TEST_DATABASE_URL (.ci/run starts the local server)" >&2
  exit 1
fi

# Redis db 15 for the suites that need Redis (they skip without it, and fail under CI=true).
redis_answers() {
  local reply=""
  { exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && IFS= read -r -t 2 reply <&3; } 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  [[ "$reply" == +PONG* ]]
}
if [[ -z "${TEST_REDIS_URL:-}" ]] && redis_answers; then
  export TEST_REDIS_URL="redis://127.0.0.1:6379/15"
fi

status=0
echo "== tests on SQLite"
if [[ -n "$PG_URL" ]]; then
  # The browser and real-worker suites run once, in the PostgreSQL pass.
  env -u TEST_DATABASE_URL PORTAL_SKIP_BROWSER=1 PORTAL_SKIP_WORKER=1 "$BIN/pytest" "$@" || status=$?
else
  env -u TEST_DATABASE_URL "$BIN/pytest" "$@" || status=$?
fi

if [[ -n "$PG_URL" ]]; then
  echo "== tests on PostgreSQL (with the browser tests)"
  TEST_DATABASE_URL="$PG_URL" "$BIN/pytest" "$@" || status=$?
else
  echo "== PostgreSQL not reachable: its pass was skipped (set TEST_DATABASE_URL to run it)"
fi
exit "$status"
