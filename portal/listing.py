"""Shared machinery of the admin lists: query-string filters, keyset pages, capped counts, CSV streaming.

Lists never use COUNT(*) + OFFSET: at a million rows both cost hundreds of milliseconds. Pages are
keyset ("seek") pages on (sort column, id), which cost the same on page 1 and page 10,000, and the
status tabs show counts capped at COUNT_CAP ("1,000+"), each answered from a (status, ...) index:
an exact "312,418" costs a scan of every matching row, "1,000+" costs a thousand index entries.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Response, abort, stream_with_context
from sqlalchemy import and_, func, literal, or_, select, union, union_all

from portal.extensions import db
from portal.inputs import DB_INT_MAX, db_int
from portal.money import InvalidAmount, parse_amount
from portal.timeutil import day_bounds_utc, to_local, utcnow

COUNT_CAP = 1_000
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
CSV_BATCH = 1000


# ---------------------------------------------------------------- parsing the query string


@dataclass
class ListArgs:
    """The filters every list understands, parsed from the query string; `errors` by field name."""

    q: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    sort: str = ""
    descending: bool = True
    after: str = ""
    before: str = ""
    per_page: int = DEFAULT_PAGE_SIZE
    extra: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # what one request reads once for several queries (`searched`)


# Filter dates are whole days widened to datetimes (`to` + 1 day, a time-zone offset either way):
# 9999-12-31 or 0001-01-01 would overflow that arithmetic (an OverflowError, a 500), and no payment is
# that old or that far ahead, so the range is bounded well inside what `datetime` can hold.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9998, 12, 31)


class DateOutOfRange(ValueError):
    """A readable date outside MIN_DATE..MAX_DATE."""


def to_date(text: str | None) -> date | None:
    """A filter date from `YYYY-MM-DD` (None when empty); ValueError when unreadable, DateOutOfRange (one)
    outside MIN_DATE..MAX_DATE. The one date parser of every list's query string."""
    text = (text or "").strip()
    if not text:
        return None
    day = date.fromisoformat(text)
    if not MIN_DATE <= day <= MAX_DATE:
        raise DateOutOfRange(f"{day} is outside {MIN_DATE}..{MAX_DATE}")
    return day


def lenient_date(text: str | None) -> date | None:
    """A filter date, or None when it is empty or unreadable (lists whose shared URL ignores a bad date)."""
    try:
        return to_date(text)
    except ValueError:
        return None


def parse_date(text: str, name: str, errors: dict) -> date | None:
    try:
        return to_date(text)
    except DateOutOfRange:
        errors[name] = f"Use a date between {MIN_DATE} and {MAX_DATE}."
    except ValueError:
        errors[name] = "Use a date like 2026-01-31."
    return None


def parse_id(text: str, name: str, errors: dict, message: str = "No such record.") -> int | None:
    """An id from the query string (None when empty); one the database cannot hold is a field error."""
    text = (text or "").strip()
    if not text:
        return None
    number = db_int(text)
    if number is None:
        errors[name] = message
    return number


def clamped_int(text: str | None, default: int, low: int, high: int) -> int:
    """A query-string number held to [low, high]; `default` for anything that is not a whole number."""
    try:
        return min(max(int(text), low), high)
    except (TypeError, ValueError):
        return default


def page_number(text: str | None) -> int:
    """A `page` from the query string: a number in 1..DB_INT_MAX, else page 1 (a shared URL stays usable)."""
    return db_int(text) or 1


def parse_money(text: str, name: str, errors: dict) -> int | None:
    if not text:
        return None
    try:
        amount = parse_amount(text)
    except InvalidAmount:
        errors[name] = "Use an amount like 250.00. Digits 0–9; commas only between digit groups, as in 1,00,000.50."
        return None
    if abs(amount) > DB_INT_MAX:  # amounts are INTEGER columns: PostgreSQL refuses to compare with more
        errors[name] = f"Use an amount up to {DB_INT_MAX // 100:,}."
        return None
    return amount


def parse_list_args(args, *, statuses: Iterable[str], sorts: Iterable[str], default_sort: str) -> ListArgs:
    """Read q/status/from/to/min/max/sort/dir/after/before/per_page; unknown values become field errors."""
    errors: dict = {}
    status = args.get("status", "").strip()
    if status and status not in set(statuses):
        errors["status"] = "Unknown status."
        status = ""
    sort = args.get("sort", "").strip() or default_sort
    if sort not in set(sorts):
        errors["sort"] = "Unknown sort column."
        sort = default_sort
    per_page = args.get("per_page", type=int) or DEFAULT_PAGE_SIZE
    parsed = ListArgs(
        q=args.get("q", "").strip()[:200],
        status=status,
        date_from=parse_date(args.get("from", "").strip(), "from", errors),
        date_to=parse_date(args.get("to", "").strip(), "to", errors),
        min_amount=parse_money(args.get("min", "").strip(), "min", errors),
        max_amount=parse_money(args.get("max", "").strip(), "max", errors),
        sort=sort,
        descending=args.get("dir", "desc") != "asc",
        after=args.get("after", ""),
        before=args.get("before", ""),
        per_page=per_page if per_page in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        errors=errors,
    )
    if parsed.date_from and parsed.date_to and parsed.date_from > parsed.date_to:
        errors["to"] = "The end date is before the start date."
    return parsed


def date_range_clauses(column, args: ListArgs) -> list:
    """The list's `from`/`to` as conditions on `column` (see day_range_clauses)."""
    return day_range_clauses(column, args.date_from, args.date_to)


def day_range_clauses(column, date_from: date | None, date_to: date | None) -> list:
    """Dates are whole calendar days in the business's zone (TIMEZONE), inclusive at both ends, turned into
    UTC bounds (timeutil.day_bounds_utc); compare on the raw column so its index is used."""
    clauses = []
    if date_from:
        clauses.append(column >= day_bounds_utc(date_from)[0])
    if date_to:
        clauses.append(column < day_bounds_utc(date_to)[1])
    return clauses


def amount_range_clauses(column, args: ListArgs) -> list:
    clauses = []
    if args.min_amount is not None:
        clauses.append(column >= args.min_amount)
    if args.max_amount is not None:
        clauses.append(column <= args.max_amount)
    return clauses


# ---------------------------------------------------------------- keyset pages


def encode_cursor(value, row_id: int) -> str:
    payload = ["dt", value.isoformat(), row_id] if isinstance(value, datetime) else ["v", value, row_id]
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(token: str):
    """(value, id) or None for a missing or tampered cursor (which then simply means page one)."""
    if not token:
        return None
    try:
        kind, value, row_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if kind == "dt":
            value = datetime.fromisoformat(value)
        if db_int(row_id) is None or not isinstance(value, datetime | int | str) or isinstance(value, bool):
            return None  # an id past the database's range, or a value no sort column holds
        return value, row_id
    except (ValueError, TypeError):
        return None


def _fits(column, value) -> bool:
    """Whether a cursor's value can be compared with the sort column (a tampered cursor may hold a string
    for a timestamp column, or an integer past the INTEGER columns' range, which PostgreSQL refuses)."""
    try:
        expected = column.type.python_type
    except NotImplementedError:
        return False
    if expected is int:
        return isinstance(value, int) and abs(value) <= DB_INT_MAX
    return isinstance(value, expected)


@dataclass
class Page:
    rows: list
    next_cursor: str = ""
    prev_cursor: str = ""

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_prev(self) -> bool:
        return bool(self.prev_cursor)


def _seek(column, id_column, value, row_id, *, forward_desc: bool):
    """Rows strictly after (value, id) in the given direction; the leading `<=`/`>=` lets an index on the
    sort column serve the range even where row-value comparison would not."""
    if forward_desc:
        return and_(column <= value, or_(column < value, and_(column == value, id_column < row_id)))
    return and_(column >= value, or_(column > value, and_(column == value, id_column > row_id)))


def _read_cursor(args: ListArgs, column) -> tuple[tuple | None, bool]:
    """(cursor, walking backwards); a cursor that does not fit the sort column simply means page one."""
    before = decode_cursor(args.before)
    cursor = before if before is not None else decode_cursor(args.after)
    if cursor is None or not _fits(column, cursor[0]):
        return None, False
    return cursor, before is not None


def top_ids(id_column, where: list, arms: list, order, limit: int):
    """Ids of the first `limit` rows in `order` that match `where` and any one of `arms`, as ONE select:
    `(SELECT id … arm 1 ORDER BY … LIMIT n) UNION ALL (… arm 2 …)`. Each arm is planned alone — a rare
    term read through its own index, a common one by walking the sort index until n rows matched — where
    an OR of the arms (across a join) could use no index and read the whole table."""
    parts = []
    for arm in arms:
        inner = select(id_column).where(*where, arm).order_by(*order).limit(limit).subquery()
        parts.append(select(inner.c[0]))
    return parts[0] if len(parts) == 1 else union_all(*parts)


@dataclass
class Searched:
    """A list's search, read once per request (see `searched`): its arms (portal.search.arms), and the
    (id, status) of every row it finds under the list's other filters when at most COUNT_CAP, else None."""

    arms: list
    found: list[tuple[int, str]] | None
    cap: int = COUNT_CAP


def _capped_matches(id_column, status_column, where: list, arms: list, cap: int):
    """(id, status) of at most cap + 1 rows per arm matching `where` and the arm (a row two arms find once)."""
    capped = [select(id_column, status_column).where(*where, arm).limit(cap + 1).subquery() for arm in arms]
    rows = [select(*c.c) for c in capped]
    return (rows[0] if len(rows) == 1 else union(*rows)).subquery()


def searched(args: ListArgs, model, status_column, where: list, target: str, cap: int = COUNT_CAP):
    """The search of this request's list (`target`), probed once and kept on `args` for the page and the tab
    counts; None when there is no search.

    The probe is one capped read in no particular order: the planner takes the cheapest way to find cap + 1
    matches (a trigram index for a rare term, a scan that soon stops for a common one). When the search
    finds at most `cap` rows they are all known: the page is fetched by primary key and the tabs are counted
    from them. Without it the planner, from a misestimate, may walk the date index of a million orders
    looking for the 24 of one customer (840 ms, where the probe takes 8). Free text is first read as a
    prefix (portal.search.prefix_arms): past the cap already, it is common, and the probe is skipped.
    `where`: the list's other filters without its status tab."""
    from portal import search

    arms = search.arms(args.q, target)
    if not arms:
        return None
    if "searched" not in args.cache:
        found = None
        prefix = search.prefix_arms(args.q, target)
        if prefix is None or probe_matches(where, model.__table__.c.id, prefix, cap) is not None:
            matches = _capped_matches(model.__table__.c.id, status_column, where, arms, cap)
            rows = [tuple(r) for r in db.session.execute(select(*matches.c)).all()]
            found = rows if len(rows) <= cap else None
        args.cache["searched"] = Searched(arms, found, cap)
    return args.cache["searched"]


def probe_matches(where: list, id_column, arms: list, cap: int = COUNT_CAP) -> list[int] | None:
    """Every id the search finds when it finds at most `cap` rows, else None (as `searched`, ids only)."""
    found: set[int] = set()
    for arm in arms:
        ids = list(db.session.scalars(select(id_column).where(*where, arm).limit(cap + 1)))
        if len(ids) > cap:
            return None
        found.update(ids)
    return sorted(found)


def narrowed(query, id_column, arms: list | None, extra: list = (), order=(), limit: int = 0, ids=(), prefix=None):
    """`query` narrowed to the search `arms`: by id when every match is known (`ids`, else probed here, after
    the `prefix` arms as in `searched`); else one arm as a plain condition, several through top_ids (which
    needs `order` and `limit`)."""
    from portal.search import id_in

    if not arms:
        return query
    where = [c for c in (query.whereclause,) if c is not None]
    if ids == ():
        common = prefix is not None and probe_matches(where, id_column, prefix) is None
        ids = None if common else probe_matches(where, id_column, arms)
    if ids is not None:
        return query.where(id_column.in_(ids))
    if len(arms) == 1 or not limit:
        return query.where(arms[0] if len(arms) == 1 else or_(*arms))
    top = top_ids(id_column, [*where, *extra], arms, order, limit)
    return query.where(id_in(id_column, top, db.session.get_bind().dialect.name))


def keyset_page(query, column, id_column, args: ListArgs, key: Callable, search: Searched | None = None) -> Page:
    """One page of `query` ordered by (column, id); `key(row)` gives a row's (value, id). `search`: the
    list's search (`searched`), a row matching any one of its arms."""
    size = args.per_page
    cursor, backwards = _read_cursor(args, column)
    desc = args.descending != backwards  # walking back means reading the other way, then flipping
    seek = [] if cursor is None else [_seek(column, id_column, cursor[0], cursor[1], forward_desc=desc)]
    order = (column.desc(), id_column.desc()) if desc else (column.asc(), id_column.asc())
    if search is not None:
        ids = None if search.found is None else [row[0] for row in search.found]
        query = narrowed(query, id_column, search.arms, seek, order, size + 1, ids=ids)
    rows = list(db.session.scalars(query.where(*seek).order_by(*order).limit(size + 1)).unique())
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = Page(rows)
    if not rows:
        return page
    first, last = key(rows[0]), key(rows[-1])
    if backwards:
        page.next_cursor = encode_cursor(*last)  # the page we came from is still there
        page.prev_cursor = encode_cursor(*first) if more else ""
    else:
        page.next_cursor = encode_cursor(*last) if more else ""
        page.prev_cursor = encode_cursor(*first) if cursor is not None else ""
    return page


# ---------------------------------------------------------------- capped counts


def capped_counts(
    model,
    status_column,
    statuses: Iterable[str],
    where: list,
    cap: int = COUNT_CAP,
    search: Searched | None = None,
    current: str = "",
) -> dict:
    """{status: n} and {"": all} with n ≤ cap + 1, in ONE statement of capped sub-selects.

    Each arm stops after cap + 1 rows of its own (status, created_at) index range, so the cost is
    bounded by the cap rather than by the table, however large it grows.

    Under a search the tabs come from its one capped probe (`searched`), not from a read per tab (a
    common name in a rare tab would make each tab read most of the name's rows): exact when the search
    finds at most `cap` rows; else All is "1,000+", the current tab is counted alone (capped), the other
    tabs show no number (None).
    """
    if search is not None:
        return _searched_counts(model, status_column, statuses, where, search, cap, current)
    selects = []
    for status in ("", *statuses):
        conditions = [*where, status_column == status] if status else list(where)
        inner = select(literal(1).label("one")).select_from(model).where(*conditions).limit(cap + 1).subquery()
        selects.append(select(literal(status).label("status"), func.count().label("n")).select_from(inner))
    return dict(db.session.execute(union_all(*selects)).all())


def _searched_counts(model, status_column, statuses, where, search: Searched, cap, current) -> dict:
    if search.found is not None:
        counts = dict.fromkeys(statuses, 0)
        for _id, status in search.found:
            counts[status] = counts.get(status, 0) + 1
        return {"": len(search.found), **counts}
    cap = search.cap
    counts: dict = {"": cap + 1, **dict.fromkeys(statuses)}
    if current:
        in_tab = _capped_matches(
            model.__table__.c.id, status_column, [*where, status_column == current], search.arms, cap
        )
        counts[current] = db.session.scalar(select(func.count()).select_from(in_tab))
    return counts


def display_count(n: int | None, cap: int = COUNT_CAP) -> str:
    if n is None:
        return ""
    return f"{cap:,}+" if n > cap else f"{n:,}"


# ---------------------------------------------------------------- CSV


def _safe_cell(value) -> str:
    """Spreadsheets execute cells that start with = + - @: prefix such text with a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):  # stored naive UTC → the business's local time, with its offset
        return to_local(value).isoformat(sep=" ", timespec="seconds")
    text = str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def minor_to_decimal(amount: int | None) -> str:
    """12345 → "123.45" without ever touching a float."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(int(amount)), 100)
    return f"{sign}{whole}.{fraction:02d}"


def stream_rows(statement, batch: int = CSV_BATCH) -> Iterator:
    """Rows of `statement`, fetched from a server-side cursor `batch` at a time."""
    result = db.session.execute(statement.execution_options(yield_per=batch))
    yield from result


def filtered_csv(name: str, args: ListArgs, header: list[str], rows: Callable[[ListArgs], Iterable]) -> Response:
    """A list's `?format=csv` export: 422 naming the bad filters (a CSV of the wrong rows helps no one), else
    the rows the filter shows, streamed as `<name>-<timestamp>.csv`."""
    if args.errors:
        abort(422, description="Fix the filter first: " + "; ".join(args.errors.values()))
    return csv_response(f"{name}-{utcnow():%Y%m%d-%H%M}.csv", header, rows(args))


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    """Stream a CSV download: memory stays flat however many rows the filter matches."""

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for n, row in enumerate(rows, 1):
            writer.writerow([_safe_cell(v) for v in row])
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def query_without(args, *names: str) -> dict:
    """The current query string minus `names` (for tab, sort and page links that keep the filter)."""
    return {k: v for k, v in args.items(multi=False) if k not in names and v != ""}


def url_builder(endpoint: str, args, **fixed):
    """`link(**changes)` → this list's URL with the current filter, `changes` applied (None drops a key).

    Cursors and `format` are never carried over: a new sort, tab or filter starts at page one.
    """
    from flask import url_for

    base = {**query_without(args, "after", "before", "format"), **fixed}

    def link(**changes) -> str:
        merged = {**base, **changes}
        return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})

    return link


@dataclass
class NumberedPage:
    """One page of a small log (webhook events, outbox messages) paged by number, with its total."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def numbered_page(query, order, page: int, per_page: int) -> NumberedPage:
    """Page `page` of `query` in `order` (a tuple of columns), with the total count of its rows."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.order_by(*order).limit(per_page).offset((page - 1) * per_page))
    return NumberedPage(list(rows), total, page, per_page)
