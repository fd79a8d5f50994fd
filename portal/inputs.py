"""Bounds for numbers that reach the database from outside: URL paths, query strings and form fields.

PostgreSQL's INTEGER holds -2^31..2^31-1; comparing a column with a larger literal makes it raise
"integer out of range" (a 500), while SQLite quietly answers "no match". An id or page outside the range
can name nothing we store, so callers treat it as "no such thing" (404, no match, or a form error).
"""

from __future__ import annotations

DB_INT_MAX = 2**31 - 1


def db_int(value: object) -> int | None:
    """`value` (an int or the text of one, ASCII digits only) as an id the database can compare with, or None
    when it is not a whole number in 1..DB_INT_MAX."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip() if value is not None else ""
        if not (text.isascii() and text.isdigit()) or len(text) > 10:
            return None
        number = int(text)
    return number if 1 <= number <= DB_INT_MAX else None
