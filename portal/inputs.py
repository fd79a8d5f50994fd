"""Bounds for numbers that reach the database from outside: URL paths, query strings and form fields.

PostgreSQL's INTEGER holds -2^31..2^31-1; comparing a column with a larger literal makes it raise
"integer out of range" (a 500), while SQLite quietly answers "no match". An id or page outside the range
can name nothing we store, so callers treat it as "no such thing" (404, no match, or a form error).
"""

from __future__ import annotations

import json

from werkzeug.routing import IntegerConverter, ValidationError
from wtforms import IntegerField

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


def db_ids(values) -> list[int]:
    """The values that are usable ids (see `db_int`); the others name nothing and are dropped."""
    return [number for number in map(db_int, values) if number is not None]


# ---------------------------------------------------------------- URL paths


class DbIntConverter(IntegerConverter):
    """Flask's `<int:…>`, bounded to what the database can compare with (registered as `int` itself, so every
    route is covered): an id of 11+ digits or past DB_INT_MAX does not match the rule, and the path is a 404.
    Non-ASCII digits ('٣') never name a row either. An explicit `int(max=…)` still applies."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=DB_INT_MAX if max is None else max, signed=signed)

    def to_python(self, value: str) -> int:
        digits = value[1:] if value[:1] == "-" else value
        # Checked before int(): Python refuses to convert more than 4,300 digits (a ValueError, hence a 500).
        if len(digits) > len(str(DB_INT_MAX)) or not digits.isascii():
            raise ValidationError
        return super().to_python(value)


# ---------------------------------------------------------------- form fields


class IdField(IntegerField):
    """A form field holding one of our ids: a whole number in 1..DB_INT_MAX, else a field error."""

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and db_int(self.data) is None:
            # None, not the number: a page re-rendered with the form must not look it up either.
            self.data = None
            raise ValueError(self.gettext("No such record."))


# ---------------------------------------------------------------- JSON bodies

MAX_JSON_DEPTH = 32  # our bodies nest 3 levels (API) or about 6 (Razorpay events)


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH (a ValueError, as any other unreadable JSON)."""


def loads_json(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, **kwargs):
    """`json.loads`, refusing documents nested deeper than `max_depth` with JSONTooDeep.

    Without the bound, `[` × 5000 raises RecursionError — not a ValueError, so it escapes every
    "is this JSON?" check and becomes a 500 — and a depth just under the interpreter's limit would
    break whatever walks the document next.
    """
    try:
        data = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels") from None
    if _deeper_than(data, max_depth):
        raise JSONTooDeep(f"JSON nested deeper than {max_depth} levels")
    return data


def _deeper_than(data, limit: int) -> bool:
    """Whether `data` nests more than `limit` arrays/objects deep; iterative, so no depth can break it."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
