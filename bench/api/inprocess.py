"""What one API request costs inside the process: SQL statements and wall milliseconds (Flask test client)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from itertools import islice

from sqlalchemy import event

from portal.extensions import db


def cost(app, requests: Iterator, calls: int = 12, warm: int = 2) -> tuple[float, float]:
    """Median statements and milliseconds per request over `calls` requests after `warm` unmeasured ones.

    Only the portal's own engine is counted: with the in-process sandbox, the gateway's statements (its own
    engine) are the gateway's cost, not the API's.
    """
    client = app.test_client()
    counts, times = [], []
    seen = [0]
    count = lambda *_: seen.__setitem__(0, seen[0] + 1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for n, request in enumerate(islice(requests, calls + warm)):
            seen[0], started = 0, time.perf_counter()
            answer = client.open(request.path, method=request.method, headers=request.headers, data=request.body)
            elapsed = time.perf_counter() - started
            if answer.status_code >= 400:
                raise RuntimeError(f"{request.method} {request.path} answered {answer.status_code}: {answer.data!r}")
            if n >= warm:
                counts.append(seen[0])
                times.append(elapsed * 1000)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return statistics.median(counts), statistics.median(times)
