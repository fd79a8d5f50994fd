"""/admin/checkouts: the list (tabs incl. abandoned, search, dates, CSV, HTMX partial) and one checkout's page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.auth.services import upsert_user
from portal.extensions import db
from portal.timeutil import utcnow
from tests.factories import PASSWORD

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(make):
    """Five checkouts: paid (two vendor orders), pending, failed, expired, cancelled."""
    first, second = make.vendor(name="Loom & Co"), make.vendor(name="Trail Rentals")
    buyer = make.customer(email="asha@example.test")
    orders = [make.order(customer_user=buyer), make.order(customer_user=buyer)]
    orders[0].vendor_id, orders[1].vendor_id = first.id, second.id
    paid = make.checkout(customer_user=buyer, status="paid", orders=orders)
    return {
        "paid": paid,
        "orders": orders,
        "pending": make.checkout(),
        "failed": make.checkout(status="failed"),
        "expired": make.checkout(status="expired"),
        "cancelled": make.checkout(status="cancelled"),
    }


def rows(client, query: str = "") -> str:
    response = client.get("/admin/checkouts" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_viewer_sees_every_checkout_with_the_orders_it_became(auth, client, shop):
    auth.login_as("viewer")
    page = rows(client)
    for name in ("paid", "pending", "failed", "expired", "cancelled"):
        assert shop[name].number in page
    assert shop["orders"][0].number in page and "Loom &amp; Co" in page and "Trail Rentals" in page


def test_the_abandoned_tab_shows_expired_and_cancelled_checkouts_only(auth, client, shop):
    auth.login_as("viewer")
    page = rows(client, "?status=abandoned")
    assert shop["expired"].number in page and shop["cancelled"].number in page
    assert shop["paid"].number not in page and shop["pending"].number not in page
    assert "2 checkout(s) match." in page


@pytest.mark.parametrize("tab", ["paid", "pending", "failed"])
def test_each_status_tab_shows_only_its_status(auth, client, shop, tab):
    auth.login_as("viewer")
    page = rows(client, f"?status={tab}")
    assert shop[tab].number in page
    assert all(shop[other].number not in page for other in ("paid", "pending", "failed") if other != tab)


def test_search_finds_a_checkout_by_number_and_by_the_customers_email(auth, client, shop):
    auth.login_as("viewer")
    by_number = rows(client, f"?q={shop['pending'].number.lower()}")
    assert shop["pending"].number in by_number and shop["paid"].number not in by_number
    by_email = rows(client, "?q=asha@")
    assert shop["paid"].number in by_email and shop["pending"].number not in by_email


def test_the_date_filter_keeps_checkouts_of_those_days(auth, client, shop):
    shop["failed"].created_at = utcnow() - timedelta(days=10)
    db.session.commit()
    auth.login_as("viewer")
    today = utcnow().date()
    page = rows(client, f"?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")
    assert shop["paid"].number in page and shop["failed"].number not in page


def test_a_bad_filter_is_a_field_error_not_a_500(auth, client, shop):
    auth.login_as("viewer")
    page = rows(client, "?status=bogus&from=31-12-2026")
    assert "Use a date like 2026-01-31." in page
    assert client.get("/admin/checkouts?from=nope&format=csv").status_code == 422


def test_the_csv_export_has_what_the_filter_shows(auth, client, shop):
    auth.login_as("viewer")
    response = client.get("/admin/checkouts?status=paid&format=csv")
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("id,number,created_at,status,customer_email")
    assert len(lines) == 2 and shop["paid"].number in lines[1]
    assert " ".join(o.number for o in shop["orders"]) in lines[1]


def test_an_htmx_request_gets_only_the_results_partial(auth, client, shop):
    auth.login_as("viewer")
    response = client.get("/admin/checkouts?status=abandoned", headers=HX)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="checkout-results"') and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_the_detail_shows_lines_reservations_orders_and_the_timeline(auth, client, shop):
    auth.login_as("viewer")
    paid = shop["paid"]
    page = client.get(f"/admin/checkouts/{paid.id}").get_data(as_text=True)
    assert paid.number in page and paid.reservations[0].product.title in page
    assert all(o.number in page for o in shop["orders"])
    assert 'id="timeline"' in page and "pending → paid" in page


def test_the_detail_of_an_abandoned_checkout_says_no_orders_exist(auth, client, shop):
    auth.login_as("viewer")
    page = client.get(f"/admin/checkouts/{shop['expired'].id}").get_data(as_text=True)
    assert "No orders: orders exist only once the payment is verified." in page


def test_an_unknown_checkout_answers_404(auth, client):
    auth.login_as("viewer")
    assert client.get("/admin/checkouts/999999").status_code == 404


def test_a_vendor_user_is_refused_the_checkouts_pages(client, auth, make, shop):
    vendor = shop["orders"][0].vendor_id
    upsert_user("seller@vendor.test", PASSWORD, Role.VENDOR, vendor_id=vendor)
    auth.login("seller@vendor.test")
    assert client.get("/admin/checkouts").status_code == 403
    assert client.get(f"/admin/checkouts/{shop['paid'].id}").status_code == 403


def test_signed_out_visitors_are_sent_to_the_login_page(client, shop):
    response = client.get("/admin/checkouts")
    assert response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")


def test_a_real_checkouts_page_shows_its_priced_lines_with_rental_dates_and_deposit(auth, client, sandbox):
    from datetime import date

    from portal.cart.checkout import start_checkout
    from portal.cart.services import add_line
    from tests.marketplace_fixtures import two_vendor_shop

    shop = two_vendor_shop()
    start = date.today() + timedelta(days=4)
    add_line(shop.customer, shop.scarf.id, 1)
    add_line(shop.customer, shop.tent.id, 1, rental_start=start, rental_end=start + timedelta(days=1))
    made, _ = start_checkout(shop.customer, idempotency_key="admin-detail")
    auth.login_as("viewer")
    page = client.get(f"/admin/checkouts/{made.id}").get_data(as_text=True)
    assert "Silk scarf" in page and "Two-person tent" in page and "Loom &amp; Co" in page
    assert f"{start} → {start + timedelta(days=1)}" in page and "₹3,000.00" in page  # the tent's deposit
    reservations = page.split('id="checkout-reservations"')[1].split("</table>")[0]
    assert reservations.count(">held<") == 2 and made.gateway_order_id in page
