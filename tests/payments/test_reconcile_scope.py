"""Which orders a reconcile run checks: what can still change, what changed lately, and a rotating slice of the
rest; `--full` checks every order with a gateway presence. Settled orders cost the incremental run nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from portal.extensions import db
from portal.history.services import Actor
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.payments.reconcile import orders_to_check, reconcile
from portal.refunds.models import Refund
from portal.refunds.services import create_refund
from portal.timeutil import utcnow
from tests.payments.test_reconcile import _order_at_gateway

LONG_AGO = timedelta(days=40)


def since():
    return utcnow() - timedelta(days=3)


def age(order_id: int) -> None:
    """Back-date an order and its money records: settled long ago, untouched since."""
    past = utcnow() - LONG_AGO
    for model, column in ((Order, Order.id), (Payment, Payment.order_id), (Refund, Refund.order_id)):
        db.session.execute(update(model).where(column == order_id).values(created_at=past, updated_at=past))
    db.session.commit()


def settled(make, sandbox) -> Order:
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)  # its webhooks arrive: paid here and there
    age(order.id)
    return order


def incremental() -> list[int]:
    return orders_to_check(since(), sweep_days=0)


def test_a_settled_order_is_not_fetched_by_the_incremental_run_and_is_by_the_full_sweep(sandbox, make, caplog):
    old = settled(make, sandbox)
    new = _order_at_gateway(make)
    sandbox.pay(new.gateway_order_id)
    caplog.set_level(logging.INFO, "portal.gateway")

    summary = reconcile(since(), sweep_days=0)
    assert [r.order_id for r in summary.reports] == [new.id]
    assert [r.gateway_operation for r in caplog.records if hasattr(r, "gateway_operation")].count("fetch_order") == 1

    caplog.clear()
    full = reconcile(since(), full=True)
    assert [r.order_id for r in full.reports] == [old.id, new.id] and not full.failed
    assert [r.gateway_operation for r in caplog.records if hasattr(r, "gateway_operation")].count("fetch_order") == 2


def test_orders_without_a_gateway_presence_are_never_checked(make):
    offline = make.order()
    db.session.execute(update(Order).where(Order.id == offline.id).values(gateway_order_id=None))
    db.session.commit()
    assert orders_to_check(since(), full=True) == []


def test_an_order_still_awaiting_payment_is_checked_however_old(make):
    waiting = make.order()
    age(waiting.id)
    assert incremental() == [waiting.id]


def test_an_order_with_a_payment_not_yet_captured_is_checked(sandbox, make):
    order = settled(make, sandbox)
    assert incremental() == []
    db.session.execute(update(Payment).where(Payment.order_id == order.id).values(status="authorized"))
    db.session.commit()
    age(order.id)
    assert incremental() == [order.id]


def test_an_order_with_a_refund_still_pending_is_checked(sandbox, make):
    order = settled(make, sandbox)
    sandbox.set_faults(pending_refunds=True)
    payment = db.session.scalars(select(Payment).where(Payment.order_id == order.id)).one()
    refund = create_refund(payment.id, amount=1000, reason="requested_by_customer", actor=Actor.system("test"))
    assert refund.status == "pending"
    age(order.id)
    assert incremental() == [order.id]


def test_an_order_changed_lately_is_checked_whichever_of_its_records_changed(sandbox, make):
    order = settled(make, sandbox)
    for model, column in ((Order, Order.id), (Payment, Payment.order_id)):
        age(order.id)
        assert incremental() == []
        db.session.execute(update(model).where(column == order.id).values(updated_at=utcnow()))
        db.session.commit()
        assert incremental() == [order.id], model.__name__


def test_an_order_placed_since_the_cutoff_is_checked_even_when_settled(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)
    assert incremental() == [order.id]
    assert orders_to_check(utcnow() + timedelta(days=1), sweep_days=0) == []


def test_the_daily_slice_re_checks_every_settled_order_within_the_sweep_period(sandbox, make):
    orders = [settled(make, sandbox).id for _ in range(3)]
    today = utcnow().date()
    picked = [orders_to_check(since(), sweep_days=3, today=today + timedelta(days=n)) for n in range(3)]
    assert all(len(day) == 1 for day in picked)  # one order in three each day ...
    assert sorted(i for day in picked for i in day) == orders  # ... and each of them once in three days
    assert orders_to_check(since(), sweep_days=3, today=today + timedelta(days=3)) == picked[0]


def test_the_cli_checks_settled_orders_only_with_full(sandbox, make, runner):
    settled(make, sandbox)
    _order_at_gateway(make)
    quick = runner.invoke(args=["payments", "reconcile", "--dry-run", "--sweep-days", "0"])
    assert quick.exit_code == 0 and "checked 1 order(s)" in quick.output, quick.output
    full = runner.invoke(args=["payments", "reconcile", "--dry-run", "--full"])
    assert full.exit_code == 0 and "checked 2 order(s)" in full.output, full.output
