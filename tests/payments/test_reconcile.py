"""Reconciliation against the real sandbox through the real adapter: drift found, repaired, reported."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor, history_of
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.payments.reconcile import reconcile, sync_order, sync_payment
from portal.refunds.models import Refund
from portal.timeutil import utcnow
from portal.webhooks.models import WebhookEvent

ACTOR = Actor.system("test")


def _order_at_gateway(make) -> Order:
    order = make.order()
    gateway_order = get_gateway().create_order(
        amount=order.total, currency=order.currency, receipt=order.number, notes={"order_id": str(order.id)}
    )
    order.gateway_order_id = gateway_order["id"]
    db.session.commit()
    return order


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_reconcile_repairs_a_payment_the_gateway_captured_while_every_webhook_was_lost(sandbox, make, runner):
    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    paid = sandbox.pay(order.gateway_order_id)
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "captured"
    assert _count(WebhookEvent) == 0 and _count(Payment) == 0  # our side saw nothing

    result = runner.invoke(args=["payments", "reconcile", "--since", "1d"])
    assert result.exit_code == 0, result.output
    assert f"{order.number}: repaired: gateway reports payment {paid['razorpay_payment_id']} captured" in result.output
    assert "checked 1 order(s): 1 drifted, repaired 1 record(s), 0 failed" in result.output

    db.session.expire_all()
    payment = db.session.scalars(select(Payment)).one()
    assert payment.gateway_payment_id == paid["razorpay_payment_id"] and payment.status == "captured"
    order = db.session.get(Order, order.id)
    assert order.status == "paid"
    notes = [e for e in history_of(order) if e.action == "reconciled"]
    assert len(notes) == 1 and "we had no record of it" in notes[0].reason
    assert any(e.reason.startswith("reconciliation:") for e in history_of(payment))


def test_a_second_reconcile_finds_nothing_to_repair(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    sandbox.pay(order.gateway_order_id)
    assert len(sync_order(order.id, actor=ACTOR).drifts) == 1
    again = sync_order(order.id, actor=ACTOR)
    assert again.in_sync and again.lines() == [f"{order.number}: in sync with the gateway"]
    assert _count(Payment) == 1


def test_dry_run_reports_the_drift_and_writes_nothing(sandbox, make, runner):
    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    sandbox.pay(order.gateway_order_id)
    result = runner.invoke(args=["payments", "reconcile", "--dry-run"])
    assert result.exit_code == 0 and "would repair" in result.output
    assert _count(Payment) == 0
    assert db.session.get(Order, order.id).status == "pending"


def test_reconcile_records_a_refund_whose_webhooks_were_lost(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)  # webhooks delivered: our order is paid
    payment = db.session.scalars(select(Payment)).one()
    assert payment.status == "captured"
    sandbox.set_faults(drop_webhooks=True)
    refund = get_gateway().refund_payment(
        payment.gateway_payment_id, amount=1000, idempotency_key="outside-refund-0001", notes={}
    )
    report = sync_payment(payment.id, actor=ACTOR)
    assert [(d.kind, d.gateway_id, d.ours) for d in report.drifts] == [("refund", refund["id"], None)]
    db.session.expire_all()
    row = db.session.scalars(select(Refund)).one()
    assert row.gateway_refund_id == refund["id"] and row.status == "processed" and row.amount == 1000
    assert db.session.get(Payment, payment.id).status == "partially_refunded"
    assert db.session.get(Order, order.id).status == "partially_refunded"


def test_a_failed_payment_we_never_heard_of_is_recorded_as_failed(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    sandbox.pay(order.gateway_order_id, outcome="failure")
    report = sync_order(order.id, actor=ACTOR)
    assert [d.theirs for d in report.drifts] == ["failed"]
    assert db.session.get(Order, order.id).status == "failed"


def test_gateway_down_is_reported_and_the_command_fails(sandbox, make, runner):
    _order_at_gateway(make)
    sandbox.set_faults(down=True)
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 1
    assert "could not sync" in result.output and "1 failed" in result.output


def test_reconcile_only_checks_settled_orders_changed_since_the_cutoff(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)  # paid: nothing left to change, unless it changed lately
    summary = reconcile(utcnow().replace(year=utcnow().year + 1), sweep_days=0)
    assert summary.checked == 0
    assert reconcile(order.created_at, sweep_days=0).checked == 1


def test_bad_since_is_a_usage_error(runner):
    result = runner.invoke(args=["payments", "reconcile", "--since", "yesterday-ish"])
    assert result.exit_code == 2 and "not like 48h" in result.output


def test_sync_from_gateway_action_repairs_and_returns_the_order_panel(sandbox, make, auth, client):
    from tests.helpers import extract_csrf

    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    payment_id = sandbox.pay(order.gateway_order_id)["razorpay_payment_id"]
    auth.login_as("finance")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    response = client.post(f"/admin/orders/{order.id}/sync", headers={"X-CSRFToken": token, "HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="order-detail"')
    assert '<span class="badge badge-ok" id="order-status">paid</span>' in html
    assert f"repaired: gateway reports payment {payment_id} captured" in html
    assert db.session.get(Order, order.id).status == "paid"


def test_sync_from_gateway_needs_finance(make, auth, client):
    from tests.helpers import extract_csrf

    order = make.order()
    auth.login_as("viewer")
    token = extract_csrf(client.get("/admin/webhooks").get_data(as_text=True))
    assert client.post(f"/admin/orders/{order.id}/sync", headers={"X-CSRFToken": token}).status_code == 403


# --- both directions of drift, findings instead of failures ------------------------------------------------


def _forge(client, app, event: str, **entities):
    """A webhook that is validly signed (a leaked secret, a replayed test payload) about things the gateway
    never did: it lands in our books like any other."""
    from tests.webhooks.conftest import Deliver
    from tests.webhooks.payloads import body_of, envelope

    response = Deliver(client, app).raw(body_of(envelope(event, **entities)))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_reconcile_flags_our_records_that_the_gateway_has_no_record_of(sandbox, make, runner, client, app):
    from tests.webhooks import payloads

    real = _order_at_gateway(make)
    sandbox.pay(real.gateway_order_id)  # genuinely paid: its webhooks arrive
    real_payment = db.session.scalars(select(Payment).where(Payment.order_id == real.id)).one()
    forged_order = _order_at_gateway(make)
    forged_payment = payloads.payment(forged_order, "captured", pay_id="pay_Forged00000001")
    _forge(client, app, "payment.captured", payment=forged_payment)
    gateway_real = sandbox.payment(real_payment.gateway_payment_id)
    forged_refund = payloads.refund(gateway_real, "processed", amount=1000, id="rfnd_Forged0000001")
    _forge(client, app, "refund.processed", refund=forged_refund, payment=gateway_real)
    db.session.expire_all()
    assert db.session.get(Order, forged_order.id).status == "paid"  # what the forgeries did to our books

    result = runner.invoke(args=["payments", "reconcile", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"{forged_order.number}: needs review: the gateway has no record of payment pay_Forged00000001" in (
        result.output
    )
    assert f"{real.number}: needs review: the gateway has no record of refund rfnd_Forged0000001" in result.output
    assert "2 need review" in result.output
    # A real run never deletes money records on its own: they are reported again, untouched.
    again = runner.invoke(args=["payments", "reconcile"])
    assert again.exit_code == 0 and "2 need review" in again.output
    assert db.session.scalar(select(Payment.status).where(Payment.gateway_payment_id == "pay_Forged00000001"))


def test_an_order_the_gateway_does_not_know_is_a_finding_not_a_failed_run(sandbox, make, runner):
    """A fresh demo's seeded orders carry gateway ids the sandbox never issued: a dry run reports them and exits 0."""
    known = _order_at_gateway(make)
    unknown = make.order(gateway_order_id="order_NotAtGateway01")

    result = runner.invoke(args=["payments", "reconcile", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"{unknown.number}: needs review: the gateway has no record of order order_NotAtGateway01" in result.output
    assert f"{known.number}" not in result.output  # in sync: not listed
    lines = [line for line in result.output.splitlines() if line.startswith("payments reconcile")]
    assert lines == [
        "payments reconcile (dry run): checked 2 order(s): 1 drifted, would repair 0 record(s), 0 failed; 1 need review"
    ]


def test_reconcile_reports_refunds_that_exceed_what_was_captured(sandbox, make, runner, client, app):
    """The invariant guard: whatever let it happen, refunded > captured is reported on the payment."""
    from tests.webhooks import payloads

    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)
    payment = db.session.scalars(select(Payment)).one()
    gateway_payment = sandbox.payment(payment.gateway_payment_id)
    for n in range(2):  # two refunds of the whole amount, each "processed"
        entity = payloads.refund(gateway_payment, "processed", amount=payment.amount, id=f"rfnd_Twice000000{n:03d}")
        _forge(client, app, "refund.processed", refund=entity, payment=gateway_payment)
    db.session.expire_all()
    refunded = db.session.scalar(select(func.sum(Refund.amount)).where(Refund.payment_id == payment.id))

    result = runner.invoke(args=["payments", "reconcile", "--dry-run"])

    assert result.exit_code == 0, result.output
    if refunded > payment.amount:  # our store let both in
        assert (
            f"needs review: payment {payment.gateway_payment_id} has {refunded} refunded of {payment.amount} captured"
            in result.output
        )
    else:  # our store refused the second one (the guard at store time): nothing to report on the amounts
        assert "refunded of" not in result.output
