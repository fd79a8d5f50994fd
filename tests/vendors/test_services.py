import pytest

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.vendors.models import Vendor
from portal.vendors.services import VendorError, create_vendor, set_logo, set_vendor_active, update_vendor
from portal.vendors.validation import gstin_check_digit

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def events(vendor):
    return HistoryEvent.query.filter_by(entity_type="vendor", entity_id=vendor.id).order_by(HistoryEvent.id).all()


def test_a_vendor_is_created_with_its_fields_and_an_audit_row(actor):
    vendor = create_vendor(
        name="Lens Hire", legal_name="Lens Hire LLP", gstin="27aapfu0939f1zv", state="Maharashtra",
        invoice_prefix="lh", brand_colour="#1A7F5A", auto_approve=False, actor=actor,
    )  # fmt: skip
    assert (vendor.gstin, vendor.invoice_prefix, vendor.brand_colour) == ("27AAPFU0939F1ZV", "LH", "#1a7f5a")
    assert vendor.auto_approve is False and vendor.active is True
    (event,) = events(vendor)
    assert event.action == "create" and event.changes["name"] == [None, "Lens Hire"]


def test_gstin_check_digit_follows_the_published_algorithm():
    assert gstin_check_digit("27AAPFU0939F1Z") == "V"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"gstin": "27AAPFU0939F1ZA", "state": "Maharashtra"}, "gstin"),  # wrong check digit
        ({"gstin": "27AAPFU0939F1ZV", "state": "Karnataka"}, "gstin"),  # registered in another state
        ({"state": "Atlantis"}, "state"),
        ({"invoice_prefix": "IN/V"}, "invoice_prefix"),
        ({"brand_colour": "green"}, "brand_colour"),
    ],
)
def test_a_wrong_field_is_refused_and_nothing_is_written(actor, fields, field):
    with pytest.raises(VendorError) as refused:
        create_vendor(**{"name": "V", **fields}, actor=actor)
    assert field in refused.value.errors
    assert Vendor.query.count() == 0


def test_names_and_invoice_prefixes_are_unique(actor):
    create_vendor(name="Alpha", invoice_prefix="AL", actor=actor)
    with pytest.raises(VendorError) as refused:
        create_vendor(name="alpha", invoice_prefix="al", actor=actor)
    assert set(refused.value.errors) == {"name", "invoice_prefix"}


def test_an_update_records_only_what_changed(actor):
    vendor = create_vendor(name="Alpha", actor=actor)
    update_vendor(vendor.id, legal_name="Alpha Pvt Ltd", name="Alpha", actor=actor)
    update_vendor(vendor.id, legal_name="Alpha Pvt Ltd", actor=actor)  # nothing new: no row
    assert [e.changes for e in events(vendor)][1:] == [{"legal_name": ["", "Alpha Pvt Ltd"]}]


def test_deactivation_is_recorded_once(actor):
    vendor = create_vendor(name="Alpha", actor=actor)
    set_vendor_active(vendor.id, False, actor=actor)
    set_vendor_active(vendor.id, False, actor=actor)
    assert [e.action for e in events(vendor)] == ["create", "deactivate"]
    assert db.session.get(Vendor, vendor.id).active is False


def test_a_logo_must_be_a_png_or_jpeg_by_its_bytes(actor):
    vendor = create_vendor(name="Alpha", actor=actor)
    with pytest.raises(VendorError):
        set_logo(vendor.id, b"GIF89a" + b"\0" * 10, actor=actor)
    with pytest.raises(VendorError):
        set_logo(vendor.id, PNG + b"\0" * 300_000, actor=actor)
    assert set_logo(vendor.id, PNG, actor=actor).logo_type == "image/png"
