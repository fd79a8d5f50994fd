"""Jobs for one message that run at the same moment deliver it once (real row locks and transactions).

The claim is what decides: both jobs lock the row, the first marks it as being sent and commits, the second
then reads that claim and stands back. On PostgreSQL the jobs really overlap (row locks); the SQLite run is
the same test with the database's one write lock serialising the claims.
"""

from __future__ import annotations

from collections import Counter

from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import MessageStatus
from tests.helpers import run_together
from tests.notifications.helpers import fresh, queue_test_message


def _queued_message() -> int:
    message_id = queue_test_message()  # sent at commit (immediate mode): put it back in the queue, due now
    row = fresh(message_id)
    row.status, row.attempts, row.sent_at = MessageStatus.QUEUED, 0, None
    db.session.commit()
    return message_id


def _concurrent_jobs_deliver_once(app, smtp_server, jobs: int):
    message_id = _queued_message()
    before = len(smtp_server.messages)
    outcomes = Counter(run_together(app, lambda: services.send_message_now(message_id), jobs))
    assert outcomes == Counter({"sent": 1, "skipped": jobs - 1}), outcomes
    assert len(smtp_server.messages) - before == 1
    row = fresh(message_id)
    assert row.status == MessageStatus.SENT and row.attempts == 1


def test_concurrent_sends_of_one_message_deliver_it_once_on_postgres(postgres, smtp_server):
    _concurrent_jobs_deliver_once(postgres, smtp_server, jobs=8)


def test_concurrent_sends_of_one_message_deliver_it_once(app, smtp_server):
    _concurrent_jobs_deliver_once(app, smtp_server, jobs=2)
