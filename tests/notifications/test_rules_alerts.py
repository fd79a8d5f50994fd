"""The webhook-failure alert: its threshold over the last hour, one alert per hour window, the command and schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs import huey
from portal.notifications.alerts import alert_on_webhook_failures, alert_webhook_failures
from portal.notifications.models import OutboxMessage
from portal.webhooks.models import WebhookEvent, WebhookStatus

NOW = datetime(2026, 12, 1, 14, 20)


def failures(count: int, at: datetime = NOW, status: str = WebhookStatus.FAILED) -> None:
    start = db.session.scalar(select(func.count()).select_from(WebhookEvent)) or 0
    for n in range(count):
        db.session.add(
            WebhookEvent(
                event_id=f"evt_{start + n}",
                event_type="payment.captured",
                status=status,
                payload="{}",
                last_error="handler failed",
                received_at=at,
                processed_at=at,
            )
        )
    db.session.commit()


def alerts() -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == "staff_webhook_failures").order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def test_below_the_threshold_there_is_no_alert(make):
    make.staff("admin")
    failures(4, at=NOW - timedelta(minutes=10))
    failures(3, at=NOW - timedelta(hours=2))  # older than the hour
    failures(5, status=WebhookStatus.PROCESSED)
    summary = alert_on_webhook_failures(now=NOW)
    assert (summary.failures, summary.queued) == (4, 0) and "no alert" in summary.line()
    assert alerts() == []


def test_at_the_threshold_each_staff_recipient_gets_one_alert_per_hour(make):
    admin, finance = make.staff("admin"), make.staff("finance")
    failures(5, at=NOW - timedelta(minutes=30))
    first = alert_on_webhook_failures(now=NOW)
    assert (first.failures, first.queued) == (5, 2)
    again = alert_on_webhook_failures(now=NOW + timedelta(minutes=5))  # the next run in the same hour
    assert again.queued == 0
    rows = alerts()
    assert sorted(m.recipient for m in rows) == sorted([admin.email, finance.email])
    assert {m.context["failures"] for m in rows} == {5}
    assert all(m.idempotency_key.startswith("staff_webhook_failures:2026-12-01T14:") for m in rows)


def test_failures_that_last_into_the_next_hour_alert_again(make):
    make.staff("admin")
    failures(6, at=NOW)
    alert_on_webhook_failures(now=NOW)
    failures(6, at=NOW + timedelta(minutes=45))
    alert_on_webhook_failures(now=NOW + timedelta(minutes=50))  # 15:10: a new window
    assert [m.idempotency_key.split(":")[1] for m in alerts()] == ["2026-12-01T14", "2026-12-01T15"]


def test_the_threshold_comes_from_the_config(app, make):
    make.staff("admin")
    failures(2, at=NOW)
    app.config["WEBHOOK_FAILURE_ALERT_THRESHOLD"] = 2
    try:
        assert alert_on_webhook_failures(now=NOW).queued == 1
    finally:
        app.config["WEBHOOK_FAILURE_ALERT_THRESHOLD"] = 5


def test_the_command_dry_run_reports_and_queues_nothing(runner, make):
    make.staff("admin")
    failures(7)  # processed_at = NOW, a fixed moment: the command reads the real clock, so use recent rows
    db.session.execute(WebhookEvent.__table__.update().values(processed_at=func.current_timestamp()))
    db.session.commit()
    result = runner.invoke(args=["notifications", "alert-webhook-failures", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would queue 1 alert" in result.output
    assert alerts() == []
    result = runner.invoke(args=["notifications", "alert-webhook-failures"])
    assert "queued 1 alert" in result.output and len(alerts()) == 1


def test_the_alert_is_a_huey_schedule_every_five_minutes(make):
    task = alert_webhook_failures.task_class
    assert task in huey._registry._periodic_tasks  # what `flask jobs worker` (with the schedule) runs
    instance = task()
    assert instance.validate_datetime(datetime(2026, 12, 1, 14, 5))
    assert not instance.validate_datetime(datetime(2026, 12, 1, 14, 7))
    make.staff("admin")
    db.session.commit()
    alert_webhook_failures.call_local()  # the scheduled body runs (no failures: no alert)
    assert alerts() == []
