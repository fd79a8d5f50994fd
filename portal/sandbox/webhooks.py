"""Webhook delivery as Razorpay does it: the event envelope, signed with the webhook secret, POSTed with
`X-Razorpay-Event-Id`, retried with exponential backoff on anything but 2xx for 24 hours, every attempt logged.

Deliveries live in the sandbox's store, so pending ones survive a restart. `SANDBOX_WEBHOOK_SYNC` delivers
right after the change in the caller's thread (tests) — except when the change came from an in-process API
call made *inside* a portal request or service, whose transaction may hold the very rows the webhook handler
must lock: those wait until that request ends (`flush_deferred`) or until `deliver_due()` is called.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import requests
from sqlalchemy import insert, select, update

from portal.sandbox import store as st
from portal.sandbox.signatures import sign

log = logging.getLogger("portal.sandbox.webhooks")
ACCOUNT_ID = "acc_SandboxAcct0001"
GIVE_UP_AFTER = 24 * 3600
TIMEOUT = 5.0


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): 5 s, 20 s, 80 s, … capped at one hour."""
    return float(min(5 * 4 ** (attempt - 1), 3600))


def envelope(name: str, payload: dict) -> bytes:
    body = {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": name,
        "contains": list(payload),
        "payload": payload,
        "created_at": int(st.now()),
    }
    return json.dumps(body, indent=2).encode()


class Dispatcher:
    def __init__(self, sandbox, *, url: str, secret: str, sync: bool, background: bool = True):
        self.sandbox, self.url, self.secret, self.sync, self.background = sandbox, url, secret, sync, background
        self.session = requests.Session()
        self._wake = threading.Event()
        self._busy = threading.local()
        self._deliver_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._deferred = False

    @property
    def store(self):
        return self.sandbox.store

    def target(self, url: str, wsgi_app=None) -> None:
        """Send deliveries to `url`; with `wsgi_app`, in-process through that WSGI app (no port)."""
        from portal.gateway.transport import WSGITransport

        self.url = url
        if wsgi_app is not None:
            self.session.mount(url, WSGITransport(lambda: wsgi_app))

    # queueing ------------------------------------------------------------------------------------
    def enqueue(self, conn, events: list[tuple[str, dict]], faults: dict) -> None:
        """Write one delivery row per event (two with duplicate_webhooks) in the caller's transaction."""
        if faults.get("out_of_order_webhooks"):
            events = list(reversed(events))
        now = st.now()
        for name, payload in events:
            row = {
                "event_id": st.new_id(),
                "event": name,
                "body": envelope(name, payload).decode(),
                "created_at": now,
                "attempts": 0,
                "status": "dropped" if faults.get("drop_webhooks") else "pending",
                "next_attempt_at": None if faults.get("drop_webhooks") else now,
            }
            for _ in range(2 if faults.get("duplicate_webhooks") else 1):
                conn.execute(insert(st.deliveries).values(**row))

    def kick(self) -> None:
        """A change was committed: deliver now (sync), later (deferred), or wake the worker."""
        if not self.sync:
            self.start_worker()
            self._wake.set()
        elif _in_nested_api_call():
            self._deferred = True
        else:
            self.deliver_due()

    def flush_deferred(self) -> None:
        """Deliver what `kick` deferred; never waits for a delivery running in another thread (that
        delivery may be the very request now ending, and its loop picks the new rows up)."""
        if self._deferred:
            self._deferred = False
            self.deliver_due(blocking=False)

    # delivering ----------------------------------------------------------------------------------
    def deliver_due(self, now: float | None = None, *, blocking: bool = True) -> int:
        """Attempt every delivery that is due (at `now`, default the clock); returns the attempts made.
        Deliveries caused while delivering (a webhook handler refunding, say) are picked up in the same call."""
        if getattr(self._busy, "on", False):
            return 0  # re-entered from inside a delivery: the outer loop will pick new rows up
        if not self._deliver_lock.acquire(blocking=blocking):
            return 0
        tried: set[int] = set()  # one attempt per delivery per call, however far `now` is
        self._busy.on = True
        try:
            for _ in range(100):
                due = [row for row in self._due(now) if row["seq"] not in tried]
                if not due:
                    break
                for row in due:
                    self._attempt(row, now if now is not None else st.now())
                    tried.add(row["seq"])
        finally:
            self._busy.on = False
            self._deliver_lock.release()
        return len(tried)

    def _due(self, now: float | None) -> list[dict]:
        moment = now if now is not None else st.now()
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(st.deliveries)
                .where(st.deliveries.c.status == "pending", st.deliveries.c.next_attempt_at <= moment)
                .order_by(st.deliveries.c.seq)
            )
            return [dict(r._mapping) for r in rows]

    def _attempt(self, row: dict, moment: float) -> None:
        started = time.monotonic()
        status, error = self._post(row)
        duration = int((time.monotonic() - started) * 1000)
        ok = status is not None and 200 <= status < 300
        attempt_no = row["attempts"] + 1
        values = {"attempts": attempt_no, "last_status": status, "last_error": error}
        if ok:
            values.update(status="delivered", delivered_at=moment, next_attempt_at=None)
        elif moment - row["created_at"] > GIVE_UP_AFTER:
            values.update(status="failed", next_attempt_at=None)
        else:
            values.update(next_attempt_at=moment + backoff(attempt_no))
        with self.store.transaction() as conn:
            conn.execute(update(st.deliveries).where(st.deliveries.c.seq == row["seq"]).values(**values))
            conn.execute(
                insert(st.attempts).values(
                    delivery_seq=row["seq"], at=moment, status_code=status, error=error, duration_ms=duration
                )
            )
        log.info("webhook %s %s → %s in %d ms", row["event"], row["event_id"], status or error, duration)

    def _post(self, row: dict) -> tuple[int | None, str | None]:
        body = row["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Razorpay-Webhook/v1",
            "X-Razorpay-Event-Id": row["event_id"],
            "Request-Id": row["event_id"],
            "X-Razorpay-Signature": sign(self.secret, body),
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        error = None if response.ok else response.text[:500]
        return response.status_code, error

    # the background worker ------------------------------------------------------------------------
    def start_worker(self) -> None:
        with self._start_lock:
            if not self.background or (self._worker is not None and self._worker.is_alive()):
                return
            self._worker = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while not self._stopping:
            try:
                self.deliver_due()
            except Exception:  # the worker must outlive a bad moment (store locked, receiver down)
                log.exception("sandbox webhook delivery loop failed; retrying")
            self._wake.wait(timeout=self._seconds_to_next())
            self._wake.clear()

    def _seconds_to_next(self) -> float:
        with self.store.engine.connect() as conn:
            nxt = conn.execute(
                select(st.deliveries.c.next_attempt_at)
                .where(st.deliveries.c.status == "pending")
                .order_by(st.deliveries.c.next_attempt_at)
                .limit(1)
            ).scalar()
        return 5.0 if nxt is None else min(max(nxt - st.now(), 0.05), 5.0)

    # the delivery log ------------------------------------------------------------------------------
    def log(self, limit: int = 100) -> list[dict]:
        """Newest first: each delivery with its parsed event and its attempts."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(st.deliveries).order_by(st.deliveries.c.seq.desc()).limit(limit)).all()
            tried = conn.execute(
                select(st.attempts)
                .where(st.attempts.c.delivery_seq.in_([r.seq for r in rows]))
                .order_by(st.attempts.c.seq)
            ).all()
        by_delivery: dict[int, list[dict]] = {}
        for attempt in tried:
            by_delivery.setdefault(attempt.delivery_seq, []).append(dict(attempt._mapping))
        return [{**dict(r._mapping), "attempt_log": by_delivery.get(r.seq, [])} for r in rows]


def _in_nested_api_call() -> bool:
    from flask import has_request_context, request

    return has_request_context() and bool(request.environ.get("portal.inprocess"))
