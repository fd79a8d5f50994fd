"""Database helpers that differ between SQLite and PostgreSQL.

Every locked read-modify-write goes through `for_update()`. PostgreSQL serialises those with row locks;
SQLite has no row locks and its compiler drops FOR UPDATE, so on SQLite a locked read takes the
database's one write lock instead (`BEGIN IMMEDIATE` before the read): a second caller waits there,
then reads the state the first one committed — the same outcome as a row lock, one writer at a time.
"""

from __future__ import annotations

from sqlalchemy import event

SQLITE_BUSY_TIMEOUT_MS = 10000


def enable_sqlite_pragmas(engine) -> None:
    """Foreign keys on, WAL for concurrent readers, a busy timeout instead of instant 'locked', write
    transactions that take the write lock when they begin, and locked reads that take it before reading."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        # pysqlite opens a transaction only before the first INSERT/UPDATE/DELETE (reads before it see the
        # latest commit, like READ COMMITTED); IMMEDIATE makes that BEGIN wait for the write lock up front
        # rather than fail with "database is locked" when it upgrades a read lock under contention.
        dbapi_connection.isolation_level = "IMMEDIATE"

    @event.listens_for(engine, "before_execute")
    def _lock_before_locked_read(conn, clauseelement, _multiparams, _params, _execution_options):
        if getattr(clauseelement, "_for_update_arg", None) is not None:
            begin_write_transaction(conn)


def begin_write_transaction(conn) -> None:
    """On SQLite, make the connection's transaction a writing one now (waiting up to the busy timeout).

    Nothing to do when it already is one: a transaction that wrote, or began immediate, holds the lock.
    A pysqlite connection that has not written yet is in autocommit mode (no snapshot held), so starting
    here cannot meet a stale snapshot.
    """
    driver = conn.connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def for_update(statement, of=None):
    """SELECT … FOR UPDATE (of `of` only, so eager joins lock nothing else), refreshing objects the
    session already holds: a lock on a row whose stale copy we keep using would protect nothing.
    On SQLite the same statement takes the database's write lock first (see `enable_sqlite_pragmas`)."""
    return statement.with_for_update(of=of).execution_options(populate_existing=True)


def committed(work):
    """Run `work()` as one transaction: commit what it did and return its result, or roll back and re-raise.
    For services whose body is a closure (the catalogue's and vendors' edits)."""
    from portal.extensions import db

    try:
        result = work()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result
