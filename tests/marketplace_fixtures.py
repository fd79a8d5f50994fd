"""A small two-vendor shop for the storefront, callback and browser tests: the demo customer, two vendors
(one auto-approving, one approving by hand), a good with stock from each and a rental with a deposit."""

from __future__ import annotations

from dataclasses import dataclass

from portal.auth.models import Role
from portal.auth.services import upsert_user
from portal.catalog.models import Product, ProductKind
from portal.vendors.models import Vendor
from tests import factories


@dataclass
class TwoVendorShop:
    customer: object
    loom: Vendor  # auto-approves its orders
    trail: Vendor  # approves by hand: its orders wait awaiting_vendor
    scarf: Product
    lamp: Product
    tent: Product  # a rental of Trail's, with a deposit


def two_vendor_shop() -> TwoVendorShop:
    from portal.demo.seed import DEMO_CUSTOMER, DEMO_PASSWORD

    customer, _ = upsert_user(
        DEMO_CUSTOMER, DEMO_PASSWORD, Role.CUSTOMER, billing_state="Karnataka", billing_address="1 MG Road"
    )
    loom = factories.vendor(name="Loom & Co", state="Karnataka", invoice_prefix="LM", auto_approve=True)
    trail = factories.vendor(name="Trail Rentals", state="Maharashtra", invoice_prefix="TRL", auto_approve=False)
    scarf = factories.product(title="Silk scarf", price=120000, kind=ProductKind.GOOD, stock=5, vendor_id=loom.id)
    lamp = factories.product(title="Camp lamp", price=80000, kind=ProductKind.GOOD, stock=3, vendor_id=trail.id)
    tent = factories.product(
        title="Two-person tent", price=50000, kind=ProductKind.RENTAL, stock=1, deposit=300000, vendor_id=trail.id
    )
    return TwoVendorShop(customer, loom, trail, scarf, lamp, tent)
