"""Refund numbers (their ids) are never reused after a delete, so two refunds' histories never merge."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor, history_of
from portal.refunds.models import Refund
from portal.refunds.services import create_refund, delete_refund

ADMIN = Actor("user", "admin@staff.test")


def unsent_refund(sandbox, payment) -> Refund:
    sandbox.set_faults(down=True)  # the gateway unreachable: the refund stays pending, never sent, deletable
    try:
        return create_refund(payment.id, amount=1000, reason="goodwill", actor=Actor.system("test"))
    finally:
        sandbox.clear_faults()


def test_a_refund_created_after_a_delete_gets_a_new_number_and_its_own_history(paid, sandbox):
    _, payment = paid(price=100000)
    deleted = unsent_refund(sandbox, payment)
    deleted_id = deleted.id
    delete_refund(deleted_id, actor=ADMIN)

    fresh = unsent_refund(sandbox, payment)

    assert fresh.id > deleted_id
    assert {event.entity_id for event in history_of(fresh)} == {fresh.id}
    trail = db.session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.entity_type == "refund", HistoryEvent.entity_id == deleted_id)
        .order_by(HistoryEvent.id)
    ).all()
    assert trail[0].action == "create" and trail[-1].action == "delete"  # the deleted refund's story stays


def test_a_deleted_refunds_page_answers_410_with_its_history(auth, client, paid, sandbox):
    _, payment = paid(price=100000)
    deleted = unsent_refund(sandbox, payment)
    deleted_id = deleted.id
    delete_refund(deleted_id, actor=ADMIN)
    auth.login_as("viewer")

    response = client.get(f"/admin/refunds/{deleted_id}")
    html = response.get_data(as_text=True)

    assert response.status_code == 410
    assert f"Refund #{deleted_id} was deleted by admin@staff.test" in html
    assert html.count("<li><time") >= 2 and "<strong>delete</strong>" in html  # created … deleted
