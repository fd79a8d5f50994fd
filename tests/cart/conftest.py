"""Cart and checkout fixtures: signed-in customers' API clients, vendors and a small marketplace."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.catalog.models import ProductKind, ProductOption
from portal.extensions import db
from portal.timeutil import local_today
from portal.vendors.models import Vendor
from tests.api.conftest import ApiClient


@pytest.fixture
def customer(make):
    return make.customer(name="Asha Rao", phone="+919812345678")


@pytest.fixture
def api(client, customer):
    return ApiClient(client, customer)


@pytest.fixture
def other_api(app, make):
    return ApiClient(app.test_client(), make.customer())


def new_vendor(name: str, **fields) -> Vendor:
    vendor = Vendor(
        name=name, legal_name=f"{name} Pvt Ltd", state="Karnataka", invoice_prefix=name[:3].upper(), **fields
    )
    db.session.add(vendor)
    db.session.commit()
    return vendor


@pytest.fixture
def vendor():
    return new_vendor


@pytest.fixture
def shop(make):
    """Three vendors' goods (a lamp of Asha Crafts, a kettle of Brass Works, a rented tent of Camp Co)."""
    crafts, brass, camp = new_vendor("Asha Crafts"), new_vendor("Brass Works"), new_vendor("Camp Co")
    lamp = make.product(kind=ProductKind.GOOD, price=50000, stock=5, vendor_id=crafts.id, title="Clay lamp")
    kettle = make.product(kind=ProductKind.GOOD, price=120000, stock=2, vendor_id=brass.id, title="Brass kettle")
    tent = make.product(
        kind=ProductKind.RENTAL, price=30000, stock=1, deposit=200000, vendor_id=camp.id, title="Four-person tent"
    )
    db.session.add(ProductOption(product=lamp, code="gift_wrap", label="Gift wrap", price=5000))
    db.session.commit()
    return {"vendors": (crafts, brass, camp), "lamp": lamp, "kettle": kettle, "tent": tent}


def days_from_today(n: int):
    return local_today() + timedelta(days=n)
