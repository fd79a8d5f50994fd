"""Processing stored events off the request path, so Razorpay's delivery is answered right after the store.

The queue is only an accelerator: the durable record is the `pending` row committed before the answer. An
event still queued when the process stops (or refused by a full queue) stays `pending`, and
`flask webhooks retry` processes it once it is older than a few minutes.
"""

from __future__ import annotations

import os
import queue
import threading

from portal.extensions import db


class Worker:
    """A few daemon threads per process, started lazily (after a pre-forking server has forked)."""

    def __init__(self, app, threads: int = 2, capacity: int = 10000):
        self.app, self.threads = app, threads
        self.queue: queue.Queue = queue.Queue(maxsize=capacity)
        self._pid: int | None = None
        self._lock = threading.Lock()

    def submit(self, event_pk: int, event) -> bool:
        """Queue one stored event; False when the queue is full (the event waits for the retry sweep)."""
        self._ensure_started()
        try:
            self.queue.put_nowait((event_pk, event))
        except queue.Full:
            self.app.logger.warning("webhook queue full; event %s left pending for `flask webhooks retry`", event_pk)
            return False
        return True

    def _ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                for n in range(self.threads):
                    threading.Thread(target=self._run, name=f"webhook-worker-{n}", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        from portal.webhooks.services import process

        while True:
            event_pk, event = self.queue.get()
            with self.app.app_context():
                try:
                    process(event_pk, event)
                except Exception:  # process() records handler failures; this is the database itself failing
                    self.app.logger.exception("webhook event %s left pending", event_pk)
                finally:
                    db.session.remove()
                    self.queue.task_done()

    def drain(self, timeout: float | None = None) -> None:
        """Wait until every queued event is processed (tests, shutdown hooks)."""
        self.queue.join()
