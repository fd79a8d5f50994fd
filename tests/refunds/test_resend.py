"""Refunds the gateway never received are sent again by the `resend_unsent_refunds` schedule, with backoff and
the refund's own idempotency key; a person's action first, or the attempt cap, leaves them alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.payments import tasks
from portal.refunds import resend
from portal.refunds.models import Refund
from portal.refunds.services import create_refund, delete_refund


def unsent(sandbox, payment, amount=1000) -> Refund:
    sandbox.set_faults(down=True)  # the gateway unreachable: pending, never sent
    try:
        refund = create_refund(payment.id, amount=amount, reason="goodwill", actor=Actor.system("test"))
    finally:
        sandbox.clear_faults()
    assert refund.status == "pending" and not refund.was_sent
    return refund


def send_failures(refund_id: int) -> list[HistoryEvent]:
    query = select(HistoryEvent).where(
        HistoryEvent.entity_type == "refund", HistoryEvent.entity_id == refund_id, HistoryEvent.action == "send_failed"
    )
    return list(db.session.scalars(query.order_by(HistoryEvent.id)))


def test_an_unsent_refund_waits_for_its_backoff_then_is_sent_with_the_same_key(paid, sandbox):
    _, payment = paid(price=100000)
    refund = unsent(sandbox, payment)
    key, created = refund.idempotency_key, refund.created_at
    assert resend.due() == []  # its own request may still be sending it

    later = created + resend.RESEND_AFTER + timedelta(seconds=1)
    assert resend.due(later) == [refund.id]
    sandbox.set_faults(down=True)
    assert resend.resend_unsent(now=later) == {"unsent": 1}  # still unreachable: a second failed send
    sandbox.clear_faults()
    assert len(send_failures(refund.id)) == 2
    last = send_failures(refund.id)[-1].created_at
    assert resend.due(last + timedelta(seconds=61)) == []  # two failures: it now waits two minutes
    assert resend.due(last + resend.resend_delay(2)) == [refund.id]

    assert resend.resend_unsent(now=last + resend.resend_delay(2)) == {"processed": 1}

    db.session.expire_all()
    sent = db.session.get(Refund, refund.id)
    assert sent.status == "processed" and sent.idempotency_key == key
    assert [r["amount"] for r in get_gateway().fetch_payment_refunds(payment.gateway_payment_id)] == [1000]


def test_the_schedule_sends_due_refunds_and_the_cli_dry_run_only_lists_them(paid, sandbox, runner):
    _, payment = paid(price=100000)
    refund = unsent(sandbox, payment)
    db.session.execute(
        Refund.__table__.update()
        .where(Refund.id == refund.id)
        .values(created_at=refund.created_at - timedelta(minutes=10))
    )
    for event in send_failures(refund.id):
        event.created_at -= timedelta(minutes=10)
    db.session.commit()

    dry = runner.invoke(args=["payments", "resend-refunds", "--dry-run"])
    assert dry.exit_code == 0 and dry.stdout.strip() == "payments resend-refunds (dry run): 1 would_resend"
    assert tasks.resend_unsent_refunds.call_local() == {"processed": 1}
    again = runner.invoke(args=["payments", "resend-refunds"])
    assert again.exit_code == 0 and again.stdout.strip() == "payments resend-refunds: nothing to send"


def test_refunds_at_the_cap_or_deleted_by_a_person_are_left_alone(paid, sandbox):
    _, payment = paid(price=100000)
    capped, deleted = unsent(sandbox, payment), unsent(sandbox, payment)
    later = capped.created_at + timedelta(days=1)
    for _ in range(resend.RESEND_MAX_SENDS - 1):
        db.session.add(
            HistoryEvent(
                entity_type="refund",
                entity_id=capped.id,
                action="send_failed",
                actor_type="system",
                actor_label="test",
                created_at=later - timedelta(hours=2),
            )
        )
    db.session.commit()
    delete_refund(deleted.id, actor=Actor.system("test"))

    assert resend.due(later) == []
