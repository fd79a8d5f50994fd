"""/admin/catalog through the real app: roles, forms in rupees and percent, options, the audit trail."""

from portal.catalog.models import Product
from portal.extensions import db
from portal.history.models import HistoryEvent
from tests.helpers import extract_csrf

FORM = {"sku": "CAM-1", "title": "Camera", "kind": "rental", "price": "1,250.00", "currency": "INR",
        "tax_rate": "12.5", "hsn_sac": "997319", "stock": "2", "deposit": "10000", "vendor_id": "",
        "description": "", "active": "y"}  # fmt: skip


def _admin(client, auth, make, role="admin"):
    auth.login(make.staff(role).email)
    return extract_csrf(
        client.get("/admin/catalog/new" if role == "admin" else "/admin/catalog").get_data(as_text=True)
    )


def test_an_admin_creates_a_product_typed_in_rupees_and_percent(client, auth, make):
    token = _admin(client, auth, make)
    response = client.post("/admin/catalog", data={**FORM, "csrf_token": token})
    assert response.status_code == 303
    product = Product.query.one()
    assert (product.price, product.tax_rate_bp, product.deposit, product.stock) == (125000, 1250, 1000000, 2)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Camera" in page and "Audit trail" in page and "₹1,250.00" in page


def test_an_unreadable_price_is_a_form_error_and_nothing_is_written(client, auth, make):
    token = _admin(client, auth, make)
    response = client.post("/admin/catalog", data={**FORM, "price": "12.345", "csrf_token": token})
    assert response.status_code == 422 and "is not an amount" in response.get_data(as_text=True)
    deposit = client.post("/admin/catalog", data={**FORM, "kind": "course", "csrf_token": token})
    assert deposit.status_code == 422 and "only rentals take a security deposit" in deposit.get_data(as_text=True)
    assert Product.query.count() == 0


def test_edit_deactivate_and_options_are_recorded_in_the_audit_trail(client, auth, make):
    token = _admin(client, auth, make)
    client.post("/admin/catalog", data={**FORM, "csrf_token": token})
    product = Product.query.one()
    base = f"/admin/catalog/{product.id}"
    assert client.post(base, data={**FORM, "price": "1,500", "csrf_token": token}).status_code == 303
    assert client.post(f"{base}/deactivate", data={"csrf_token": token, "reason": "damaged"}).status_code == 303
    option = {"code": "lens", "label": "Extra lens", "price": "300", "pricing": "per_unit", "csrf_token": token}
    assert client.post(f"{base}/options", data=option).status_code == 303
    duplicate = client.post(f"{base}/options", data=option)
    assert duplicate.status_code == 422 and "already has an option" in duplicate.get_data(as_text=True)
    db.session.expire_all()
    product = db.session.get(Product, product.id)
    assert (product.price, product.active, [o.price for o in product.options]) == (150000, False, [30000])
    actions = [e.action for e in HistoryEvent.query.filter_by(entity_type="product").order_by(HistoryEvent.id)]
    assert actions == ["create", "update", "deactivate", "update"]


def test_viewers_read_the_catalogue_but_may_not_change_it_and_vendors_may_not_open_it(client, auth, make):
    product = make.product(title="Readable")
    token = _admin(client, auth, make, "viewer")
    assert "Readable" in client.get("/admin/catalog?q=read").get_data(as_text=True)
    assert "Save product" not in client.get(f"/admin/catalog/{product.id}").get_data(as_text=True)
    assert client.post("/admin/catalog", data={**FORM, "csrf_token": token}).status_code == 403
    assert client.get("/admin/catalog/new").status_code == 403


def test_the_list_filters_by_kind_vendor_and_status(client, auth, make):
    make.product(title="Course one")
    make.product(title="Old good", kind="good", stock=1, active=False)
    _admin(client, auth, make, "viewer")
    goods = client.get("/admin/catalog?kind=good&active=no").get_data(as_text=True)
    assert "Old good" in goods and "Course one" not in goods
    house = client.get("/admin/catalog?vendor=house&active=yes").get_data(as_text=True)
    assert "Course one" in house and "Old good" not in house
    assert client.get("/admin/catalog?kind=bogus&vendor=x&page=-4").status_code == 200  # lenient, never a 500
