"""The `expire_unpaid_orders` schedule: the expire service, every minute, locked against overlap."""

from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.jobs import huey
from portal.orders import cli, tasks
from portal.orders.models import Order
from portal.timeutil import utcnow


def _overdue(make) -> Order:
    order = make.order()
    order.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return order


def test_it_is_a_periodic_task_that_runs_every_minute():
    task = tasks.expire_unpaid_orders
    periodic = {t.name for t in huey._registry.periodic_tasks}
    assert task.name in periodic
    every_minute = [utcnow().replace(minute=m, second=0, microsecond=0) for m in (0, 1, 29, 59)]
    assert all(task.task_class().validate_datetime(moment) for moment in every_minute)


def test_the_scheduled_run_expires_overdue_orders_once(make):
    overdue, fresh = _overdue(make), make.order()

    assert tasks.expire_unpaid_orders.call_local() == 1
    assert tasks.expire_unpaid_orders.call_local() == 0

    db.session.expire_all()
    assert db.session.get(Order, overdue.id).status == "expired"
    assert db.session.get(Order, fresh.id).status == "pending"


def test_a_long_manual_run_shows_a_progress_bar_and_a_one_line_summary(make, runner, monkeypatch):
    monkeypatch.setattr(cli, "PROGRESS_FROM", 2)  # the threshold, not the behaviour: 2 orders make a "long" run
    orders = [_overdue(make) for _ in range(3)]

    result = runner.invoke(args=["orders", "expire"])

    assert result.exit_code == 0, result.output
    assert "Expiring orders" in result.stderr
    assert result.stdout.strip() == "expired 3 order(s); cancelled 0 payment link(s)"
    db.session.expire_all()
    assert {db.session.get(Order, order.id).status for order in orders} == {"expired"}
