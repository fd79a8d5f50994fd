"""The queue's core: enqueue after commit, dropped on rollback, a failed send never breaks the commit,
and a schedule never overlaps itself."""

from __future__ import annotations

import logging

from portal.extensions import db
from portal.jobs import enqueue, huey
from portal.jobs.locks import Lease
from portal.jobs.models import JobRun
from tests.jobs import sample_tasks
from tests.jobs.conftest import CLOSED_PORT_REDIS


def test_a_job_enqueued_in_a_transaction_is_sent_when_it_commits(make):
    customer = make.customer()
    customer.name = "Changed"
    enqueue(sample_tasks.remember, customer.id)
    assert sample_tasks.calls == []  # held on the session
    db.session.commit()
    assert sample_tasks.calls == [customer.id]


def test_a_job_enqueued_in_a_rolled_back_transaction_is_never_sent(make):
    customer = make.customer()
    customer.name = "Changed"
    enqueue(sample_tasks.remember, "rolled back")
    db.session.rollback()
    db.session.commit()
    assert sample_tasks.calls == []


def test_outside_a_transaction_a_job_is_sent_at_once():
    enqueue(sample_tasks.remember, "now")
    assert sample_tasks.calls == ["now"]


def test_a_failed_enqueue_is_logged_and_the_commit_still_happens(queue_app, make, caplog):
    customer = make.customer()
    queue_app(CLOSED_PORT_REDIS)
    customer.name = "Committed anyway"
    enqueue(sample_tasks.remember, customer.id)
    with caplog.at_level(logging.WARNING, logger="portal.jobs.transactions"):
        db.session.commit()
    db.session.expire_all()
    assert customer.name == "Committed anyway"
    assert "could not enqueue remember" in caplog.text
    assert sample_tasks.calls == []


def test_a_schedule_whose_previous_run_holds_the_lock_is_skipped_and_recorded_locked():
    other_run = Lease(huey, "schedule:new_year_schedule", 60, owner="another-worker")
    assert other_run.acquire()
    sample_tasks.new_year_schedule()
    assert sample_tasks.calls == []
    skipped = db.session.query(JobRun).one()
    assert (skipped.status, skipped.periodic) == ("locked", True)
    assert "lock" in skipped.error

    other_run.release()
    sample_tasks.new_year_schedule()
    assert sample_tasks.calls == ["new-year"]
    assert [r.status for r in db.session.query(JobRun).order_by(JobRun.id)] == ["locked", "complete"]


def test_the_schedule_lock_is_released_after_a_run_even_a_failing_one():
    lease = Lease(huey, "schedule:new_year_schedule", 60, owner="checker")
    sample_tasks.new_year_schedule()
    assert lease.acquire()  # free again
    lease.release()
