"""Admin orders pages: list, filters, CSV, detail, every action × role, CSRF, and statements per page."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.orders.models import Order
from portal.orders.services import change_status
from portal.orders.status import OrderStatus
from portal.payments.services import apply_gateway_payment
from portal.timeutil import local_date
from tests.admin.helpers import HX, count_queries, csrf

ROLES = ("viewer", "finance", "admin")


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _reload(order_id: int) -> Order | None:
    db.session.expire_all()
    return db.session.get(Order, order_id)


# ---------------------------------------------------------------- list, filters, search


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_sees_the_orders_list(auth, client, make, role):
    auth.login_as(role)
    order = make.order()
    response = client.get("/admin/orders")
    assert response.status_code == 200
    assert order.number in response.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/orders")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_htmx_request_gets_only_the_results_fragment(auth, client, make):
    auth.login_as("viewer")
    make.order()
    response = client.get("/admin/orders?status=pending", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="order-results"')
    assert "<html" not in html
    assert 'id="filter-state" hx-swap-oob="true"' in html  # keeps the form's tab and sort in step


def test_status_filter_and_tab_counts(auth, client, make):
    auth.login_as("viewer")
    pending = make.order()
    paid, _ = make.paid_order()
    response = client.get("/admin/orders?status=paid")
    html = response.get_data(as_text=True)
    assert paid.number in html and pending.number not in html
    assert 'aria-current="page">\n      paid <span class="tab-count">1</span>' in html
    assert 'All <span class="tab-count">2</span>' in html


@pytest.mark.parametrize("kind", ["number", "gateway_order", "payment", "email", "email_prefix"])
def test_search_finds_an_order_by_each_kind_of_identifier(auth, client, make, kind):
    auth.login_as("viewer")
    other = make.order()
    paid, payment = make.paid_order(customer_user=make.customer(email="priya.sharma@example.test"))
    query = {
        "number": paid.number.lower(),
        "gateway_order": paid.gateway_order_id,
        "payment": payment.gateway_payment_id,
        "email": "Priya.Sharma@example.test",
        "email_prefix": "priya",
    }[kind]
    html = client.get("/admin/orders", query_string={"q": query}).get_data(as_text=True)
    assert paid.number in html
    assert other.number not in html


def test_filters_by_fulfilment_date_amount_customer_and_product(auth, client, make):
    auth.login_as("viewer")
    book = make.product(price=50000, kind=ProductKind.GOOD, stock=10)
    course = make.product(price=300000)
    buyer = make.customer()
    physical, _ = make.paid_order(customer_user=buyer, products=[book])
    digital = make.order(products=[course])
    day = local_date(physical.created_at).isoformat()  # the filter reads dates in the business time zone
    cases = [
        ({"fulfilment": "unfulfilled"}, physical, digital),
        ({"min": "1000.00"}, digital, physical),
        ({"max": "1000"}, physical, digital),
        ({"customer": buyer.email}, physical, digital),
        ({"customer": str(buyer.id)}, physical, digital),
        ({"product": str(course.id)}, digital, physical),
        ({"from": day, "to": day}, physical, None),
        ({"from": "2001-01-01", "to": "2001-01-31"}, None, physical),
    ]
    for params, shown, hidden in cases:
        html = client.get("/admin/orders", query_string=params).get_data(as_text=True)
        if shown:
            assert shown.number in html, params
        if hidden:
            assert hidden.number not in html, params


def test_a_bad_filter_value_is_explained_and_ignored(auth, client, make):
    auth.login_as("viewer")
    order = make.order()
    response = client.get("/admin/orders?min=lots&from=31-01-2026&status=bogus")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Use an amount like 250.00." in html and "Use a date like 2026-01-31." in html
    assert order.number in html


def test_keyset_pages_walk_forward_and_back_without_gaps_or_repeats(auth, client, make):
    auth.login_as("viewer")
    customer, product = make.customer(), make.product()
    numbers = [make.order(customer_user=customer, products=[product]).number for _ in range(30)]
    first = client.get("/admin/orders?per_page=25").get_data(as_text=True)
    seen_first = [n for n in numbers if n in first]
    assert len(seen_first) == 25
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_link).get_data(as_text=True)
    seen_second = [n for n in numbers if n in second]
    assert len(seen_second) == 5 and not set(seen_first) & set(seen_second)
    assert 'rel="next"' not in second
    prev_link = second.split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    back = client.get(prev_link).get_data(as_text=True)
    assert [n for n in numbers if n in back] == seen_first


def test_sorting_by_total_orders_rows(auth, client, make):
    auth.login_as("viewer")
    cheap = make.order(products=[make.product(price=10000)])
    dear = make.order(products=[make.product(price=900000)])
    html = client.get("/admin/orders?sort=total&dir=asc").get_data(as_text=True)
    assert html.index(cheap.number) < html.index(dear.number)
    html = client.get("/admin/orders?sort=total&dir=desc").get_data(as_text=True)
    assert html.index(dear.number) < html.index(cheap.number)


# ---------------------------------------------------------------- CSV


def test_csv_export_streams_the_filtered_set_with_exact_amounts(auth, client, make):
    auth.login_as("viewer")
    pending = make.order()
    paid, _ = make.paid_order()
    response = client.get("/admin/orders?format=csv&status=paid")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv(response)
    assert [r["number"] for r in rows] == [paid.number]
    assert rows[0]["total_minor"] == str(paid.total)
    assert rows[0]["total"] == f"{paid.total // 100}.{paid.total % 100:02d}"
    assert pending.number not in response.get_data(as_text=True)


def test_csv_cells_that_a_spreadsheet_would_execute_are_neutralised(auth, client, make):
    auth.login_as("viewer")
    make.order(customer_user=make.customer(name="=HYPERLINK(1)"))
    rows = _csv(client.get("/admin/orders?format=csv"))
    assert rows[0]["customer_name"] == "'=HYPERLINK(1)"


def test_csv_with_an_invalid_filter_is_refused_rather_than_exporting_everything(auth, client, make):
    auth.login_as("viewer")
    make.order()
    response = client.get("/admin/orders?format=csv&min=abc")
    assert response.status_code == 422


# ---------------------------------------------------------------- detail


def test_detail_shows_customer_items_totals_payments_and_timeline(auth, client, make):
    auth.login_as("viewer")
    order, payment = make.paid_order()
    html = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    for fragment in (order.number, order.gateway_order_id, payment.gateway_payment_id, order.billing_email):
        assert fragment in html
    assert order.items[0].title in html
    assert "pending → paid" in html  # the timeline


def test_unknown_order_is_404(auth, client):
    auth.login_as("viewer")
    assert client.get("/admin/orders/999999").status_code == 404


def test_viewer_sees_no_action_buttons(auth, client, make):
    auth.login_as("viewer")
    order = make.order()
    html = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Cancel order" not in html and "Delete order" not in html and "Change status" not in html


def test_admin_sees_only_legal_next_statuses(auth, client, make):
    auth.login_as("admin")
    order, _ = make.paid_order()
    html = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    options = html.split('id="status-select"')[1].split("</select>")[0]
    assert 'value="partially_refunded"' in options and 'value="refunded"' in options
    assert 'value="pending"' not in options and 'value="cancelled"' not in options
    assert "Cancel order" not in html  # paid orders are not cancellable


# ---------------------------------------------------------------- cancel


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_cancel_is_refused_below_admin_and_changes_nothing(auth, client, make, role):
    auth.login_as(role)
    order = make.order()
    token = csrf(client)
    response = client.patch(f"/admin/orders/{order.id}/cancel", data={"reason": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert "admin role" in response.get_data(as_text=True)
    assert _reload(order.id).status == OrderStatus.PENDING


def test_admin_cancels_through_htmx_and_gets_the_updated_panel(auth, client, make):
    admin = auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.patch(
        f"/admin/orders/{order.id}/cancel",
        data={"reason": "customer asked by phone"},
        headers={**HX, "X-CSRFToken": token},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="order-detail">')
    assert "cancelled" in html and "customer asked by phone" in html
    assert _reload(order.id).status == OrderStatus.CANCELLED
    event = db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.entity_id == order.id, HistoryEvent.to_state == "cancelled")
    ).one()
    assert event.actor_id == admin.id and event.reason == "customer asked by phone"


def test_plain_form_cancel_posts_then_redirects_with_a_message(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.post(f"/admin/orders/{order.id}/cancel", data={"reason": "dup", "csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Order {order.number} cancelled." in page


def test_cancel_without_a_reason_is_422_and_changes_nothing(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.patch(f"/admin/orders/{order.id}/cancel", data={"reason": " "}, headers={"X-CSRFToken": token})
    assert response.status_code == 422
    assert "Give a reason" in response.get_data(as_text=True)
    assert _reload(order.id).status == OrderStatus.PENDING


def test_cancelling_a_paid_order_is_a_409_conflict(auth, client, make):
    auth.login_as("admin")
    order, _ = make.paid_order()
    token = csrf(client)
    response = client.patch(f"/admin/orders/{order.id}/cancel", data={"reason": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 409
    assert "Only pending orders can be cancelled" in response.get_data(as_text=True)
    assert _reload(order.id).status == OrderStatus.PAID


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/admin/orders/{id}/cancel"),
        ("post", "/admin/orders/{id}/cancel"),
        ("post", "/admin/orders/{id}/status"),
        ("post", "/admin/orders/{id}/fulfilment"),
        ("delete", "/admin/orders/{id}"),
        ("post", "/admin/orders/{id}/delete"),
        ("post", "/admin/orders/bulk"),
    ],
)
def test_every_order_action_needs_the_csrf_token(auth, client, make, method, path):
    auth.login_as("admin")
    order = make.order()
    data = {"reason": "x", "status": "cancelled", "confirm": "y", "action": "cancel", "scope": "selected"}
    response = getattr(client, method)(path.format(id=order.id), data={**data, "ids": [order.id]})
    assert response.status_code == 400
    assert _reload(order.id) is not None and _reload(order.id).status == OrderStatus.PENDING


# ---------------------------------------------------------------- change status, fulfilment


def test_admin_moves_an_order_to_a_legal_status_with_a_reason(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.post(
        f"/admin/orders/{order.id}/status",
        data={"status": "failed", "reason": "bank confirmed failure", "csrf_token": token},
    )
    assert response.status_code == 303
    assert _reload(order.id).status == OrderStatus.FAILED


def test_an_illegal_status_is_not_accepted(auth, client, make):
    auth.login_as("admin")
    order, _ = make.paid_order()
    token = csrf(client)
    response = client.post(
        f"/admin/orders/{order.id}/status", data={"status": "pending", "reason": "oops", "csrf_token": token}
    )
    assert response.status_code == 422
    assert _reload(order.id).status == OrderStatus.PAID


def test_status_change_needs_a_reason(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.post(f"/admin/orders/{order.id}/status", data={"status": "failed", "csrf_token": token})
    assert response.status_code == 422
    assert _reload(order.id).status == OrderStatus.PENDING


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_status_change_is_admin_only(auth, client, make, role):
    auth.login_as(role)
    order = make.order()
    token = csrf(client)
    response = client.post(
        f"/admin/orders/{order.id}/status", data={"status": "failed", "reason": "x", "csrf_token": token}
    )
    assert response.status_code == 403
    assert _reload(order.id).status == OrderStatus.PENDING


def test_fulfilment_moves_one_step_for_a_paid_physical_order(auth, client, make):
    auth.login_as("admin")
    book = make.product(kind=ProductKind.GOOD, stock=5)
    order, _ = make.paid_order(products=[book])
    token = csrf(client)
    response = client.post(
        f"/admin/orders/{order.id}/fulfilment",
        data={"status": "processing", "reason": "packed", "csrf_token": token},
        headers=HX,
    )
    assert response.status_code == 200
    assert _reload(order.id).fulfilment_status == "processing"
    skip = client.post(
        f"/admin/orders/{order.id}/fulfilment", data={"status": "delivered", "csrf_token": token}, headers=HX
    )
    assert skip.status_code == 422
    assert _reload(order.id).fulfilment_status == "processing"


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_fulfilment_is_admin_only(auth, client, make, role):
    auth.login_as(role)
    order, _ = make.paid_order(products=[make.product(kind=ProductKind.GOOD, stock=5)])
    token = csrf(client)
    response = client.post(f"/admin/orders/{order.id}/fulfilment", data={"status": "processing", "csrf_token": token})
    assert response.status_code == 403
    assert _reload(order.id).fulfilment_status == "unfulfilled"


# ---------------------------------------------------------------- delete


def test_admin_deletes_a_pending_order_without_payments_via_htmx(auth, client, make):
    auth.login_as("admin")
    product = make.product(stock=3)
    order = make.order(products=[product])
    token = csrf(client)
    response = client.delete(f"/admin/orders/{order.id}", data={"confirm": "y"}, headers={**HX, "X-CSRFToken": token})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/admin/orders"
    assert _reload(order.id) is None
    db.session.refresh(product)
    assert product.stock == 3  # restocked
    assert db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "delete")).entity_id == order.id


def test_delete_needs_the_confirmation_box(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.post(f"/admin/orders/{order.id}/delete", data={"csrf_token": token})
    assert response.status_code == 422
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    assert _reload(order.id) is not None


def test_an_order_with_a_payment_cannot_be_deleted(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    apply_gateway_payment(make.payment_entity(order, status="failed"), actor=Actor.gateway())
    token = csrf(client)
    assert _reload(order.id).status == OrderStatus.FAILED  # the failed payment moved it: put it back
    change_status(order.id, "pending", actor=Actor.system(), reason="customer retries")
    response = client.post(f"/admin/orders/{order.id}/delete", data={"confirm": "y", "csrf_token": token})
    assert response.status_code == 409
    assert "has payments" in response.get_data(as_text=True)
    assert _reload(order.id) is not None


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_delete_is_admin_only(auth, client, make, role):
    auth.login_as(role)
    order = make.order()
    token = csrf(client)
    response = client.delete(f"/admin/orders/{order.id}", data={"confirm": "y"}, headers={"X-CSRFToken": token})
    assert response.status_code == 403
    assert _reload(order.id) is not None


# ---------------------------------------------------------------- bulk


def test_bulk_cancel_of_ticked_rows_reports_what_changed_and_what_was_skipped(auth, client, make):
    auth.login_as("admin")
    first, second = make.order(), make.order()
    paid, _ = make.paid_order()
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={
            "action": "cancel",
            "scope": "selected",
            "reason": "test clean-up",
            "ids": [first.id, second.id, paid.id],
            "filter": "status=pending",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/orders?status=pending")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cancelled 2 order(s); skipped 1" in page and paid.number in page
    assert _reload(first.id).status == _reload(second.id).status == OrderStatus.CANCELLED
    assert _reload(paid.id).status == OrderStatus.PAID


def test_bulk_cancel_on_the_whole_filter_touches_only_pending_orders_it_matches(auth, client, make):
    auth.login_as("admin")
    buyer = make.customer()
    mine = [make.order(customer_user=buyer) for _ in range(3)]
    other = make.order()
    token = csrf(client)
    client.post(
        "/admin/orders/bulk",
        data={
            "action": "cancel",
            "scope": "filter",
            "reason": "fraud",
            "filter": f"customer={buyer.email}",
            "csrf_token": token,
        },
    )
    assert {_reload(o.id).status for o in mine} == {OrderStatus.CANCELLED}
    assert _reload(other.id).status == OrderStatus.PENDING


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_bulk_cancel_is_admin_only(auth, client, make, role):
    auth.login_as(role)
    order = make.order()
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "cancel", "scope": "selected", "reason": "x", "ids": [order.id], "csrf_token": token},
    )
    assert response.status_code == 403
    assert _reload(order.id).status == OrderStatus.PENDING


def test_bulk_cancel_needs_a_reason(auth, client, make):
    auth.login_as("admin")
    order = make.order()
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "cancel", "scope": "selected", "ids": [order.id], "csrf_token": token},
        follow_redirects=True,
    )
    assert "Give a reason for cancelling" in response.get_data(as_text=True)
    assert _reload(order.id).status == OrderStatus.PENDING


def test_bulk_export_of_ticked_rows_is_a_csv_of_exactly_those(auth, client, make):
    auth.login_as("viewer")
    wanted, unwanted = make.order(), make.order()
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "export", "scope": "selected", "ids": [wanted.id], "csrf_token": token},
    )
    assert response.mimetype == "text/csv"
    assert [r["number"] for r in _csv(response)] == [wanted.number]
    assert unwanted.number not in response.get_data(as_text=True)


def test_bulk_export_of_the_filter_redirects_to_the_lists_csv(auth, client, make):
    auth.login_as("viewer")
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "export", "scope": "filter", "filter": "status=paid&after=abc", "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/orders?status=paid&format=csv"


# ---------------------------------------------------------------- sync from gateway


@pytest.mark.parametrize("role", ["viewer"])
def test_sync_needs_finance(auth, client, make, role):
    auth.login_as(role)
    order = make.order()
    token = csrf(client)
    assert client.post(f"/admin/orders/{order.id}/sync", data={"csrf_token": token}).status_code == 403


# ---------------------------------------------------------------- statements per page (no N+1)


def _statements(client, path: str) -> int:
    client.get(path)  # warm-up: first-request work (e.g. loading the user) is not what we measure
    with count_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(statements)


def test_the_list_issues_the_same_few_statements_for_3_or_40_orders(auth, client, make):
    auth.login_as("viewer")
    product = make.product()
    for _ in range(3):
        make.paid_order(products=[product])
    few = _statements(client, "/admin/orders")
    for _ in range(37):
        make.order(products=[product])
    many = _statements(client, "/admin/orders")
    assert few == many
    assert many <= 4  # user, list page, tab counts, product choices


def test_the_detail_page_issues_a_bounded_number_of_statements(auth, client, make):
    auth.login_as("viewer")
    product = make.product()
    one_payment, _ = make.paid_order(products=[product])
    few = _statements(client, f"/admin/orders/{one_payment.id}")
    several = make.order(products=[product, make.product(), make.product()])
    for status in ("failed", "failed", "failed"):
        apply_gateway_payment(make.payment_entity(several, status=status), actor=Actor.gateway())
    many = _statements(client, f"/admin/orders/{several.id}")
    assert few == many
    assert many <= 10


def _without_invoice(order):
    from sqlalchemy import delete

    from portal.invoices.models import Invoice

    db.session.execute(delete(Invoice).where(Invoice.order_id == order.id))
    db.session.commit()
    return order


def _invoice_of(order_id: int):
    from portal.invoices.models import Invoice

    db.session.expire_all()
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order_id))


def test_finance_issues_missing_invoices_in_bulk_and_skips_what_cannot_be_invoiced(auth, client, make):
    auth.login_as("finance")
    missing = _without_invoice(make.paid_order()[0])
    pending = make.order()
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "invoice", "scope": "selected", "ids": [missing.id, pending.id], "csrf_token": token},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Invoiced 1 order(s); skipped 1" in html and pending.number in html
    assert _invoice_of(missing.id) is not None and _invoice_of(missing.id).number
    assert _invoice_of(pending.id) is None


def test_bulk_invoice_on_the_filter_picks_only_orders_without_one(auth, client, make):
    auth.login_as("admin")
    missing = _without_invoice(make.paid_order()[0])
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "invoice", "scope": "filter", "filter": "status=paid", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Invoiced 1 order(s)." in response.get_data(as_text=True)
    assert _invoice_of(missing.id) is not None


def test_viewer_cannot_issue_invoices_in_bulk(auth, client, make):
    auth.login_as("viewer")
    missing = _without_invoice(make.paid_order()[0])
    token = csrf(client)
    response = client.post(
        "/admin/orders/bulk",
        data={"action": "invoice", "scope": "selected", "ids": [missing.id], "csrf_token": token},
    )
    assert response.status_code == 403
    assert _invoice_of(missing.id) is None
