#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on PostgreSQL (TEST_DATABASE_URL, or the local server if one answers).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== tests on SQLite"
env -u TEST_DATABASE_URL "$BIN/pytest" "$@"

PG_URL="${TEST_DATABASE_URL:-}"
if [[ -z "$PG_URL" ]] && "$BIN/python" scripts/pg_ready.py "postgresql://postgres@127.0.0.1:5432/test" 2>/dev/null; then
  PG_URL="postgresql://postgres@127.0.0.1:5432/test"
fi
if [[ -n "$PG_URL" ]]; then
  echo "== tests on PostgreSQL"
  TEST_DATABASE_URL="$PG_URL" "$BIN/pytest" "$@"
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI=true but no PostgreSQL: set TEST_DATABASE_URL" >&2
  exit 1
else
  echo "== PostgreSQL not reachable: its pass was skipped (set TEST_DATABASE_URL to run it)"
fi
