"""Outbox send throughput: messages/s through the whole send path (claim, render, SMTP, record) against the
bare floor of handing the same MIME message to the same SMTP server, one connection per message.

    .venv/bin/python -m bench.notifications.bench [--messages 300] [--database-url postgresql://…/bench_outbox]

A real SMTP server (aiosmtpd) runs in this process on 127.0.0.1; the database is a scratch SQLite file unless
--database-url names a PostgreSQL database (created when missing, its tables dropped and recreated).
"""

from __future__ import annotations

import argparse
import smtplib
import tempfile
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_app(database_url: str, smtp_url: str):
    from portal import create_app
    from portal.config import TestingConfig
    from portal.extensions import db

    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_ENABLED=False,
        JOBS_IMMEDIATE=False,
        JOBS_BACKEND="memory://",  # enqueued jobs stay in memory: the bench sends them itself
        SMTP_URL=smtp_url,
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def queue(count: int) -> list[int]:
    from portal.extensions import db
    from portal.notifications.outbox import queue_message

    ids = []
    for n in range(count):
        message = queue_message("test_message", to=f"ops{n}@bench.test", key=f"bench:{n}", audience="staff")
        db.session.flush()
        ids.append(message.id)
    db.session.commit()
    return ids


def through_the_outbox(ids: list[int]) -> float:
    from portal.notifications.services import send_message_now

    start = time.perf_counter()
    outcomes = [send_message_now(message_id) for message_id in ids]
    elapsed = time.perf_counter() - start
    assert outcomes.count("sent") == len(ids), outcomes[:5]
    return len(ids) / elapsed


def bare_smtp(port: int, count: int, raw: bytes) -> float:
    start = time.perf_counter()
    for n in range(count):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("billing@bench.test", [f"ops{n}@bench.test"], raw)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite'}"
        if url.startswith("postgresql"):
            from bench.scratch import ensure_database
            from portal.config import normalise_database_url

            ensure_database(url)
            url = normalise_database_url(url)
        app = make_app(url, f"smtp://127.0.0.1:{port}")
        with app.app_context():
            from portal.extensions import db
            from portal.notifications.mailer import build
            from portal.notifications.models import OutboxMessage
            from portal.notifications.rendering import render

            ids = queue(args.messages)
            outbox = through_the_outbox(ids)
            email = build(render(db.session.get(OutboxMessage, ids[0])), to="ops@bench.test")
            raw = email.message().as_bytes(linesep="\r\n")  # as Flask-Mailman's SMTP backend sends it
        floor = bare_smtp(port, args.messages, raw)
    finally:
        controller.stop()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"outbox send, {args.messages} messages, {database}: {outbox:,.0f} messages/s through the outbox")
    print(f"bare smtplib (same message, one connection each): {floor:,.0f} messages/s")
    print(f"outbox / bare: {outbox / floor:.0%}")


if __name__ == "__main__":
    main()
