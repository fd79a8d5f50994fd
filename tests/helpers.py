"""Small helpers for tests."""

from __future__ import annotations

import re
import threading

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def extract_csrf(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise AssertionError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def run_together(app, job, n: int) -> list:
    """Start `n` copies of `job` at one instant, each in its own thread and app context (own session); their
    results, an exception being a result the test asserts on."""
    from portal.extensions import db

    barrier, results = threading.Barrier(n), [None] * n

    def worker(index):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = job()
            except Exception as exc:
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return results
