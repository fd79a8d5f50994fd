"""Database helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event


def enable_sqlite_pragmas(engine) -> None:
    """Foreign keys on, WAL for concurrent readers, and a busy timeout instead of instant 'locked'."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def for_update(statement, of=None):
    """SELECT … FOR UPDATE (of `of` only, so eager joins lock nothing else), refreshing objects the
    session already holds: a lock on a row whose stale copy we keep using would protect nothing."""
    return statement.with_for_update(of=of).execution_options(populate_existing=True)
