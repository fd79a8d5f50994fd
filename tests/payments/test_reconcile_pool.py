"""Reconcile's thread pool: the same reports as one order after another, a shared back-off that keeps a
rate-limited gateway from failing the run, a dry run that writes nothing, and the CLI's progress bar."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.models import HistoryEvent
from portal.payments.models import Payment
from portal.payments.reconcile import reconcile
from portal.refunds.models import Refund
from portal.timeutil import utcnow
from tests.payments.test_reconcile import _order_at_gateway


def since():
    return utcnow() - timedelta(days=3)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def drifted_shop(make, sandbox) -> None:
    """Orders in every state reconcile tells apart: in sync, payments and a refund whose webhooks were lost,
    a failed payment never heard of, an order the gateway does not know, one still awaiting payment."""
    for _ in range(2):
        sandbox.pay(_order_at_gateway(make).gateway_order_id)  # in sync
    refunded = _order_at_gateway(make)
    sandbox.pay(refunded.gateway_order_id)
    payment = db.session.scalars(select(Payment).where(Payment.order_id == refunded.id)).one()
    sandbox.set_faults(drop_webhooks=True)
    get_gateway().refund_payment(payment.gateway_payment_id, amount=1000, idempotency_key="pool-refund-0001")
    for _ in range(3):
        sandbox.pay(_order_at_gateway(make).gateway_order_id)  # captured there, unknown here
    sandbox.pay(_order_at_gateway(make).gateway_order_id, outcome="failure")
    make.order(gateway_order_id="order_NotAtGateway01")
    _order_at_gateway(make)  # awaiting payment
    sandbox.clear_faults()


def test_a_pooled_run_reports_exactly_what_a_sequential_run_reports(sandbox, make):
    drifted_shop(make, sandbox)
    one = reconcile(since(), dry_run=True, workers=1)
    many = reconcile(since(), dry_run=True, workers=4)
    assert [r.lines() for r in many.reports] == [r.lines() for r in one.reports]
    assert many.line() == one.line()
    assert one.line() == "checked 9 order(s): 6 drifted, would repair 5 record(s), 0 failed; 1 need review"

    repaired = reconcile(since(), workers=4)
    assert repaired.line() == "checked 9 order(s): 6 drifted, repaired 5 record(s), 0 failed; 1 need review"
    assert count(Payment) == 7 and count(Refund) == 1
    again = reconcile(since(), workers=4)
    assert again.line() == "checked 9 order(s): 1 drifted, repaired 0 record(s), 0 failed; 1 need review"


def test_the_fetches_run_in_the_pool_threads(sandbox, make, caplog):
    drifted_shop(make, sandbox)
    caplog.set_level(logging.INFO, "portal.gateway")
    reconcile(since(), dry_run=True, workers=4)
    threads = {r.threadName for r in caplog.records if hasattr(r, "gateway_operation")}
    assert len(threads) > 1 and all(name.startswith("reconcile") for name in threads)


def test_a_rate_limited_gateway_slows_the_run_down_and_never_fails_it(sandbox, make, caplog):
    sandbox.set_faults(drop_webhooks=True)
    for _ in range(6):
        sandbox.pay(_order_at_gateway(make).gateway_order_id)
    sandbox.set_faults(drop_webhooks=True, rate_limit_per_second=4)
    caplog.set_level(logging.INFO, "portal.gateway")

    summary = reconcile(since(), workers=6)

    assert summary.line() == "checked 6 order(s): 6 drifted, repaired 6 record(s), 0 failed; 0 need review"
    assert any(getattr(r, "gateway_outcome", None) == "GatewayRateLimited" for r in caplog.records)
    assert count(Payment) == 6


def test_a_pooled_dry_run_writes_nothing(sandbox, make, runner):
    drifted_shop(make, sandbox)
    before = (count(Payment), count(Refund), count(HistoryEvent))
    result = runner.invoke(args=["payments", "reconcile", "--dry-run", "--workers", "4"])
    assert result.exit_code == 0 and "would repair 5 record(s)" in result.output, result.output
    db.session.expire_all()
    assert (count(Payment), count(Refund), count(HistoryEvent)) == before


def test_the_cli_shows_progress_and_refuses_a_pool_of_none(sandbox, make, runner):
    _order_at_gateway(make)
    result = runner.invoke(args=["payments", "reconcile", "--workers", "3"])
    assert result.exit_code == 0 and "Checking orders" in result.output, result.output
    summary = "checked 1 order(s): 0 drifted, repaired 0 record(s), 0 failed; 0 need review"
    assert result.output.strip().endswith(summary)
    bad = runner.invoke(args=["payments", "reconcile", "--workers", "0"])
    assert bad.exit_code == 2
