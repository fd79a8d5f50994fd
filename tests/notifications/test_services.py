"""Sending: once, not at all without SMTP, retried with backoff while the server refuses, failed for good
when the template is broken or the attempts run out — and the business change always committed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.notifications import services
from portal.notifications.kinds import TEST_MESSAGE, Kind, RetryLater
from portal.notifications.models import Audience, MessageStatus, OutboxMessage
from portal.notifications.outbox import queue_message
from portal.notifications.tasks import send_due_messages
from portal.orders.models import Order
from portal.timeutil import clock_at, set_clock
from tests.notifications.helpers import fresh, queue_test_message, registered

T0 = datetime(2026, 4, 1, 10, 0, 0)


def test_a_committed_message_is_sent_once_with_its_rendering_stored(smtp_server):
    message_id = queue_test_message(to="ops@shop.test")
    row = fresh(message_id)
    assert row.status == MessageStatus.SENT and row.attempts == 1 and row.sent_at is not None
    assert row.subject.startswith("Test message from") and "mail settings work" in row.body_text
    assert "<html" in row.body_html
    [email] = smtp_server.messages
    assert email["To"] == "ops@shop.test" and email["From"] == "Demo Learning <billing@portal.test>"
    assert email["Message-ID"] == f"<outbox-{message_id}@portal.test>"
    assert email.get_body(("plain",)).get_content().replace("\r\n", "\n") == row.body_text
    assert "GSTIN" in email.get_body(("html",)).get_content()
    # A second job for the same message (a retried enqueue, the sweep) finds it sent and does nothing.
    assert services.send_message_now(message_id) == "skipped"
    assert len(smtp_server.messages) == 1


def test_without_smtp_url_a_message_is_rendered_and_kept_not_sent(app):
    assert not app.config["SMTP_URL"]
    row = fresh(queue_test_message())
    assert row.status == MessageStatus.NOT_SENT and row.sent_at is None
    assert row.subject and row.body_text and row.body_html  # readable in the portal
    assert "SMTP_URL is not set" in row.last_error


def test_a_rolled_back_change_leaves_no_message_and_sends_nothing(smtp_server):
    queue_message("test_message", to="ops@shop.test", key="rolled-back", audience=Audience.STAFF)
    db.session.rollback()
    assert db.session.query(OutboxMessage).count() == 0
    assert smtp_server.messages == []


def test_one_key_is_one_message(smtp_server):
    first = queue_message("test_message", to="a@shop.test", key="same-event", audience=Audience.STAFF)
    db.session.commit()
    assert first is not None
    assert queue_message("test_message", to="a@shop.test", key="same-event", audience=Audience.STAFF) is None
    db.session.commit()
    assert db.session.query(OutboxMessage).count() == 1 and len(smtp_server.messages) == 1


@pytest.mark.parametrize("code", [451, 550])
def test_a_refusing_server_keeps_the_message_queued_with_backoff_then_it_is_sent_once(app, smtp_server, code):
    base = app.config["OUTBOX_RETRY_BASE_SECONDS"]
    smtp_server.refuse(code)
    with clock_at(T0):
        message_id = queue_test_message()
        row = fresh(message_id)
        assert row.status == MessageStatus.QUEUED and row.attempts == 1
        assert f"SMTP {code}" in row.last_error
        assert timedelta(seconds=base) <= row.next_attempt_at - T0 < timedelta(seconds=base + 5)
        assert send_due_messages.call_local() == 0  # not due yet: the sweep leaves it
        set_clock(row.next_attempt_at + timedelta(seconds=1))
        send_due_messages.call_local()  # due: tried again, still refused, the wait doubles
        row = fresh(message_id)
        assert row.attempts == 2 and row.status == MessageStatus.QUEUED
        assert row.next_attempt_at - T0 > timedelta(seconds=base * 2)
        smtp_server.accept()
        set_clock(row.next_attempt_at + timedelta(seconds=1))
        send_due_messages.call_local()
    row = fresh(message_id)
    assert row.status == MessageStatus.SENT and row.attempts == 3 and row.last_error is None
    assert len(smtp_server.messages) == 1


def test_a_server_that_is_down_is_retried_like_a_refusal(smtp_server):
    smtp_server.stop()
    with clock_at(T0):
        message_id = queue_test_message()
        row = fresh(message_id)
        assert row.status == MessageStatus.QUEUED and row.last_error
        smtp_server.start()
        set_clock(row.next_attempt_at)
        assert services.send_message_now(message_id) == "sent"
    assert len(smtp_server.messages) == 1


def test_after_the_attempt_limit_the_message_fails_and_stays_failed(app, smtp_server):
    app.config["OUTBOX_MAX_ATTEMPTS"], saved = 3, app.config["OUTBOX_MAX_ATTEMPTS"]
    smtp_server.refuse(451)
    try:
        with clock_at(T0):
            message_id = queue_test_message()
            for _ in range(5):
                set_clock(T0 + timedelta(days=1 + _))
                send_due_messages.call_local()
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = saved
    row = fresh(message_id)
    assert row.status == MessageStatus.FAILED and row.attempts == 3 and "451" in row.last_error
    assert row.next_attempt_at is None and smtp_server.messages == []


def test_backoff_doubles_and_is_capped(app):
    base, cap = app.config["OUTBOX_RETRY_BASE_SECONDS"], app.config["OUTBOX_RETRY_MAX_SECONDS"]
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3)] == [base, base * 2, base * 4]
    assert services.backoff(40).total_seconds() == cap


def test_a_template_error_fails_the_message_at_once_and_the_business_change_commits(smtp_server, make):
    broken = Kind(name="broken_for_test", audience=Audience.CUSTOMER, transactional=True, label="Broken")
    with registered(broken):
        order = make.order()
        order.notes = "changed with a message"
        message = queue_message(broken.name, to="buyer@example.test", key=f"broken:{order.id}", order=order)
        db.session.commit()
        row = fresh(message.id)
    assert row.status == MessageStatus.FAILED and row.attempts == 1
    assert "TemplateNotFound" in row.last_error and "broken_for_test" in row.last_error
    assert db.session.get(Order, order.id).notes == "changed with a message"
    assert [m["Subject"] for m in smtp_server.messages if "broken" in (m["Subject"] or "")] == []
    assert fresh(message.id).body_text is None  # nothing of the broken kind was rendered, let alone sent


def test_a_context_that_raises_fails_the_message_with_its_error(smtp_server):
    def context(message):
        raise LookupError("invoice 7 is not issued")

    kind = Kind(name="test_message", audience=Audience.STAFF, transactional=True, label="T", context=context)
    with registered(kind):
        row = fresh(queue_test_message())
    assert row.status == MessageStatus.FAILED and row.last_error == "LookupError: invoice 7 is not issued"


def test_a_kind_that_is_not_ready_yet_is_retried_with_backoff_then_sent(smtp_server):
    ready = {"invoice": False}

    def attachments(message):
        if not ready["invoice"]:
            raise RetryLater("the invoice is not issued yet")
        return [("INV-1.pdf", b"%PDF-1.4", "application/pdf")]

    kind = Kind("test_message", Audience.STAFF, True, "T", context=TEST_MESSAGE.context, attachments=attachments)
    with registered(kind), clock_at(T0):
        message_id = queue_test_message()
        row = fresh(message_id)
        assert row.status == MessageStatus.QUEUED and row.next_attempt_at > T0
        assert row.last_error == "not ready: the invoice is not issued yet"
        ready["invoice"] = True
        set_clock(row.next_attempt_at)
        send_due_messages.call_local()
    assert fresh(message_id).status == MessageStatus.SENT
    [email] = smtp_server.messages
    assert [a.get_filename() for a in email.iter_attachments()] == ["INV-1.pdf"]


def test_attachments_are_sent_and_listed_by_name(smtp_server):
    kind = Kind(
        name="test_message",
        audience=Audience.STAFF,
        transactional=True,
        label="T",
        context=TEST_MESSAGE.context,
        attachments=lambda m: [("note.txt", b"hello", "text/plain")],
    )
    with registered(kind):
        row = fresh(queue_test_message())
    assert row.attachments == [{"filename": "note.txt", "mimetype": "text/plain", "size": 5}]
    [email] = smtp_server.messages
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "note.txt" and attachment.get_content() == "hello"


def test_a_claimed_message_is_not_sent_by_a_second_job(smtp_server):
    message_id = queue_test_message()
    fresh(message_id).status = MessageStatus.QUEUED  # back in the queue (immediate mode sent it at commit)
    db.session.commit()
    claim = services.claim_message(message_id)  # one job is sending it...
    assert claim is not None
    assert services.send_message_now(message_id) == "skipped"  # ...so a second one stands back
    assert services.record(claim, delivered=True) == "sent"
    assert fresh(message_id).status == MessageStatus.SENT and fresh(message_id).attempts == 2
    assert len(smtp_server.messages) == 1


def test_a_claim_left_by_a_dead_worker_lapses_and_the_sweep_sends_the_message(smtp_server):
    with clock_at(T0):
        message_id = queue_test_message()
        row = fresh(message_id)
        row.status, row.sent_at = MessageStatus.QUEUED, None
        db.session.commit()
        assert services.claim_message(message_id) is not None  # ...and the worker dies here
        assert send_due_messages.call_local() == 0
        set_clock(T0 + services.SEND_LEASE + timedelta(seconds=1))
        assert send_due_messages.call_local() == 1
    assert fresh(message_id).status == MessageStatus.SENT


def test_the_sweep_sends_a_row_whose_job_was_lost(smtp_server):
    with clock_at(T0):
        message = OutboxMessage(
            idempotency_key="lost-job", kind="test_message", audience="staff", recipient="ops@shop.test"
        )
        db.session.add(message)
        db.session.commit()  # written without queue_message: no job was ever enqueued
        assert send_due_messages.call_local() == 0  # within the grace a fresh row's own job is expected
        set_clock(T0 + services.SWEEP_GRACE + timedelta(seconds=1))
        assert send_due_messages.call_local() == 1
    assert fresh(message.id).status == MessageStatus.SENT and len(smtp_server.messages) == 1


def test_resend_makes_a_new_attempt_of_the_same_row(smtp_server):
    message_id = queue_test_message()
    services.resend(message_id)
    row = fresh(message_id)
    assert row.status == MessageStatus.SENT and row.attempts == 2
    assert db.session.query(OutboxMessage).count() == 1 and len(smtp_server.messages) == 2


def test_resend_of_a_failed_message_sends_it(app, smtp_server):
    message_id = queue_test_message()
    row = fresh(message_id)
    row.status, row.last_error = MessageStatus.FAILED, "gave up"
    db.session.commit()
    services.resend(message_id)
    assert fresh(message_id).status == MessageStatus.SENT


def test_resend_is_refused_while_the_message_is_being_sent(smtp_server):
    message_id = queue_test_message()
    row = fresh(message_id)
    row.status = MessageStatus.QUEUED
    db.session.commit()
    services.claim_message(message_id)
    with pytest.raises(services.NotAllowed):
        services.resend(message_id)


def test_purge_deletes_old_sent_and_not_sent_and_keeps_failed_and_queued(app):
    with clock_at(T0):
        ids = {status: queue_test_message() for status in MessageStatus}
    for status, message_id in ids.items():
        db.session.get(OutboxMessage, message_id).status = status
    db.session.commit()
    recent = queue_test_message()
    with clock_at(T0 + timedelta(days=31)):
        cutoff = T0 + timedelta(days=1)
        assert services.count_purgeable(cutoff) == 2
        assert services.purge(cutoff) == 2
    left = {row.id for row in db.session.query(OutboxMessage)}
    assert left == {ids[MessageStatus.QUEUED], ids[MessageStatus.FAILED], recent}
