"""Hostile numbers, dates and ids from outside are answered 404 / no match / a field error, never a 500.

PostgreSQL refuses to compare an INTEGER column with 2^31 ("integer out of range") and SQLite with 2^63;
Python refuses int() of 4,300+ digits and dates past 9999. These run on both databases.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from portal.inputs import DB_INT_MAX, JSONTooDeep, db_ids, loads_json
from portal.listing import MAX_DATE, decode_cursor, encode_cursor, parse_list_args, to_date

HUGE_IDS = [str(DB_INT_MAX + 1), "99999999999", "9" * 25, "9" * 5000, "٣"]
DETAIL_PATHS = [
    "/admin/orders/{}",
    "/admin/payments/{}",
    "/admin/refunds/{}",
    "/admin/invoices/{}",
    "/admin/invoices/{}/download",
    "/admin/webhooks/{}",
]
LISTS = ["/admin/orders", "/admin/payments", "/admin/refunds", "/admin/invoices", "/admin/webhooks"]


@pytest.fixture
def admin(auth):
    auth.login_as("admin")
    return auth.client


def test_a_path_id_past_the_database_range_is_a_404(admin):
    answers = {
        path.format(number): admin.get(path.format(number)).status_code for path in DETAIL_PATHS for number in HUGE_IDS
    }
    assert set(answers.values()) == {404}, answers


def test_every_int_rule_in_the_app_is_bounded(app):
    from portal.inputs import DbIntConverter

    int_rules = [
        r for r in app.url_map.iter_rules() if any(isinstance(c, DbIntConverter) for c in r._converters.values())
    ]
    assert int_rules, "no <int:> routes found"
    for rule in app.url_map.iter_rules():
        for converter in rule._converters.values():
            if type(converter).__name__ == "IntegerConverter":
                pytest.fail(f"{rule.rule} uses an unbounded int converter")
            if isinstance(converter, DbIntConverter):
                assert converter.max <= DB_INT_MAX


def test_the_api_path_id_past_the_range_is_its_404_shape(client, make):
    from portal.auth.services import issue_token

    token, _ = issue_token(make.customer())
    response = client.get("/api/v1/orders/" + "9" * 30, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", LISTS)
def test_a_date_at_the_ends_of_the_calendar_is_no_500(admin, path):
    for query in ["to=9999-12-31", "from=9999-12-31", "from=0001-01-01", "to=0001-01-01", "from=1&to=99999-01-01"]:
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 200, (query, response.status_code)


def test_a_date_past_the_bound_is_a_form_error_on_the_shared_lists():
    parsed = parse_list_args(
        MultiDict({"to": "9999-12-31", "from": "2026-01-01"}), statuses=[], sorts=["a"], default_sort="a"
    )
    assert parsed.date_to is None and "to" in parsed.errors
    assert to_date(MAX_DATE.isoformat()) == MAX_DATE


QUERY_IDS = [
    "/admin/invoices?page=99999999999999999999",
    "/admin/webhooks?page=99999999999999999999",
    "/admin/orders?customer=99999999999",
    "/admin/orders?product=99999999999",
    "/admin/orders?product=" + "9" * 5000,
    "/admin/refunds/new?payment_id=99999999999",
    "/admin/refunds/new?order_id=" + "9" * 5000,
]


def test_an_id_or_page_past_the_range_in_the_query_string_is_no_500(admin):
    answers = {query[:60]: admin.get(query).status_code for query in QUERY_IDS}
    assert set(answers.values()) <= {200, 404}, answers


def test_a_product_id_past_the_range_is_a_field_error():
    from portal.orders.queries import parse_order_args

    assert parse_order_args(MultiDict({"product": "99999999999"})).errors == {"product": "Unknown product."}


def test_a_cursor_naming_an_id_past_the_range_means_page_one(admin):
    cursor = encode_cursor(5, 10**30)
    assert decode_cursor(cursor) is None
    assert admin.get(f"/admin/orders?after={cursor}").status_code == 200
    assert admin.get(f"/admin/orders?after={encode_cursor('not a date', 1)}").status_code == 200


def test_form_ids_past_the_range_are_field_errors(admin, auth):
    token = auth.csrf_token("/admin/invoices")
    for path, field in [
        ("/admin/invoices", "order_id"),
        ("/admin/invoices/credit-notes", "refund_id"),
        ("/admin/refunds", "payment_id"),
    ]:
        response = admin.post(path, data={field: "99999999999", "reason": "duplicate", "csrf_token": token})
        assert response.status_code < 500, (path, response.status_code)


def test_bulk_ids_past_the_range_are_dropped(admin, auth):
    token = auth.csrf_token("/admin/orders")
    data = {"ids": ["99999999999", "9" * 5000], "scope": "selected", "action": "export", "csrf_token": token}
    assert admin.post("/admin/orders/bulk", data=data).status_code < 500
    assert db_ids(["1", "99999999999", "x", "٣"]) == [1]


def test_json_deeper_than_the_bound_is_a_value_error_not_a_recursion_error():
    with pytest.raises(JSONTooDeep):
        loads_json("[" * 5000 + "]" * 5000)
    with pytest.raises(ValueError):
        loads_json('{"a": ' + "[" * 33 + "]" * 33 + "}")
    assert loads_json("[" * 32 + "]" * 32) is not None


def test_a_wrong_method_on_a_portal_page_keeps_its_allow_header(admin):
    response = admin.put("/admin/orders")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_an_amount_filter_past_the_range_is_a_field_error(admin):
    parsed = parse_list_args(MultiDict({"max": "2147483648", "min": "1"}), statuses=[], sorts=["a"], default_sort="a")
    assert "max" in parsed.errors and parsed.max_amount is None and parsed.min_amount == 100
    assert admin.get("/admin/orders?min=99999999999&max=2147483648").status_code == 200
