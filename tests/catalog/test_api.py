"""GET /api/v1/catalog through the real app, with a customer's bearer token."""

from datetime import timedelta

from portal.catalog.models import ProductKind
from portal.catalog.services import save_option
from portal.extensions import db
from portal.history.services import Actor
from portal.stock.models import Reservation, ReservationStatus
from portal.timeutil import utcnow
from portal.vendors.services import create_vendor, set_vendor_active
from tests.api.conftest import ApiClient

SYSTEM = Actor.system("test")


def _hold(product, quantity, *, minutes=30, status=ReservationStatus.HELD):
    db.session.add(Reservation(product_id=product.id, quantity=quantity, status=status,
                               expires_at=utcnow() + timedelta(minutes=minutes)))  # fmt: skip
    db.session.commit()


def test_the_catalogue_lists_purchasable_products_with_vendor_availability_and_options(client, make):
    lens = create_vendor(name="Lens Hire", actor=SYSTEM)
    camera = make.product(kind=ProductKind.RENTAL, price=125000, stock=2, deposit=1000000, vendor_id=lens.id,
                          title="A camera")  # fmt: skip
    tripod = make.product(kind=ProductKind.GOOD, price=5000, stock=10, title="B tripod")
    make.product(title="C course")
    save_option(camera.id, {"code": "lens", "label": "Extra lens", "price": 30000}, actor=SYSTEM)
    _hold(tripod, 3)
    _hold(tripod, 4, minutes=-1)  # lapsed: no longer held
    _hold(camera, 1)  # a rental's availability depends on dates: the units owned are shown
    response = ApiClient(client, make.customer()).get("/api/v1/catalog")
    assert response.status_code == 200
    body = response.get_json()
    listed = {p["sku"]: p for p in body["data"]}
    assert [p["title"] for p in body["data"]] == ["A camera", "B tripod", "C course"]
    assert listed[camera.sku]["vendor"] == {"id": lens.id, "name": "Lens Hire"}
    assert listed[camera.sku]["options"] == [{"code": "lens", "label": "Extra lens", "price": 30000,
                                              "pricing": "per_unit"}]  # fmt: skip
    assert (listed[camera.sku]["available"], listed[camera.sku]["deposit"]) == (2, 1000000)
    assert listed[tripod.sku]["available"] == 7 and listed[tripod.sku]["vendor"] is None
    assert body["data"][2]["available"] is None  # a course: unlimited
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 3, "pages": 1}


def test_inactive_products_and_products_of_inactive_vendors_are_not_listed(client, make):
    gone = create_vendor(name="Gone", actor=SYSTEM)
    make.product(vendor_id=gone.id)
    make.product(active=False)
    set_vendor_active(gone.id, False, actor=SYSTEM)
    body = ApiClient(client, make.customer()).get("/api/v1/catalog").get_json()
    assert body["data"] == [] and body["meta"]["total"] == 0


def test_pages_are_bounded_and_bad_paging_is_a_422(client, make):
    for _ in range(3):
        make.product()
    api = ApiClient(client, make.customer())
    page = api.get("/api/v1/catalog?per_page=2&page=2").get_json()
    assert len(page["data"]) == 1 and page["meta"]["pages"] == 2
    refused = api.get("/api/v1/catalog?per_page=101")
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "validation_failed"


def test_the_catalogue_needs_a_token_and_is_in_the_openapi_description(client):
    assert client.get("/api/v1/catalog").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/catalog" in spec["paths"]
