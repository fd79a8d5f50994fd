"""/admin/vendors through the real app: roles, forms, CSRF, the logo, a vendor's own page."""

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.vendors.models import Vendor
from tests.helpers import extract_csrf

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _signed_in(client, auth, make, role="admin"):
    user = make.staff(role)
    auth.login(user.email)
    return user


def _token(client, path="/admin/vendors/new"):
    return extract_csrf(client.get(path).get_data(as_text=True))


def test_an_admin_creates_a_vendor_through_the_form_and_it_is_audited(client, auth, make):
    _signed_in(client, auth, make)
    form = {"csrf_token": _token(client), "name": "Lens Hire", "legal_name": "Lens Hire LLP",
            "gstin": "27AAPFU0939F1ZV", "state": "Maharashtra", "invoice_prefix": "LH",
            "brand_colour": "#1a7f5a"}  # fmt: skip
    response = client.post("/admin/vendors", data=form)
    assert response.status_code == 303
    vendor = Vendor.query.one()
    assert (vendor.invoice_prefix, vendor.auto_approve) == ("LH", False)  # an unticked box is off
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lens Hire LLP" in page and "Audit trail" in page
    assert HistoryEvent.query.filter_by(entity_type="vendor", action="create").count() == 1


def test_a_bad_gstin_is_a_form_error_and_nothing_is_written(client, auth, make):
    _signed_in(client, auth, make)
    form = {"csrf_token": _token(client), "name": "Lens Hire", "gstin": "27AAPFU0939F1ZX", "state": "Maharashtra"}
    response = client.post("/admin/vendors", data=form)
    assert response.status_code == 422
    assert "check digit" in response.get_data(as_text=True)
    assert Vendor.query.count() == 0


def test_a_post_without_the_csrf_token_is_refused(client, auth, make):
    _signed_in(client, auth, make)
    response = client.post("/admin/vendors", data={"name": "Lens Hire"})
    assert response.status_code in (400, 422)
    assert Vendor.query.count() == 0


def test_a_viewer_reads_but_may_not_change(client, auth, make):
    from portal.history.services import Actor
    from portal.vendors.services import create_vendor

    vendor = create_vendor(name="Lens Hire", actor=Actor.system())
    _signed_in(client, auth, make, "viewer")
    assert client.get("/admin/vendors").status_code == 200
    page = client.get(f"/admin/vendors/{vendor.id}").get_data(as_text=True)
    assert "Lens Hire" in page and "Save vendor" not in page
    token = extract_csrf(page)
    assert client.post(f"/admin/vendors/{vendor.id}", data={"csrf_token": token, "name": "X"}).status_code == 403
    assert client.get("/admin/vendors/new").status_code == 403


def test_a_logo_is_sniffed_stored_and_served_with_its_real_type(client, auth, make):
    from io import BytesIO

    from portal.history.services import Actor
    from portal.vendors.services import create_vendor

    vendor = create_vendor(name="Lens Hire", actor=Actor.system())
    _signed_in(client, auth, make)
    token = _token(client, f"/admin/vendors/{vendor.id}")
    fake = client.post(f"/admin/vendors/{vendor.id}/logo", data={"csrf_token": token,
                       "logo": (BytesIO(b"<svg onload=alert(1)>"), "logo.png", "image/png")})  # fmt: skip
    assert fake.status_code == 422 and "PNG or JPEG" in fake.get_data(as_text=True)
    ok = client.post(f"/admin/vendors/{vendor.id}/logo",
                     data={"csrf_token": token, "logo": (BytesIO(PNG), "logo.png")})  # fmt: skip
    assert ok.status_code == 303
    served = client.get(f"/admin/vendors/{vendor.id}/logo")
    assert served.data == PNG and served.headers["Content-Type"] == "image/png"
    assert db.session.get(Vendor, vendor.id).logo_type == "image/png"
