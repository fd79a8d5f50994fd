"""The search box of every money list (orders, payments, refunds, invoices): the same shapes, found the same
way — customer name, amount typed in rupees, invoice number, order number, email, gateway ids — and
numbers too large for the database's INTEGER match nothing instead of raising (a 500 on PostgreSQL)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.orders.pricing import quote
from portal.payments.services import apply_gateway_payment
from portal.refunds.services import create_refund
from portal.search import classify
from tests import factories

LISTS = ("orders", "payments", "refunds", "invoices")


def _paid_at_sandbox(sandbox, customer, price: int):
    """(order, payment) of `customer`, paid at the sandbox's hosted checkout (so that refunds go through)."""
    product = factories.product(price=price)
    items = [{"product_id": product.id, "quantity": 1}]
    gateway_order = get_gateway().create_order(amount=quote(items).total, currency="INR", receipt="t", notes={})
    factories.order(customer_user=customer, products=[product], gateway_order_id=gateway_order["id"])
    answer = sandbox.pay(gateway_order["id"], outcome="success")
    outcome = apply_gateway_payment(get_gateway().fetch_payment(answer["razorpay_payment_id"]), actor=Actor.gateway())
    return outcome.order, outcome.payment


@pytest.fixture
def sale(make, sandbox):
    """Asha's paid order of ₹1,768.82 (₹1,499.00 + 18% GST), invoiced, with a ₹250.00 refund; and another
    customer's sale that no search below should find."""
    asha = make.customer(email="asha.verma@example.test", name="Asha Verma")
    order, payment = _paid_at_sandbox(sandbox, asha, 149900)
    refund = create_refund(payment.id, amount=25000, reason="goodwill", actor=Actor.system("test"))
    other_order, other_payment = _paid_at_sandbox(sandbox, make.customer(name="Ravi Kumar"), 100000)
    other_refund = create_refund(other_payment.id, amount=1000, reason="goodwill", actor=Actor.system("test"))
    assert order.total == 176882 and order.invoice is not None and refund.gateway_refund_id
    mine = {"orders": order.number, "payments": payment.gateway_payment_id, "refunds": f"refund-row-{refund.id}",
            "invoices": order.invoice.number}  # fmt: skip
    theirs = {"orders": other_order.number, "payments": other_payment.gateway_payment_id,
              "refunds": f"refund-row-{other_refund.id}", "invoices": other_order.invoice.number}  # fmt: skip
    return SimpleNamespace(order=order, payment=payment, refund=refund, mine=mine, theirs=theirs)


def _search(client, name: str, q: str) -> str:
    response = client.get(f"/admin/{name}", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _queries(sale) -> dict[str, str]:
    return {
        "name": "asha",
        "full name, other case": "ASHA VERMA",
        "email": "Asha.Verma@example.test",
        "email prefix": "asha.ver",
        "order number": sale.order.number.lower(),
        "invoice number": sale.order.invoice.number.lower(),
        "payment id": sale.payment.gateway_payment_id,
        "gateway order id": sale.order.gateway_order_id,
        "refund id": sale.refund.gateway_refund_id,
    }


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    "kind",
    ["name", "full name, other case", "email", "email prefix", "order number", "invoice number", "payment id",
     "gateway order id", "refund id"],
)  # fmt: skip
def test_every_list_finds_the_sale_by_each_kind_of_identifier(auth, client, sale, name, kind):
    auth.login_as("viewer")
    html = _search(client, name, _queries(sale)[kind])
    assert sale.mine[name] in html
    assert sale.theirs[name] not in html


@pytest.mark.parametrize("name", ["orders", "payments", "invoices"])
@pytest.mark.parametrize("typed", ["1768.82", "1,768.82", "₹1768.82", "₹ 1,768.82"])
def test_an_amount_typed_in_rupees_finds_the_total_exactly(auth, client, sale, name, typed):
    auth.login_as("viewer")
    html = _search(client, name, typed)
    assert sale.mine[name] in html and sale.theirs[name] not in html
    assert sale.mine[name] not in _search(client, name, "1768.83")


@pytest.mark.parametrize("typed", ["250", "250.00", "₹250", "₹250.00"])
def test_the_refunds_list_finds_a_refund_by_its_amount(auth, client, sale, typed):
    auth.login_as("viewer")
    html = _search(client, "refunds", typed)
    assert sale.mine["refunds"] in html and sale.theirs["refunds"] not in html


@pytest.mark.parametrize("name", [*LISTS, "webhooks"])
@pytest.mark.parametrize("q", ["2147483648", "99999999999999999999", "21474836.48", "₹99,99,99,999.00"])
def test_numbers_too_large_for_the_database_match_nothing_instead_of_failing(auth, client, sale, name, q):
    auth.login_as("viewer")
    html = _search(client, name, q)
    if name != "webhooks":
        assert sale.mine[name] not in html


def test_a_row_id_is_still_found_by_its_digits(auth, client, sale):
    auth.login_as("viewer")
    assert sale.mine["refunds"] in _search(client, "refunds", str(sale.refund.id))
    assert sale.mine["orders"] in _search(client, "orders", str(sale.order.id))


@pytest.mark.parametrize(
    ("typed", "kind", "amount"),
    [("1768.82", "amount", 176882), ("1,768.82", "amount", 176882), ("₹1768.82", "amount", 176882),
     ("Rs. 1,768.8", "amount", 176880), ("1768", "number", 176800), ("INV/26-27/00042", "document_number", None),
     ("cn/26-27/00003", "document_number", None), ("ord-k7q2m9xa", "order_number", None),
     ("pay_ABC", "gateway", None), ("a@b.test", "email", None), ("Asha  Verma", "text", None),
     ("2147483648", "nothing", None), ("12,34,5.6.7", "text", None)],
)  # fmt: skip
def test_the_text_is_classified_once_by_its_shape(typed, kind, amount):
    term = classify(typed)
    assert term.kind == kind
    assert term.amount == amount


def test_free_text_is_a_contains_match_on_the_name_and_email_that_trigram_indexes_serve():
    from portal.orders.queries import search_clause

    sql = str(search_clause("verma").compile(compile_kwargs={"literal_binds": True}))
    assert "lower(orders.billing_name) LIKE '%verma%'" in sql and "orders.billing_email LIKE '%verma%'" in sql
    assert "billing_email" not in str(search_clause("asha verma"))  # no address holds a space
    short = str(search_clause("as").compile(compile_kwargs={"literal_binds": True}))
    assert "'as%'" in short  # under three characters there is no trigram: a prefix, which a btree serves


@pytest.mark.parametrize("name", ["orders", "payments", "refunds", "invoices"])
@pytest.mark.parametrize("typed", ["verma", "VERMA", "a.verma@exa", "erma@example"])
def test_a_surname_or_a_piece_of_the_email_finds_the_sale(auth, client, sale, name, typed):
    auth.login_as("viewer")
    html = _search(client, name, typed)
    assert sale.mine[name] in html and sale.theirs[name] not in html


def test_a_piece_of_an_invoice_number_finds_the_invoice(auth, client, sale):
    auth.login_as("viewer")
    number = sale.order.invoice.number  # INV/26-27/00001
    for part in (number.split("/", 1)[1][:-1], number.rsplit("/", 1)[0].lower()):  # 26-27/0000, inv/26-27
        assert number in _search(client, "invoices", part), part


@pytest.mark.parametrize("name", LISTS)
def test_the_global_search_entry_point_finds_the_same_rows_as_the_lists(sale, name):
    from portal.search import find

    rows = find("verma", name)
    expected = {"orders": sale.order, "payments": sale.payment, "refunds": sale.refund,
                "invoices": sale.order.invoice}[name]  # fmt: skip
    assert [r.id for r in rows] == [expected.id]
    assert find("kumar", name) and find("nobody-like-this", name) == []


def test_under_a_common_search_the_tabs_say_more_than_the_cap_instead_of_reading_each_tab(make):
    from werkzeug.datastructures import MultiDict

    from portal.listing import searched
    from portal.orders import queries
    from portal.orders.models import Order

    customer = make.customer(name="Meera Nair")
    for _ in range(5):
        make.order(customer_user=customer)
    args = queries.parse_order_args(MultiDict({"q": "nair", "status": "pending"}))
    searched(args, Order, Order.status, [], "orders", cap=3)  # the probe this request keeps, with a cap of 3
    counts = queries.tab_counts(args)
    assert counts[""] == 4 and counts["pending"] == 4  # "more than 3": All, and this tab counted alone
    assert counts["paid"] is None  # the other tabs are not read
    assert len(queries.list_page(args).rows) == 5
    few = queries.parse_order_args(MultiDict({"q": "nair"}))
    assert queries.tab_counts(few) == {"": 5, **dict.fromkeys(queries.STATUSES, 0), "pending": 5}


def test_create_all_on_a_new_postgres_database_makes_pg_trgm_first(postgres):
    """Benchmarks and tests build schemas with create_all: the trigram indexes need the extension, which
    create_all itself must make (a new database has none)."""
    from sqlalchemy import create_engine, text

    url = db.engine.url
    fresh = url.set(database=f"{url.database}_fresh_schema")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh.database}"'))
        conn.execute(text(f'CREATE DATABASE "{fresh.database}"'))
    engine = create_engine(fresh)
    try:
        db.metadata.create_all(engine)
        with engine.connect() as conn:
            names = conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%trgm'")).scalars()
            assert "ix_orders_billing_name_trgm" in set(names)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{fresh.database}"'))
        admin.dispose()
