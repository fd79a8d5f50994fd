"""Each handled Razorpay event, posted signed to the real endpoint, and the states it leaves behind."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import history_of
from portal.orders.models import Order
from portal.payments.models import Dispute, Payment
from portal.refunds.models import Refund
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


def _event(event_id=None) -> WebhookEvent:
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc())
    if event_id:
        query = query.where(WebhookEvent.event_id == event_id)
    return db.session.scalars(query).first()


def _payment(gateway_id: str) -> Payment:
    db.session.expire_all()
    return db.session.scalar(select(Payment).where(Payment.gateway_payment_id == gateway_id))


def test_payment_authorized_records_an_authorized_payment_and_leaves_the_order_pending(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "authorized")
    response = deliver("payment.authorized", payment=entity)
    assert response.status_code == 200
    assert response.get_json() == {"status": "processed"}
    payment = _payment(entity["id"])
    assert payment.status == "authorized"
    assert payment.order.status == "pending"
    event = _event()
    assert (event.status, event.order_id, event.payment_id) == ("processed", order.id, payment.id)
    assert event.gateway_payment_id == entity["id"] and event.gateway_order_id == order.gateway_order_id


def test_payment_captured_marks_the_order_paid(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured")
    assert deliver("payment.captured", payment=entity).get_json()["status"] == "processed"
    payment = _payment(entity["id"])
    assert payment.status == "captured" and payment.fee == 236 and payment.method == "upi"
    assert payment.order.status == "paid" and payment.order.paid_at is not None


def test_payment_failed_marks_the_payment_and_order_failed_with_the_reason(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "failed")
    deliver("payment.failed", payment=entity)
    payment = _payment(entity["id"])
    assert payment.status == "failed" and payment.error_description == "Payment failed"
    assert payment.order.status == "failed"


def test_order_paid_records_the_captured_payment_and_pays_the_order(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured")
    deliver("order.paid", payment=entity, order=payloads.gateway_order(order))
    payment = _payment(entity["id"])
    assert payment.status == "captured" and payment.order.status == "paid"


def test_refund_processed_refunds_payment_and_order(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "refunded", pay_id=payment.gateway_payment_id, amount_refunded=order.total)
    refund = payloads.refund(pay, "processed")
    deliver("refund.processed", refund=refund, payment=pay)
    db.session.expire_all()
    row = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == refund["id"]))
    assert row.status == "processed" and row.amount == order.total
    assert row.payment.status == "refunded" and row.payment.amount_refunded == order.total
    assert row.order.status == "refunded"


def test_partial_refund_created_then_processed_leaves_a_partially_refunded_order(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "captured", pay_id=payment.gateway_payment_id)
    refund = payloads.refund(pay, "pending", amount=1000)
    deliver("refund.created", refund=refund, payment=pay)
    row = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == refund["id"]))
    assert row.status == "pending"
    deliver("refund.processed", refund={**refund, "status": "processed"}, payment=pay)
    db.session.expire_all()
    assert row.status == "processed"
    assert row.payment.status == "partially_refunded" and row.payment.amount_refunded == 1000
    assert row.order.status == "partially_refunded"


def test_refund_failed_records_the_failure(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "captured", pay_id=payment.gateway_payment_id)
    refund = payloads.refund(pay, "failed", error_description="refund window over")
    deliver("refund.failed", refund=refund, payment=pay)
    row = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == refund["id"]))
    assert row.status == "failed"
    assert db.session.get(Payment, payment.id).status == "captured"


def test_refund_for_a_payment_we_never_saw_records_the_payment_first(deliver, make):
    order = make.order()
    pay = payloads.payment(order, "refunded", amount_refunded=order.total)
    refund = payloads.refund(pay, "processed")
    deliver("refund.processed", refund=refund, payment=pay)
    payment = _payment(pay["id"])
    assert payment.status == "refunded" and payment.amount_refunded == order.total
    assert payment.order.status == "refunded"


def test_payment_link_paid_pays_the_order_the_link_belongs_to(deliver, make):
    order = make.order(payment_link_id="plink_W000000000001")
    link = payloads.payment_link("plink_W000000000001", order, "paid", gateway_order_id="order_LinkOwn000001")
    pay = payloads.payment(order, "captured", order_id="order_LinkOwn000001")
    response = deliver("payment_link.paid", payment_link=link, order={"id": "order_LinkOwn000001"}, payment=pay)
    assert response.get_json()["status"] == "processed"
    payment = _payment(pay["id"])
    assert payment.order_id == order.id and payment.order.status == "paid"


def test_payment_link_expired_and_cancelled_are_noted_on_the_order_once(deliver, make):
    order = make.order(payment_link_id="plink_W000000000002")
    for status in ("expired", "expired", "cancelled"):
        link = payloads.payment_link("plink_W000000000002", order, status)
        assert deliver(f"payment_link.{status}", payment_link=link).get_json()["status"] == "processed"
    actions = [e.action for e in history_of(db.session.get(Order, order.id))]
    assert actions.count("payment_link_expired") == 1 and actions.count("payment_link_cancelled") == 1
    assert db.session.get(Order, order.id).status == "pending"


def test_payment_link_of_someone_else_is_ignored(deliver, make):
    order = make.order()
    link = payloads.payment_link("plink_NotOurs0000001", order, "expired")
    assert deliver("payment_link.expired", payment_link=link).get_json()["status"] == "ignored"


def test_dispute_lifecycle_creates_one_dispute_on_the_payment_and_ends_lost(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "captured", pay_id=payment.gateway_payment_id)
    for status, event in (("open", "created"), ("lost", "lost"), ("closed", "closed")):
        deliver(f"payment.dispute.{event}", payment=pay, dispute=payloads.dispute(pay, status))
    disputes = db.session.scalars(select(Dispute)).all()
    assert len(disputes) == 1
    assert disputes[0].payment_id == payment.id and disputes[0].status == "closed"
    assert disputes[0].reason_code == "chargeback" and disputes[0].amount == order.total
    moves = [(e.from_state, e.to_state) for e in history_of(disputes[0]) if e.action == "transition"]
    assert moves == [("open", "lost"), ("lost", "closed")]


def test_dispute_won_after_closed_is_stale_and_skipped(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "captured", pay_id=payment.gateway_payment_id)
    deliver("payment.dispute.created", payment=pay, dispute=payloads.dispute(pay, "open"))
    deliver("payment.dispute.closed", payment=pay, dispute=payloads.dispute(pay, "closed"))
    deliver("payment.dispute.won", payment=pay, dispute=payloads.dispute(pay, "won"))
    dispute = db.session.scalars(select(Dispute)).one()
    db.session.refresh(dispute)
    assert dispute.status == "closed"
    assert "stale" in _event().outcome
    assert any(e.action == "stale_update" for e in history_of(dispute))


def test_unknown_event_is_stored_as_ignored_and_answered_2xx(deliver, make):
    response = deliver("settlement.processed", settlement={"id": "setl_W0000000000001", "amount": 100})
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert _event().status == "ignored" and _event().event_type == "settlement.processed"


def test_payment_on_an_order_that_is_not_ours_is_ignored(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured", order_id="order_SomeoneElse01")
    assert deliver("payment.captured", payment=entity).get_json()["status"] == "ignored"
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_payment_on_a_cancelled_order_is_recorded_and_flagged_for_refund(deliver, make, app, monkeypatch):
    from portal.history.services import Actor
    from portal.orders.services import cancel_order

    monkeypatch.setitem(app.config, "AUTO_REFUND_LATE_PAYMENTS", False)
    order = make.order()
    cancel_order(order.id, actor=Actor.system("test"), reason="customer changed their mind")
    entity = payloads.payment(order, "captured")
    deliver("payment.captured", payment=entity)
    payment = _payment(entity["id"])
    assert payment.status == "captured"
    assert payment.order.status == "cancelled" and payment.order.needs_refund is True
    actions = [e.action for e in history_of(payment.order)]
    assert "late_payment" in actions


def test_out_of_order_captured_before_authorized_ends_captured(deliver, make):
    order = make.order()
    captured = payloads.payment(order, "captured")
    authorized = {**captured, "status": "authorized", "captured": False}
    deliver("payment.captured", payment=captured)
    deliver("payment.authorized", payment=authorized)
    payment = _payment(captured["id"])
    assert payment.status == "captured" and payment.order.status == "paid"
    assert "stale" in _event().outcome
    moves = [(e.from_state, e.to_state) for e in history_of(payment) if e.action == "transition"]
    assert moves == [("created", "authorized"), ("authorized", "captured")]


def test_out_of_order_failed_after_captured_is_stale(deliver, make):
    order = make.order()
    captured = payloads.payment(order, "captured")
    deliver("payment.captured", payment=captured)
    deliver("payment.failed", payment={**captured, "status": "failed"})
    payment = _payment(captured["id"])
    assert payment.status == "captured" and payment.order.status == "paid"


def test_late_capture_after_failed_converges_on_captured(deliver, make):
    order = make.order()
    failed = payloads.payment(order, "failed")
    deliver("payment.failed", payment=failed)
    deliver("payment.captured", payment={**failed, "status": "captured"})
    payment = _payment(failed["id"])
    assert payment.status == "captured" and payment.order.status == "paid"


def test_out_of_order_refund_processed_before_created_stays_processed(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "captured", pay_id=payment.gateway_payment_id)
    refund = payloads.refund(pay, "processed", amount=500)
    deliver("refund.processed", refund=refund, payment=pay)
    deliver("refund.created", refund={**refund, "status": "pending"}, payment=pay)
    db.session.expire_all()  # the deliveries ran in their own app context and session
    row = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == refund["id"]))
    assert row.status == "processed" and db.session.get(Payment, payment.id).amount_refunded == 500


def test_out_of_order_refund_created_after_failed_does_not_reopen_it(deliver, make):
    order, payment = make.paid_order()
    pay = payloads.payment(order, "captured", pay_id=payment.gateway_payment_id)
    refund = payloads.refund(pay, "failed")
    deliver("refund.failed", refund=refund, payment=pay)
    deliver("refund.created", refund={**refund, "status": "pending"}, payment=pay)
    row = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == refund["id"]))
    assert row.status == "failed" and "stale" in _event().outcome


def test_history_of_a_webhook_payment_names_the_event(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured")
    deliver("payment.captured", payment=entity, event_id="EvNamedInHist1")
    reasons = db.session.scalars(select(HistoryEvent.reason).where(HistoryEvent.entity_type == "payment")).all()
    assert any("EvNamedInHist1" in reason for reason in reasons)
