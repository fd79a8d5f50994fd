"""The pipeline's bookkeeping: retry with a cap, stuck pending events, purge, and the CLI around them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.orders.models import Order
from portal.timeutil import utcnow
from portal.webhooks import services
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


def _failed_event(deliver, make) -> tuple[WebhookEvent, Order]:
    order = make.order()
    deliver("payment.captured", payment={**payloads.payment(order, "captured"), "status": "teleported"})
    return db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first(), order


def _repair(event: WebhookEvent) -> None:
    event.payload = event.payload.replace('"teleported"', '"captured"')
    db.session.commit()


def test_retry_cli_reprocesses_failed_events_and_reports(deliver, make, runner):
    event, order = _failed_event(deliver, make)
    _repair(event)
    result = runner.invoke(args=["webhooks", "retry"])
    assert result.exit_code == 0 and "1 processed" in result.output
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).status == "processed"
    assert db.session.get(Order, order.id).status == "paid"


def test_retry_dry_run_changes_nothing(deliver, make, runner):
    event, _ = _failed_event(deliver, make)
    result = runner.invoke(args=["webhooks", "retry", "--dry-run"])
    assert result.exit_code == 0 and "1 would_retry" in result.output
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).attempts == 1


def test_retry_stops_at_the_attempt_cap_and_exits_non_zero_while_failing(deliver, make, runner):
    event, _ = _failed_event(deliver, make)
    first = runner.invoke(args=["webhooks", "retry", "--max-attempts", "3"])
    assert first.exit_code == 1 and "1 failed" in first.output
    runner.invoke(args=["webhooks", "retry", "--max-attempts", "3"])
    last = runner.invoke(args=["webhooks", "retry", "--max-attempts", "3"])
    assert last.exit_code == 0 and "nothing to retry" in last.output
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).attempts == 3


def test_a_pending_event_left_by_a_crash_is_picked_up_once_it_is_stuck(deliver, make):
    order = make.order()
    deliver("payment.captured", payment=payloads.payment(order, "captured"))
    event = db.session.scalars(select(WebhookEvent)).one()
    event.status = "pending"
    db.session.commit()
    assert services.retryable() == []  # fresh: its own request may still be processing it
    event.received_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert services.retryable() == [event.id]
    assert services.retry_failed() == {"processed": 1}


def test_of_two_callers_that_read_the_same_event_only_one_claims_it(deliver, make):
    event, _ = _failed_event(deliver, make)
    seen = event.attempts
    assert services.try_claim(event.id, seen, ("failed",)) is True
    assert services.try_claim(event.id, seen, ("failed",)) is False  # the other caller read the same row
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).attempts == seen + 1


def test_a_processed_event_cannot_be_claimed_for_retry(deliver, make):
    order = make.order()
    deliver("payment.captured", payment=payloads.payment(order, "captured"))
    event = db.session.scalars(select(WebhookEvent)).one()
    assert services.try_claim(event.id, event.attempts, ("failed",)) is False


def test_purge_removes_old_processed_and_ignored_events_only(deliver, make, runner):
    order = make.order()
    deliver("payment.captured", payment=payloads.payment(order, "captured"))
    deliver("settlement.processed", settlement={"id": "setl_1"})
    failed, _ = _failed_event(deliver, make)
    fresh_order = make.order()
    deliver("payment.captured", payment=payloads.payment(fresh_order, "captured"))
    old = utcnow() - timedelta(days=40)
    for row in db.session.scalars(select(WebhookEvent)).all()[:3]:
        row.received_at = old
    db.session.commit()
    dry = runner.invoke(args=["webhooks", "purge", "--older-than", "30", "--dry-run"])
    assert "would delete 2 event(s)" in dry.output
    result = runner.invoke(args=["webhooks", "purge", "--older-than", "30"])
    assert result.exit_code == 0 and "deleted 2 event(s) older than 30 day(s)" in result.output
    remaining = db.session.scalars(select(WebhookEvent.status)).all()
    assert sorted(remaining) == ["failed", "processed"]
    assert db.session.get(WebhookEvent, failed.id) is not None


def test_purge_needs_a_positive_age(runner):
    assert runner.invoke(args=["webhooks", "purge", "--older-than", "0"]).exit_code == 2
    assert runner.invoke(args=["webhooks", "purge"]).exit_code == 2


def test_rejection_counter_is_one_row_per_day_and_reason():
    from portal.webhooks.models import WebhookRejection
    from portal.webhooks.rejections import count_rejection, recent_rejections

    for _ in range(3):
        count_rejection("bad_signature")
    count_rejection("malformed")
    assert db.session.scalar(select(func.count()).select_from(WebhookRejection)) == 2
    assert {r.reason: r.count for r in recent_rejections()} == {"bad_signature": 3, "malformed": 1}
