"""The `reconcile_recent_payments` schedule: hourly, the last 3 days, repaired as `flask payments reconcile`."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.jobs import huey
from portal.orders.models import Order
from portal.payments import tasks
from portal.payments.models import Payment
from portal.timeutil import utcnow
from tests.payments.test_reconcile import _order_at_gateway


def test_it_is_an_hourly_periodic_task():
    task = tasks.reconcile_recent_payments
    assert task.name in {t.name for t in huey._registry.periodic_tasks}
    hour = utcnow().replace(minute=17, second=0, microsecond=0)
    runs_at = task.task_class().validate_datetime
    assert runs_at(hour) and not runs_at(hour.replace(minute=18))


def test_the_scheduled_run_repairs_a_payment_whose_webhooks_were_lost(sandbox, make):
    order = _order_at_gateway(make)
    sandbox.set_faults(drop_webhooks=True)
    paid = sandbox.pay(order.gateway_order_id)

    line = tasks.reconcile_recent_payments.call_local()

    assert line.startswith("checked 1 order(s): 1 drifted, repaired 1 record(s), 0 failed")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
    payment = db.session.scalars(select(Payment)).one()
    assert payment.gateway_payment_id == paid["razorpay_payment_id"]
    assert tasks.reconcile_recent_payments.call_local().startswith("checked 1 order(s): 0 drifted")
