"""The dashboard: figures, the needs-attention panel, the server-drawn chart, statements per request."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete

from portal.admin.services import summary
from portal.extensions import db
from portal.history.services import Actor
from portal.invoices.models import Invoice
from portal.refunds.models import Refund
from portal.refunds.settlement import apply_gateway_refund, new_idempotency_key
from portal.timeutil import utcnow
from portal.webhooks.models import WebhookEvent
from tests.admin.helpers import count_queries


def _refund_processed(payment, amount: int) -> None:
    entity = {
        "id": f"rfnd_T{payment.id:010d}",
        "entity": "refund",
        "amount": amount,
        "currency": payment.currency,
        "payment_id": payment.gateway_payment_id,
        "status": "processed",
    }
    apply_gateway_refund(entity, actor=Actor.gateway())


def _without_invoice(order) -> None:
    """Auto-invoicing may have issued one already; these tests want a paid order without it."""
    db.session.execute(delete(Invoice).where(Invoice.order_id == order.id))
    db.session.commit()


def test_net_revenue_is_captured_minus_refunded(make):
    _order, payment = make.paid_order()
    _refund_processed(payment, 10000)
    make.order()  # a pending order: counted as an order, not as revenue
    figures = summary()
    assert figures["revenue"] == dict.fromkeys(("today", "7 days", "30 days"), payment.amount - 10000)
    assert figures["orders"]["today"] == 2
    assert figures["orders_by_status"]["paid"] + figures["orders_by_status"]["partially_refunded"] == 1
    assert figures["orders_by_status"]["pending"] == 1


def test_old_captures_fall_outside_today_but_inside_30_days(make):
    _, payment = make.paid_order()
    payment.captured_at = utcnow() - timedelta(days=10)
    db.session.commit()
    figures = summary()
    assert figures["revenue"]["today"] == 0 and figures["revenue"]["7 days"] == 0
    assert figures["revenue"]["30 days"] == payment.amount


def test_payment_success_rate_counts_only_finished_attempts(make):
    make.paid_order()
    from portal.payments.services import apply_gateway_payment

    for status in ("failed", "authorized"):
        apply_gateway_payment(make.payment_entity(make.order(), status=status), actor=Actor.gateway())
    assert summary()["success_rate"] == 50.0


def test_needs_attention_lists_each_kind_of_trouble(make):
    late, _late_payment = make.paid_order()
    late.status, late.needs_refund = "cancelled", True
    unbilled, payment = make.paid_order()
    unbilled.created_at = utcnow() - timedelta(hours=2)
    db.session.add(
        Refund(
            payment_id=payment.id,
            order_id=unbilled.id,
            amount=100,
            currency="INR",
            status="pending",
            idempotency_key=new_idempotency_key(),
            created_at=utcnow() - timedelta(hours=3),
        )
    )
    db.session.add(WebhookEvent(event_id="evt_T1", event_type="payment.captured", status="failed", payload="{}"))
    db.session.commit()
    _without_invoice(unbilled)
    attention = summary()["attention"]
    assert [o.number for o in attention["late_payments"]["rows"]] == [late.number]
    assert [o.number for o in attention["paid_without_invoice"]["rows"]] == [unbilled.number]
    assert attention["stuck_refunds"]["count"] == 1
    assert attention["failed_webhooks"]["count"] == 1


def test_a_fresh_refund_is_not_yet_stuck(make):
    order, payment = make.paid_order()
    db.session.add(
        Refund(
            payment_id=payment.id,
            order_id=order.id,
            amount=100,
            currency="INR",
            status="pending",
            idempotency_key=new_idempotency_key(),
        )
    )
    db.session.commit()
    figures = summary()
    assert figures["attention"]["stuck_refunds"]["count"] == 0
    assert figures["pending_refunds"] == {"count": 1, "amount": 100}


@pytest.mark.parametrize("role", ["viewer", "finance", "admin"])
def test_dashboard_page_renders_for_every_role(auth, client, make, role):
    auth.login_as(role)
    make.paid_order()
    html = client.get("/admin/").get_data(as_text=True)
    assert "Needs attention" in html and "Net revenue per day" in html


def test_chart_is_plain_svg_with_one_bar_per_day_and_a_table_of_the_same_figures(auth, client, make):
    auth.login_as("viewer")
    _, _payment = make.paid_order()
    html = client.get("/admin/").get_data(as_text=True)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert len(re.findall(r"<rect ", svg)) == 30
    assert "style=" not in html and "<script>" not in html  # the CSP allows neither
    today = utcnow().date().isoformat()
    assert f"<title>{today}: ₹" in svg
    assert f'<th scope="row">{today}</th>' in html


def test_dashboard_statements_do_not_grow_with_the_data(auth, client, make):
    auth.login_as("viewer")
    make.paid_order()
    client.get("/admin/")
    with count_queries() as few:
        client.get("/admin/")
    product = make.product()
    for _ in range(10):
        make.paid_order(products=[product])
        make.order(products=[product])
    client.get("/admin/")
    with count_queries() as many:
        client.get("/admin/")
    assert len(few) == len(many) <= 14


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata"])
def test_days_are_the_business_calendar_days(app, make, monkeypatch, zone):
    # UTC+14 and UTC-11: at any moment one of them is on another date than UTC, so UTC days cannot pass both.
    from portal.timeutil import local_today

    monkeypatch.setitem(app.config, "TIMEZONE", zone)
    make.order()
    figures = summary()
    assert figures["series"].days[-1] == local_today().isoformat()
    assert figures["orders"]["today"] == 1 and figures["series"].orders[-1] == 1
