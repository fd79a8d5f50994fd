"""The one history timeline (templates/_macros/list.html): amounts as money, reasons by their label, times
in the business's zone."""

from __future__ import annotations

import re

from portal.history.services import Actor
from portal.refunds.services import create_refund


def _timeline(html: str) -> str:
    return re.search(r'<ol class="timeline" id="timeline">(.*?)</ol>', html, re.S).group(1)


def test_the_order_timeline_shows_its_total_as_money_not_paise(auth, client, make):
    order, _ = make.paid_order(products=[make.product(price=549900)])  # ₹5,499.00 + 18% = ₹6,488.82
    assert order.total == 648882
    auth.login_as("viewer")
    timeline = _timeline(client.get(f"/admin/orders/{order.id}").get_data(as_text=True))
    assert "₹6,488.82" in timeline
    assert "648882" not in timeline


def test_a_refund_reason_reads_the_same_on_the_order_page_the_refunds_list_and_the_timeline(auth, client, make):
    order, payment = make.paid_order()
    refund = create_refund(payment.id, amount=1000, reason="requested_by_customer", actor=Actor.system("test"))
    auth.login_as("viewer")
    order_page = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    refunds_list = client.get("/admin/refunds").get_data(as_text=True)
    refund_page = client.get(f"/admin/refunds/{refund.id}").get_data(as_text=True)
    for html in (order_page, refunds_list, refund_page):
        assert "Requested by the customer" in html
        assert "requested by customer" not in html and "requested_by_customer" not in html
    assert "Requested by the customer" in _timeline(order_page)
    assert "₹10.00" in _timeline(order_page)  # the refund's amount, from the history row's data


def test_timeline_times_are_in_the_business_time_zone(app, auth, client, make, monkeypatch):
    order = make.order()
    auth.login_as("viewer")
    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Kolkata")
    kolkata = _timeline(client.get(f"/admin/orders/{order.id}").get_data(as_text=True))
    assert " IST</time>" in kolkata and "+05:30" in kolkata and " UTC<" not in kolkata
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/London")
    london = _timeline(client.get(f"/admin/orders/{order.id}").get_data(as_text=True))
    assert re.search(r" (GMT|BST)</time>", london)
