"""A vendor's staff see their own vendor's orders, payments, refunds and invoices only (STYLE rule 19).

Every GET route of the url_map is walked as two vendor users, each with its own paid, invoiced and refunded
order: no page shows the other's (or the house's) order numbers, and the other's objects answer 404 — or 403
in the areas closed to vendors.
"""

import re

import pytest
from sqlalchemy import select

from portal.history.services import Actor
from portal.invoices.models import CreditNote
from portal.orders.services import place_order
from portal.payments.services import apply_gateway_payment
from portal.refunds.settlement import apply_gateway_refund
from portal.vendors.services import create_vendor
from tests.helpers import extract_csrf

# The sandbox (/sandbox, /v1) emulates Razorpay for development and is absent in production; the customer API
# and the signed customer links have their own (customer) authentication.
OUTSIDE_THE_PORTAL = re.compile(r"^/(sandbox|v1|api|notifications|static|payments/razorpay)(/|$)")


class Seller:
    """A vendor with a staff user and one paid, invoiced, partly refunded order (its credit note too)."""

    def __init__(self, make, db, name: str, prefix: str):
        self.vendor = create_vendor(name=name, invoice_prefix=prefix, actor=Actor.system("test"))
        self.user = make.staff("viewer", email=f"desk@{prefix.lower()}.test")
        self.user.role, self.user.vendor_id = "vendor", self.vendor.id
        db.session.commit()
        self.product = make.product(vendor_id=self.vendor.id)
        self.order = _paid_order(make, self.product, self.vendor.id)
        self.payment = self.order.payments[0]
        self.refund = apply_gateway_refund(
            {"id": f"rfnd_{prefix}{self.payment.id:010d}", "entity": "refund", "amount": 1000, "currency": "INR",
             "payment_id": self.payment.gateway_payment_id, "status": "processed"},
            actor=Actor.gateway(),
        )  # fmt: skip
        self.invoice = self.order.invoice
        self.note = db.session.scalar(select(CreditNote).where(CreditNote.invoice_id == self.invoice.id))
        self.number = self.order.number

    def ids(self) -> dict:
        return {"order_id": self.order.id, "payment_id": self.payment.id, "refund_id": self.refund.id,
                "invoice_id": self.invoice.id, "note_id": self.note.id, "vendor_id": self.vendor.id,
                "product_id": self.product.id}  # fmt: skip


def _paid_order(make, product, vendor_id):
    items = [{"product_id": product.id, "quantity": 1}]
    order = place_order(make.customer(), items, gateway_order_id=f"order_S{product.id:013d}", vendor_id=vendor_id)
    return apply_gateway_payment(make.payment_entity(order), actor=Actor.gateway()).order


@pytest.fixture
def sellers(make, db, sandbox):
    first, second = Seller(make, db, "Lens Hire", "LH"), Seller(make, db, "Kannada Books", "KB")
    house = _paid_order(make, make.product(), None)
    return first, second, house


def _portal_get_rules(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not OUTSIDE_THE_PORTAL.match(rule.rule):
            yield rule


def _url(rule, ids: dict) -> str:
    values = {arg: ids.get(arg, 1) for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("who", [0, 1])
def test_every_portal_page_shows_a_vendor_only_its_own_orders(app, client, auth, sellers, who):
    me, other, house = sellers[who], sellers[1 - who], sellers[2]
    auth.login(me.user.email)
    foreign = {other.number, house.number, other.invoice.number, house.invoice.number, other.note.number}
    seen_own = False
    for rule in _portal_get_rules(app):
        if rule.endpoint in ("auth.login", "site.index", "site.favicon"):
            continue
        if rule.arguments:
            response = client.get(_url(rule, other.ids()))
            assert response.status_code in (403, 404), f"{rule.rule} showed the other vendor's object"
            response = client.get(_url(rule, me.ids()))
        else:
            response = client.get(rule.rule, follow_redirects=True)
        assert response.status_code in (200, 403, 404), f"{rule.rule}: {response.status_code}"
        body = response.get_data().decode("utf-8", "replace")  # PDFs and the logo too
        assert not [n for n in foreign if n in body], f"{rule.rule} shows another seller's document"
        seen_own = seen_own or me.number in body
    assert seen_own


@pytest.mark.parametrize(
    "path",
    ["/admin/orders?q={n}", "/admin/orders?format=csv", "/admin/payments?q={n}", "/admin/payments?format=csv",
     "/admin/refunds?q={n}", "/admin/refunds?format=csv", "/admin/invoices?q={n}", "/admin/invoices?format=csv",
     "/admin/orders?vendor={v}"],
)  # fmt: skip
def test_searches_and_csv_exports_are_scoped_too(client, auth, sellers, path):
    me, other, house = sellers
    auth.login(me.user.email)
    body = client.get(path.format(n=other.number, v=other.vendor.id)).get_data(as_text=True)
    if "q=" not in path:  # a search's own links and box repeat what was typed
        assert other.number not in body and house.number not in body
    for kind, key in (("orders", "order_id"), ("payments", "payment_id"), ("refunds", "refund_id"),
                      ("invoices", "invoice_id")):  # fmt: skip
        assert f'href="/admin/{kind}/{other.ids()[key]}"' not in body


def test_a_vendor_opens_its_own_objects_and_is_sent_home_from_the_dashboard(client, auth, sellers):
    me = sellers[0]
    auth.login(me.user.email)
    for path in (f"/admin/orders/{me.order.id}", f"/admin/payments/{me.payment.id}", f"/admin/refunds/{me.refund.id}",
                 f"/admin/invoices/{me.invoice.id}", f"/admin/invoices/{me.invoice.id}/download",
                 f"/admin/invoices/credit-notes/{me.note.id}/download"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    home = client.get("/admin/")
    assert home.status_code == 303 and home.headers["Location"].endswith(f"/admin/vendors/{me.vendor.id}")


def test_staff_see_every_seller_and_filter_orders_by_vendor(client, auth, make, sellers):
    first, second, house = sellers
    auth.login(make.staff("viewer").email)
    everything = client.get("/admin/orders").get_data(as_text=True)
    assert all(n in everything for n in (first.number, second.number, house.number))
    filtered = client.get(f"/admin/orders?vendor={first.vendor.id}").get_data(as_text=True)
    assert first.number in filtered and second.number not in filtered and house.number not in filtered


def test_staff_actions_stay_closed_to_a_vendor_and_another_vendors_object_is_not_found(client, auth, sellers):
    me, other, _house = sellers
    auth.login(me.user.email)
    token = extract_csrf(client.get(f"/admin/orders/{me.order.id}").get_data(as_text=True))
    own = client.post(f"/admin/orders/{me.order.id}/cancel", data={"csrf_token": token, "reason": "x"})
    assert own.status_code == 403
    assert client.post(f"/admin/payments/{me.payment.id}/sync", data={"csrf_token": token}).status_code == 403
    foreign = client.post(f"/admin/orders/{other.order.id}/cancel", data={"csrf_token": token, "reason": "x"})
    assert foreign.status_code == 404
    assert client.post("/admin/vendors", data={"csrf_token": token, "name": "Mine"}).status_code == 403
