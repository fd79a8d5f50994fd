"""What the message catalogue costs: the payment's own transaction (the rules' outbox rows) and the send job's
rendering of each kind.

    python -m bench.notifications.messages [--rounds 200]

(1) Writing: --rounds captured payments applied through apply_gateway_payment (the webhook's and verify-payment's
service) on a scratch SQLite database, alternately with the history listener of portal/notifications/rules on and
off, jobs queued in memory and not run (as with a worker: the request only writes rows). Printed: median wall
time per payment and SQL statements per payment, on and off. (2) Rendering: the send job's render() of the rows
written (the receipt includes its invoice PDF, rendered once and stored, then read), median per kind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def make_app(path: Path):
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    from portal import create_app
    from portal.config import DevelopmentConfig

    url = f"sqlite:///{path / 'bench.sqlite'}"
    return create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url,
        SANDBOX_DATABASE_URL=f"sqlite:///{path / 'sandbox.sqlite'}",
        JOBS_BACKEND="memory://",
        JOBS_IMMEDIATE=False,
        RATELIMIT_ENABLED=False,
    )


def one_payment(factories, listeners, rules_on: bool) -> tuple[float, int]:
    from sqlalchemy import event

    from portal.extensions import db
    from portal.history.services import Actor
    from portal.notifications.rules import on_history
    from portal.payments.services import apply_gateway_payment

    order = factories.order()
    entity = factories.payment_entity(order)
    db.session.expunge_all()
    if not rules_on:
        listeners.remove(on_history)
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    start = time.perf_counter()
    try:
        apply_gateway_payment(entity, actor=Actor.gateway())
    finally:
        elapsed = time.perf_counter() - start
        event.remove(db.engine, "before_cursor_execute", count)
        if not rules_on:
            listeners.append(on_history)
    return elapsed, len(seen)


def rendering(rounds: int) -> dict[str, float]:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.notifications.models import OutboxMessage
    from portal.notifications.rendering import render

    times: dict[str, list[float]] = {}
    for message in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id).limit(rounds)).all():
        start = time.perf_counter()
        render(message)
        times.setdefault(message.kind, []).append(time.perf_counter() - start)
    return {kind: statistics.median(values) for kind, values in sorted(times.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        with app.app_context():
            from portal.extensions import db
            from portal.history.services import LISTENERS
            from tests import factories

            db.create_all()
            factories.staff("admin")
            factories.staff("finance")
            results = {True: [], False: []}
            for n in range(args.rounds):
                rules_on = n % 2 == 0
                results[rules_on].append(one_payment(factories, LISTENERS, rules_on))
            for rules_on, label in ((False, "rules off"), (True, "rules on ")):
                wall = statistics.median(t for t, _ in results[rules_on]) * 1000
                sql = statistics.median(s for _, s in results[rules_on])
                print(f"{label}: {wall:6.2f} ms and {sql:.0f} statements per captured payment")
            print("render() per kind (median):")
            for kind, seconds in rendering(args.rounds).items():
                print(f"  {kind:24s} {seconds * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
