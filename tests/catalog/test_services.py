import pytest

from portal.catalog.models import Product, ProductKind
from portal.catalog.services import (
    ProductError,
    create_product,
    remove_option,
    save_option,
    set_product_active,
    update_product,
)
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.vendors.services import create_vendor


def events(product):
    return HistoryEvent.query.filter_by(entity_type="product", entity_id=product.id).order_by(HistoryEvent.id).all()


def test_a_rental_is_created_with_its_vendor_deposit_and_an_audit_row(actor):
    vendor = create_vendor(name="Lens Hire", actor=actor)
    product = create_product(
        sku="CAM-1", title="Camera", kind=ProductKind.RENTAL, price=50000, stock=2, deposit=1000000,
        vendor_id=vendor.id, hsn_sac="997319", actor=actor,
    )  # fmt: skip
    assert (product.vendor.name, product.deposit, product.tax_rate_bp) == ("Lens Hire", 1000000, 1800)
    assert events(product)[0].changes["price"] == [None, 50000]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sku": "a b"}, "sku"),
        ({"price": -1}, "price"),
        ({"kind": "physical"}, "kind"),
        ({"tax_rate_bp": 10001}, "tax_rate_bp"),
        ({"hsn_sac": "12"}, "hsn_sac"),
        ({"deposit": 100}, "deposit"),  # a course takes no deposit
        ({"kind": "rental", "stock": None}, "stock"),
        ({"vendor_id": 999}, "vendor_id"),
    ],
)
def test_a_wrong_field_is_refused_and_nothing_is_written(actor, fields, field):
    with pytest.raises(ProductError) as refused:
        create_product(**{"sku": "S-1", "title": "T", "price": 100, **fields}, actor=actor)
    assert field in refused.value.errors
    assert Product.query.count() == 0


def test_skus_are_unique_whatever_their_case(actor):
    create_product(sku="S-1", title="T", price=100, actor=actor)
    with pytest.raises(ProductError, match="SKU"):
        create_product(sku="s-1", title="T", price=100, actor=actor)


def test_an_update_and_a_deactivation_are_recorded_with_their_changes(actor):
    product = create_product(sku="S-1", title="T", price=100, actor=actor)
    update_product(product.id, price=250, stock=5, actor=actor)
    set_product_active(product.id, False, actor=actor)
    history = events(product)
    assert history[1].changes == {"price": [100, 250], "stock": [None, 5]}
    assert history[2].action == "deactivate"


def test_options_are_added_changed_and_removed_with_unique_codes(actor):
    product = create_product(sku="S-1", title="T", price=100, actor=actor)
    option = save_option(product.id, {"code": "gift", "label": "Gift wrap", "price": 5000}, actor=actor)
    with pytest.raises(ProductError):
        save_option(product.id, {"code": "gift", "label": "Again"}, actor=actor)
    save_option(product.id, {"code": "gift", "label": "Gift box", "price": 6000, "pricing": "per_line"},
                actor=actor, option_id=option.id)  # fmt: skip
    assert [(o.label, o.price, o.pricing) for o in db.session.get(Product, product.id).options] == [
        ("Gift box", 6000, "per_line")
    ]
    remove_option(product.id, option.id, actor=actor)
    assert db.session.get(Product, product.id).options == []
    assert len(events(product)) == 4
