"""A real worker with the schedule on expires an overdue order without anyone calling `flask orders expire`.

Huey's scheduler looks at the periodic tasks when the worker starts and then once a minute, so the
every-minute `expire_unpaid_orders` runs within about a minute (waited for: 90 s at most).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from portal.extensions import db
from portal.jobs.queue import huey
from portal.orders.models import Order
from portal.timeutil import utcnow
from tests.jobs.test_real_worker_webhooks import start_worker, web_app_on_redis  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("PORTAL_SKIP_WORKER") == "1", reason="the real-worker suite runs in the PostgreSQL pass"
    ),
]


def test_the_schedule_expires_an_overdue_order_by_itself(app, start_worker, make):  # noqa: F811
    # The schedule's overlap guard needs a lock with a TTL; Huey's lock_task has none on Redis < 7.4 (CI's and
    # this machine's 7.0), so this runs once portal/jobs/locks.py (the jobs core's leases) is in the tree.
    pytest.importorskip("portal.jobs.locks", reason="needs the jobs core's leases (Huey's lock TTL: Redis 7.4+)")
    overdue, fresh = make.order(), make.order()
    overdue.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    with web_app_on_redis(app):
        assert not huey.immediate
        worker = start_worker(schedule=True)
        worker.wait_for(
            lambda: db.session.get(Order, overdue.id).status == "expired",
            timeout=90,
            what="the overdue order is expired by the schedule",
        )

    assert db.session.get(Order, fresh.id).status == "pending"
    assert "expire_unpaid_orders" in worker.output()
