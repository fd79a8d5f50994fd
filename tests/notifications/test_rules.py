"""Which event writes which message: in the transaction of the change, once per event, to the right people."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.notifications.models import Audience, OutboxMessage
from portal.orders.services import advance_fulfilment, cancel_order, change_status
from portal.orders.status import OrderStatus
from portal.payments.disputes import apply_gateway_dispute
from portal.payments.services import apply_gateway_payment
from portal.refunds.models import Refund
from portal.refunds.services import create_refund, process_refund
from portal.vendors.models import Vendor
from tests.refunds.conftest import pay_through_sandbox
from tests.webhooks import payloads

ADMIN = Actor.system("test")


def messages(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def kinds() -> list[str]:
    return [m.kind for m in messages()]


def test_placing_an_order_queues_its_confirmation_to_the_billing_email(make):
    order = make.order()
    [message] = messages()
    assert (message.kind, message.recipient, message.audience) == ("order_placed", order.billing_email, "customer")
    assert (message.order_id, message.customer_id, message.idempotency_key) == (
        order.id,
        order.customer_id,
        f"order_placed:order:{order.id}",
    )


def test_a_paid_order_queues_one_receipt_and_one_alert_per_admin_and_finance_user(make):
    admin, finance = make.staff("admin"), make.staff("finance")
    make.staff("viewer")
    order, payment = make.paid_order()
    [receipt] = messages("payment_received")
    assert (receipt.recipient, receipt.order_id, receipt.payment_id) == (order.billing_email, order.id, payment.id)
    alerts = messages("staff_new_paid_order")
    assert sorted(m.recipient for m in alerts) == sorted([admin.email, finance.email])
    assert {m.audience for m in alerts} == {Audience.STAFF}


def test_staff_alert_emails_replace_the_default_recipients(app, make):
    make.staff("admin")
    app.config["STAFF_ALERT_EMAILS"] = "ops@shop.test, Owner@Shop.test ,ops@shop.test"
    try:
        make.paid_order()
    finally:
        app.config["STAFF_ALERT_EMAILS"] = ""
    assert [m.recipient for m in messages("staff_new_paid_order")] == ["ops@shop.test", "Owner@Shop.test"]


def test_the_same_capture_applied_again_writes_no_second_receipt(make):
    order = make.order()
    entity = make.payment_entity(order)
    for _ in range(3):
        apply_gateway_payment(entity, actor=Actor.gateway())
    assert kinds() == ["order_placed", "payment_received"]


def test_a_failed_payment_queues_a_reminder_for_that_attempt(make):
    order = make.order()
    failed = make.payment_entity(order, "failed", error_description="Card declined by the bank")
    apply_gateway_payment(failed, actor=Actor.gateway())
    apply_gateway_payment(failed, actor=Actor.gateway())  # the same attempt reported again
    [reminder] = messages("payment_failed")
    assert reminder.payment_id is not None and reminder.order_id == order.id


def test_cancelling_and_expiring_queue_their_messages_with_the_reason(make):
    cancelled, expired = make.order(), make.order()
    cancel_order(cancelled.id, actor=ADMIN, reason="customer changed their mind")
    change_status(expired.id, OrderStatus.EXPIRED, actor=ADMIN, reason="payment window passed")
    [c] = messages("order_cancelled")
    [e] = messages("order_expired")
    assert (c.order_id, c.context) == (cancelled.id, {"reason": "customer changed their mind"})
    assert e.order_id == expired.id


def test_goods_moving_queue_shipped_and_delivered_with_the_note_given(make):
    goods = make.product(kind="good")
    order, _ = make.paid_order(products=[goods])
    advance_fulfilment(order.id, "processing", actor=ADMIN)
    advance_fulfilment(order.id, "shipped", actor=ADMIN, carrier="BlueDart", tracking_number="AWB1234")
    advance_fulfilment(order.id, "delivered", actor=ADMIN, reason="left with the neighbour")
    [shipped] = messages("order_shipped")
    [delivered] = messages("order_delivered")
    assert shipped.context == {"carrier": "BlueDart", "tracking_number": "AWB1234"}
    assert delivered.context == {"note": "left with the neighbour"}


def test_a_paid_order_awaiting_approval_tells_its_vendor_once(make):
    vendor = Vendor(name="Clay Works", invoice_prefix="CLAY", email="orders@clay.example", auto_approve=False)
    db.session.add(vendor)
    db.session.commit()
    order = make.order(products=[make.product(kind="good")], vendor_id=vendor.id)
    order.fulfilment_status = "awaiting_vendor"  # as the checkout writes it for a vendor without auto-approve
    entity = make.payment_entity(order)
    apply_gateway_payment(entity, actor=Actor.gateway())
    apply_gateway_payment(entity, actor=Actor.gateway())  # a duplicate webhook
    [message] = messages("vendor_order_awaiting")
    assert (message.recipient, message.order_id, message.audience) == ("orders@clay.example", order.id, "staff")


def test_goods_moving_without_a_note_queue_no_context(make):
    order, _ = make.paid_order(products=[make.product(kind="good")])
    advance_fulfilment(order.id, "processing", actor=ADMIN)
    advance_fulfilment(order.id, "shipped", actor=ADMIN, carrier="BlueDart", tracking_number="AWB1")
    advance_fulfilment(order.id, "delivered", actor=ADMIN)
    [delivered] = messages("order_delivered")
    assert delivered.context is None  # "marked delivered" is the default reason, not a note for the customer


def test_a_refund_queues_initiated_then_processed_once_each(sandbox, make):
    _, payment = pay_through_sandbox(sandbox)
    refund = create_refund(payment.id, amount=5000, reason="requested_by_customer", actor=ADMIN)
    assert refund.status == "processed"  # the sandbox processes a normal refund at once
    [initiated] = messages("refund_initiated")
    [processed] = messages("refund_processed")
    assert initiated.refund_id == processed.refund_id == refund.id
    assert processed.idempotency_key == f"refund_processed:refund:{refund.id}"


def test_a_refund_failed_at_the_gateway_alerts_staff_once_and_its_retry_reaches_the_customer(sandbox, make):
    make.staff("finance")
    order, payment = pay_through_sandbox(sandbox)
    sandbox.set_faults(fail_refunds=True)
    refund = create_refund(payment.id, amount=5000, reason="requested_by_customer", actor=ADMIN)
    sandbox.deliver()  # refund.failed reaches /webhooks/razorpay
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status == "failed"
    [alert] = messages("staff_refund_failed")
    assert (alert.refund_id, alert.order_id, alert.audience) == (refund.id, order.id, "staff")
    assert alert.context["reason"]
    assert messages("refund_processed") == []

    sandbox.clear_faults()
    assert process_refund(refund.id, actor=ADMIN).status == "processed"
    assert len(messages("staff_refund_failed")) == 1
    assert [m.refund_id for m in messages("refund_initiated")] == [refund.id]  # the retry is the same refund
    assert [m.refund_id for m in messages("refund_processed")] == [refund.id]


def test_a_rolled_back_refund_leaves_no_message(sandbox, make):
    """The refund's history row (and so its message) is written in the session, then the transaction rolls back."""
    _, payment = pay_through_sandbox(sandbox)
    before = kinds()
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, amount=100, currency="INR", idempotency_key="rb")
    db.session.add(refund)
    db.session.flush()
    record_event(refund, action="create", actor=ADMIN, to_state="pending")
    in_transaction = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.refund_id == refund.id))
    assert list(in_transaction) == ["refund_initiated"]
    db.session.rollback()
    assert kinds() == before
    assert db.session.scalar(select(Refund).where(Refund.idempotency_key == "rb")) is None


def test_a_dispute_alerts_staff_once(make):
    make.staff("admin")
    _, payment = make.paid_order()
    entity = payloads.dispute({"id": payment.gateway_payment_id, "amount": 5000, "currency": "INR"}, "open")
    apply_gateway_dispute(entity, actor=Actor.gateway())
    apply_gateway_dispute({**entity, "status": "under_review"}, actor=Actor.gateway())
    [alert] = messages("staff_dispute_opened")
    assert alert.payment_id == payment.id and alert.context["gateway_dispute_id"] == entity["id"]


def test_a_very_long_staff_address_still_gets_a_key_within_the_column(app, make):
    long_address = "a" * 190 + "@shop.test"
    app.config["STAFF_ALERT_EMAILS"] = long_address
    try:
        make.paid_order()
    finally:
        app.config["STAFF_ALERT_EMAILS"] = ""
    [alert] = messages("staff_new_paid_order")
    assert alert.recipient == long_address and len(alert.idempotency_key) <= 200
