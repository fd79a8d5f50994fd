"""Helpers for the admin route tests: counting SQL statements, CSRF-carrying requests."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db
from tests.helpers import extract_csrf


class Statements(list):
    """SQL statements executed while counting (excluding SQLite's PRAGMAs and SAVEPOINT chatter)."""


@contextmanager
def count_queries():
    seen = Statements()

    def _before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _before)


def csrf(client, path: str = "/admin/") -> str:
    """A CSRF token for the signed-in session (from the page's hx-headers)."""
    return extract_csrf(client.get(path).get_data(as_text=True))


HX = {"HX-Request": "true"}
