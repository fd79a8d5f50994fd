"""The orders read side and the shared list helpers: cursors, capped counts, search shapes, CSV cells."""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import MultiDict

from portal.listing import (
    capped_counts,
    decode_cursor,
    display_count,
    encode_cursor,
    minor_to_decimal,
)
from portal.orders import queries
from portal.orders.models import Order


def _args(**values):
    return queries.parse_order_args(MultiDict(values))


def test_cursor_round_trips_dates_and_numbers():
    moment = datetime(2026, 3, 1, 12, 30, 5, 123456)
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)
    assert decode_cursor(encode_cursor(118000, 7)) == (118000, 7)


def test_a_tampered_cursor_means_page_one():
    assert decode_cursor("not-a-cursor") is None
    assert decode_cursor("") is None


def test_capped_counts_stop_at_the_cap_and_say_so(make):
    customer, product = make.customer(), make.product()
    for _ in range(4):
        make.order(customer_user=customer, products=[product])
    counts = capped_counts(Order, Order.status, queries.STATUSES, [], cap=2)
    assert counts[""] == 3 and counts["pending"] == 3  # cap + 1: "more than 2"
    assert counts["paid"] == 0
    assert display_count(counts[""], cap=2) == "2+"
    assert display_count(2, cap=2) == "2"


def test_tab_counts_respect_the_filter_but_not_the_tab(make):
    mine = make.customer()
    make.order(customer_user=mine)
    make.paid_order(customer_user=mine)
    make.order()
    counts = queries.tab_counts(_args(customer=mine.email, status="paid"))
    assert counts[""] == 2 and counts["paid"] == 1 and counts["pending"] == 1


def test_list_page_returns_next_cursor_only_when_more_rows_exist(make):
    customer, product = make.customer(), make.product()
    for _ in range(26):
        make.order(customer_user=customer, products=[product])
    first = queries.list_page(_args(per_page="25"))
    assert len(first.rows) == 25 and first.has_next and not first.has_prev
    second = queries.list_page(_args(per_page="25", after=first.next_cursor))
    assert len(second.rows) == 1 and not second.has_next and second.has_prev
    assert second.rows[0].id not in {o.id for o in first.rows}


def test_unknown_filter_values_become_errors_not_queries():
    args = _args(status="shipped", fulfilment="lost", product="abc", sort="password", min="1e9")
    assert set(args.errors) == {"status", "fulfilment", "product", "sort", "min"}
    assert args.status == "" and args.sort == "created"


def test_search_shapes_pick_the_indexed_column():
    def sql(q: str) -> str:
        return str(queries.search_clause(q))

    assert "payments.gateway_payment_id" in sql("pay_ABC")
    assert "orders.gateway_order_id" in sql("order_ABC")
    assert "orders.number" in sql("ord-abc12345")
    assert "orders.billing_email =" in sql("a@b.test")
    assert "LIKE" in sql("priya")


def test_minor_units_become_exact_decimal_strings():
    assert minor_to_decimal(118050) == "1180.50"
    assert minor_to_decimal(5) == "0.05"
    assert minor_to_decimal(-250) == "-2.50"
    assert minor_to_decimal(None) == ""


def test_date_filters_are_calendar_days_in_the_business_time_zone(app, make, monkeypatch):
    from portal.extensions import db

    late_evening_utc = make.order()  # 31 March 2026, 20:00 UTC is 1 April, 01:30 in Kolkata
    late_evening_utc.created_at = datetime(2026, 3, 31, 20, 0)
    db.session.commit()

    def found(**dates) -> bool:
        return late_evening_utc in queries.list_page(_args(**dates)).rows

    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Kolkata")
    assert found(**{"from": "2026-04-01", "to": "2026-04-01"})
    assert not found(to="2026-03-31")
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    assert found(to="2026-03-31") and not found(**{"from": "2026-04-01"})


def test_csv_times_carry_the_business_offset(app, make, monkeypatch):
    from portal.extensions import db

    order = make.order()
    order.created_at = datetime(2026, 3, 31, 20, 0)
    db.session.commit()
    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Kolkata")
    row = next(r for r in queries.csv_rows(_args()) if r[0] == order.number)
    from portal.listing import _safe_cell

    assert _safe_cell(row[1]) == "2026-04-01 01:30:00+05:30"
