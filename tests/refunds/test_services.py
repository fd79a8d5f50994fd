"""The refund service against the real database, the real adapter and SDK, and the sandbox."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.models import HistoryEvent
from portal.history.services import Actor, history_of
from portal.refunds.errors import (
    InvalidRefund,
    PaymentNotRefundable,
    RefundActionNotAllowed,
    RefundExceedsRefundable,
)
from portal.refunds.models import Refund
from portal.refunds.services import create_refund, delete_refund, edit_refund, process_refund
from portal.refunds.settlement import pending_and_failed_counts, refundable_amount


def refund(payment, amount=None, actor=None, **kw):
    kw.setdefault("reason", "requested_by_customer")
    return create_refund(payment.id, amount=amount, actor=actor or Actor.system("test"), **kw)


def fresh(entity):
    db.session.expire_all()
    return db.session.get(type(entity), entity.id)


def gateway_refunds(payment):
    return get_gateway().fetch_payment_refunds(payment.gateway_payment_id)


def test_partial_refund_is_processed_and_payment_and_order_become_partially_refunded(paid, finance_actor):
    order, payment = paid(price=100000)  # 1,000.00 + 18% tax = 1,180.00
    made = refund(payment, 25000, actor=finance_actor, notes="customer asked")
    assert made.status == "processed" and made.gateway_refund_id.startswith("rfnd_")
    assert made.initiated_by_id == finance_actor.id and made.sent_at and made.processed_at
    payment, order = fresh(payment), fresh(order)
    assert (payment.status, order.status) == ("partially_refunded", "partially_refunded")
    assert payment.amount_refunded == 25000
    assert refundable_amount(payment) == 118000 - 25000
    [at_gateway] = gateway_refunds(payment)
    assert at_gateway["amount"] == 25000 and at_gateway["notes"]["idempotency_key"] == made.idempotency_key
    moves = [(e.entity_type, e.from_state, e.to_state) for e in history_of(order, payment, made) if e.to_state]
    assert ("order", "paid", "partially_refunded") in moves and ("refund", "pending", "processed") in moves


def test_empty_amount_refunds_all_that_remains_and_marks_payment_and_order_refunded(paid):
    order, payment = paid(price=100000)
    refund(payment, 18000)
    rest = refund(payment, None)
    assert rest.amount == 100000 and rest.status == "processed"
    assert (fresh(payment).status, fresh(order).status) == ("refunded", "refunded")
    assert refundable_amount(fresh(payment)) == 0


def test_refund_larger_than_what_remains_is_refused_with_a_clear_message_and_changes_nothing(paid):
    order, payment = paid(price=100000)
    refund(payment, 100000)
    with pytest.raises(RefundExceedsRefundable, match=r"more than the ₹180\.00 still refundable"):
        refund(payment, 18001)
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert len(gateway_refunds(payment)) == 1
    assert fresh(order).status == "partially_refunded"


def test_nothing_left_to_refund_is_refused(paid):
    _, payment = paid(price=100000)
    refund(payment, None)
    with pytest.raises(RefundExceedsRefundable, match="Nothing is left"):
        refund(payment, None)


def test_refund_of_an_uncaptured_payment_is_refused(paid):
    order, payment = paid(price=100000, outcome="authorize")
    assert payment.status == "authorized"
    with pytest.raises(PaymentNotRefundable, match="only captured payments"):
        refund(payment, 1000)
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    assert fresh(order).status == "pending"


@pytest.mark.parametrize("reason, notes", [("", ""), ("made_up", ""), ("other", "")])
def test_a_reason_from_the_list_is_required_and_other_needs_notes(paid, reason, notes):
    _, payment = paid()
    with pytest.raises(InvalidRefund):
        refund(payment, 1000, reason=reason, notes=notes)
    assert db.session.scalar(select(func.count(Refund.id))) == 0


def test_gateway_rejection_marks_the_refund_failed_with_the_reason_and_frees_the_amount(paid):
    order, payment = paid(price=100000)
    rejected = refund(payment, 50)  # the gateway's minimum is ₹1.00
    assert rejected.status == "failed" and "at least INR 1.00" in rejected.failure_reason
    assert rejected.sent_at is None and rejected.gateway_refund_id is None
    assert (fresh(payment).status, fresh(order).status) == ("captured", "paid")
    assert refundable_amount(fresh(payment)) == 118000  # failed refunds do not count


def test_unavailable_gateway_keeps_the_refund_pending_unsent_and_process_sends_it_with_the_same_key(
    paid, sandbox, finance_actor
):
    order, payment = paid(price=100000)
    sandbox.set_faults(down=True)
    waiting = refund(payment, 30000)
    assert (waiting.status, waiting.sent_at, waiting.gateway_refund_id) == ("pending", None, None)
    assert refundable_amount(fresh(payment)) == 118000 - 30000  # pending counts: it may be sent at any time
    assert fresh(order).status == "paid"
    assert "send_failed" in [e.action for e in history_of(waiting)]
    key = waiting.idempotency_key

    sandbox.clear_faults()
    sent = process_refund(waiting.id, actor=finance_actor)
    assert sent.status == "processed" and sent.idempotency_key == key
    assert [r["amount"] for r in gateway_refunds(payment)] == [30000]
    assert fresh(order).status == "partially_refunded"


def test_a_retry_after_a_timeout_never_refunds_twice(paid, sandbox, gateway_with_timeout):
    _, payment = paid(price=100000)
    gateway_with_timeout(0.2)
    sandbox.set_faults(latency_ms=600)  # the gateway makes the refund, but answers too late
    lost = refund(payment, 40000)
    assert lost.status == "pending" and lost.sent_at is None
    time.sleep(0.8)  # the sandbox finishes its work
    sandbox.clear_faults()
    again = process_refund(lost.id, actor=Actor.system("test"))
    assert again.status == "processed"
    assert [r["amount"] for r in gateway_refunds(payment)] == [40000]  # the same key replayed, not a new refund
    assert fresh(payment).amount_refunded == 40000


def test_a_refund_whose_answer_was_lost_is_settled_by_the_webhook(paid, sandbox, gateway_with_timeout):
    order, payment = paid(price=100000)
    gateway_with_timeout(0.2)
    sandbox.set_faults(latency_ms=600)
    lost = refund(payment, 40000)
    assert lost.status == "pending"
    time.sleep(0.8)
    sandbox.clear_faults()
    sandbox.deliver()  # refund.created + refund.processed reach /webhooks/razorpay
    settled = fresh(lost)
    assert settled.status == "processed" and settled.gateway_refund_id.startswith("rfnd_")
    assert (fresh(payment).status, fresh(order).status) == ("partially_refunded", "partially_refunded")


def test_a_refund_the_gateway_fails_later_becomes_failed_and_can_be_sent_again_with_a_new_key(paid, sandbox):
    order, payment = paid(price=100000)
    sandbox.set_faults(fail_refunds=True)
    sent = refund(payment, 20000)
    assert sent.status == "pending" and sent.gateway_refund_id  # accepted, not yet settled
    with pytest.raises(RefundActionNotAllowed, match="already with the gateway"):
        process_refund(sent.id, actor=Actor.system("test"))
    sandbox.deliver()  # refund.failed
    failed = fresh(sent)
    assert failed.status == "failed" and failed.failure_reason
    assert (fresh(payment).status, fresh(order).status) == ("captured", "paid")

    sandbox.clear_faults()
    old_key = failed.idempotency_key
    retried = process_refund(failed.id, actor=Actor.system("test"))
    assert retried.status == "processed" and retried.idempotency_key != old_key
    assert sorted(r["status"] for r in gateway_refunds(payment)) == ["failed", "processed"]
    assert fresh(order).status == "partially_refunded"


def test_the_same_form_token_submitted_twice_creates_one_refund(paid):
    _, payment = paid(price=100000)
    first = refund(payment, 10000, form_token="rft_same")
    second = refund(payment, 10000, form_token="rft_same")
    assert first.id == second.id
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert len(gateway_refunds(payment)) == 1


def test_refund_by_order_line_computes_the_amount_with_tax_and_caps_quantities(paid, make):
    product = make.product(price=33333, tax_rate_bp=1800)
    order, payment = paid(products=[product], quantity=3)  # line: 99,999 + 18,000 tax = 1,17,999
    item = order.items[0]
    one = refund(payment, None, lines=[{"item_id": item.id, "quantity": 1}])
    two = refund(payment, None, lines=[{"item_id": item.id, "quantity": 2}])
    assert one.amount + two.amount == item.line_total == payment.amount
    assert one.lines == [{"item_id": item.id, "quantity": 1, "amount": one.amount}]
    with pytest.raises(InvalidRefund):
        refund(payment, None, lines=[{"item_id": item.id, "quantity": 1}])
    assert fresh(order).status == "refunded"


def test_a_line_refund_beyond_its_quantity_is_refused(paid, make):
    order, payment = paid(products=[make.product(price=10000)], quantity=2)
    with pytest.raises(InvalidRefund, match="Only 2 of 2"):
        refund(payment, None, lines=[{"item_id": order.items[0].id, "quantity": 3}])


def test_goodwill_refund_on_a_fully_paid_order(paid):
    order, payment = paid(price=100000)
    made = refund(payment, 5000, reason="goodwill", notes="late course access")
    assert made.status == "processed" and made.reason == "goodwill" and fresh(order).status == "partially_refunded"


def test_only_unsent_pending_refunds_can_be_deleted_and_history_keeps_a_record(paid, sandbox):
    order, payment = paid(price=100000)
    done = refund(payment, 1000)
    with pytest.raises(RefundActionNotAllowed):
        delete_refund(done.id, actor=Actor.system("test"))
    sandbox.set_faults(down=True)
    unsent = refund(payment, 2000)
    unsent_id = unsent.id
    assert delete_refund(unsent_id, actor=Actor.system("test")) == order.id
    assert db.session.get(Refund, unsent_id) is None
    assert refundable_amount(fresh(payment)) == 118000 - 1000
    actions = db.session.scalars(select(HistoryEvent.action).where(HistoryEvent.entity_id.in_([unsent_id, order.id])))
    assert {"delete", "refund_deleted"} <= set(actions)


def test_recording_a_refund_made_outside_the_gateway_settles_payment_and_order(paid, sandbox):
    order, payment = paid(price=100000)
    sandbox.set_faults(down=True)
    unsent = refund(payment, None)
    done = process_refund(unsent.id, actor=Actor.system("test"), offline_reference="NEFT UTR 1234")
    assert done.status == "processed" and done.offline_reference == "NEFT UTR 1234"
    assert (fresh(payment).status, fresh(order).status) == ("refunded", "refunded")
    with pytest.raises(RefundActionNotAllowed):
        process_refund(done.id, actor=Actor.system("test"))


def test_resending_a_failed_refund_rechecks_what_remains(paid):
    _, payment = paid(price=100000)
    failed = refund(payment, 50)  # rejected below the minimum
    refund(payment, None)  # everything else is refunded meanwhile
    with pytest.raises(RefundExceedsRefundable):
        process_refund(failed.id, actor=Actor.system("test"))
    assert fresh(failed).status == "failed"


def test_edit_changes_only_reason_and_notes_and_records_the_change(paid):
    _, payment = paid()
    made = refund(payment, 1000)
    edited = edit_refund(made.id, reason="goodwill", notes="changed my mind", actor=Actor.system("test"))
    assert (edited.reason, edited.notes) == ("goodwill", "changed my mind")
    assert (edited.amount, edited.status) == (1000, "processed")
    [event] = [e for e in history_of(edited) if e.action == "edit"]
    assert event.changes["reason"] == ["requested_by_customer", "goodwill"]


def test_pending_and_failed_counts(paid, sandbox):
    _, payment = paid(price=100000)
    refund(payment, 50)  # failed
    refund(payment, 1000)  # processed
    sandbox.set_faults(down=True)
    refund(payment, 1000)  # pending
    assert pending_and_failed_counts() == {"pending": 1, "failed": 1}
