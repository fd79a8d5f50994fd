"""The send path end to end with the test_message kind: queued in a transaction, delivered after commit."""

from __future__ import annotations

from portal.extensions import db
from portal.notifications.models import Audience, MessageStatus, OutboxMessage
from portal.notifications.outbox import queue_message


def test_a_committed_message_is_delivered_once(smtp_server):
    message = queue_message("test_message", to="ops@shop.test", key="smoke:1", audience=Audience.STAFF)
    db.session.commit()
    row = db.session.get(OutboxMessage, message.id)
    db.session.refresh(row)
    assert row.status == MessageStatus.SENT
    [received] = smtp_server.messages
    assert received["To"] == "ops@shop.test"
    assert "Test message" in received["Subject"]
