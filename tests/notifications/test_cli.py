"""`flask outbox send | purge | test`: dry runs change nothing, real runs say what they did in one line."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.notifications.models import MessageStatus, OutboxMessage
from portal.timeutil import utcnow
from tests.notifications.helpers import fresh, queue_test_message, stored_message


def _queued(count: int) -> list[int]:
    return [stored_message() for _ in range(count)]


def test_send_dry_run_counts_what_is_due_and_sends_nothing(runner, smtp_server):
    ids = _queued(2)
    result = runner.invoke(args=["outbox", "send", "--dry-run"])
    assert result.exit_code == 0 and "2 message(s) due" in result.output
    assert all(fresh(i).status == MessageStatus.QUEUED for i in ids) and smtp_server.messages == []


def test_send_sends_every_due_message_and_summarises(runner, smtp_server):
    ids = _queued(3)
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "outbox send: 3 message(s): 3 sent"
    assert all(fresh(i).status == MessageStatus.SENT for i in ids) and len(smtp_server.messages) == 3
    again = runner.invoke(args=["outbox", "send"])  # idempotent: nothing left
    assert "0 message(s): nothing due" in again.output


def test_purge_dry_run_and_purge(runner):
    old = queue_test_message()
    fresh(old).created_at = utcnow() - timedelta(days=40)
    failed = queue_test_message()
    row = fresh(failed)
    row.created_at, row.status = utcnow() - timedelta(days=40), MessageStatus.FAILED
    db.session.commit()
    recent = queue_test_message()
    dry = runner.invoke(args=["outbox", "purge", "--older-than", "30", "--dry-run"])
    assert dry.exit_code == 0 and "1 message(s) older than 30 days" in dry.output
    assert db.session.query(OutboxMessage).count() == 3
    result = runner.invoke(args=["outbox", "purge", "--older-than", "30"])
    assert result.output.strip() == "outbox purge: 1 message(s) older than 30 days deleted"
    assert {m.id for m in db.session.query(OutboxMessage)} == {failed, recent}


def test_purge_needs_a_positive_age(runner):
    assert runner.invoke(args=["outbox", "purge", "--older-than", "0"]).exit_code == 2
    assert runner.invoke(args=["outbox", "purge"]).exit_code == 2


def test_test_sends_a_test_message_through_the_configured_server(runner, smtp_server):
    result = runner.invoke(args=["outbox", "test", "me@shop.test"])
    assert result.exit_code == 0, result.output
    assert "to me@shop.test: sent" in result.output
    [email] = smtp_server.messages
    assert email["To"] == "me@shop.test" and "flask outbox test" in email.get_body(("plain",)).get_content()


def test_test_without_smtp_says_not_sent(runner):
    result = runner.invoke(args=["outbox", "test", "me@shop.test"])
    assert result.exit_code == 0 and "not_sent (SMTP_URL is not set" in result.output


def test_test_with_a_refusing_server_fails_and_keeps_the_message_queued(runner, smtp_server):
    smtp_server.refuse(451)
    result = runner.invoke(args=["outbox", "test", "me@shop.test"])
    assert result.exit_code == 1 and "queued (SMTP 451" in result.output


def test_test_refuses_a_non_address(runner):
    result = runner.invoke(args=["outbox", "test", "not an address"])
    assert result.exit_code == 2 and "not an email address" in result.output
