"""Writing to the outbox: `queue_message` joins the caller's transaction and never commits.

A rolled-back change therefore leaves no message, and a committed one always has its row. The send job is
enqueued after that commit (portal.jobs.enqueue); a periodic sweep sends any queued row whose job was lost.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Audience, MessageStatus, OutboxMessage


def queue_message(
    kind: str,
    *,
    to: str,
    key: str,
    audience: str = Audience.CUSTOMER,
    context: dict | None = None,
    order=None,
    payment=None,
    refund=None,
    customer=None,
) -> OutboxMessage | None:
    """Add one message to the session; None when a message with this idempotency key already exists.

    `key` names the event, not the attempt (e.g. f"payment_received:{payment.id}"), so a retried job or a
    duplicate webhook writes the same key. Callers hold the row lock of what they change, so two writers
    of one key are serialised; the unique constraint is the last word.
    """
    if not to:
        return None
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None:
        return None
    for pending in db.session.new:  # the same key twice in this transaction
        if isinstance(pending, OutboxMessage) and pending.idempotency_key == key:
            return None
    message = OutboxMessage(
        kind=kind,
        idempotency_key=key[:200],
        audience=str(audience),
        recipient=to[:255],
        status=MessageStatus.QUEUED,
        context=context or None,
        order_id=getattr(order, "id", order),
        payment_id=getattr(payment, "id", payment),
        refund_id=getattr(refund, "id", refund),
        customer_id=getattr(customer, "id", customer),
    )
    db.session.add(message)
    _after_commit_send(message)
    return message


def _after_commit_send(message: OutboxMessage) -> None:
    """Enqueue the send job for when the caller commits (dropped if it rolls back); the sweep is the net."""
    from portal.notifications.tasks import enqueue_send

    enqueue_send(message)
