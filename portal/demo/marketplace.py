"""The demo's marketplace: two vendors (one approving its orders by hand), products of every kind, a vendor's
staff user, and stories played on the same clock as the rest of the seed (portal/demo/timeline.py): a paid
two-vendor checkout, an order awaiting the vendor, a shipped order with its tracking, a rental, an abandoned
checkout that expires. Every step goes through the app's services and the sandbox's hosted checkout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import select

from portal.auth.models import Role, User
from portal.auth.services import upsert_user
from portal.catalog.models import Product, ProductKind
from portal.catalog.services import create_product
from portal.demo.market_shop import MarketShop
from portal.extensions import db
from portal.history.services import Actor
from portal.timeutil import utcnow
from portal.vendors.models import Vendor
from portal.vendors.services import create_vendor

LOOM, TRAIL = "Loom & Co", "Trail Rentals"
VENDORS = [
    {
        "name": LOOM,
        "legal_name": "Loom and Co Handlooms Pvt Ltd",
        "gstin": "29AAKCS1234M1ZZ",
        "state": "Karnataka",
        "address": "14 Commercial Street, Bengaluru 560001",
        "email": "orders@loom.demo.test",
        "auto_approve": True,
        "invoice_prefix": "LM",
        "brand_colour": "#1a7f5a",
    },
    {
        "name": TRAIL,
        "legal_name": "Trail Rentals LLP",
        "gstin": "27AAPFT5055K1ZK",
        "state": "Maharashtra",
        "address": "8 FC Road, Pune 411004",
        "email": "desk@trail.demo.test",
        "auto_approve": False,  # its orders wait for its staff to accept them
        "invoice_prefix": "TRL",
        "brand_colour": "#c2410c",
    },
]
# (vendor, sku, title, kind, price in paise (a rental's per day), GST bp, HSN/SAC, stock (a rental's units), deposit)
PRODUCTS = [
    (LOOM, "LM-SAREE", "Handloom cotton saree", ProductKind.GOOD, 349900, 500, "5208", 25, 0),
    (LOOM, "LM-STOLE", "Block-printed stole", ProductKind.GOOD, 89900, 1200, "6214", 60, 0),
    (LOOM, "LM-WORKSHOP", "Block-printing workshop (3 hours)", ProductKind.SERVICE, 150000, 1800, "999799", None, 0),
    (LOOM, "LM-DYE", "Natural dyeing (video course)", ProductKind.COURSE, 199900, 1800, "999293", None, 0),
    (TRAIL, "TR-TENT", "Two-person tent", ProductKind.RENTAL, 45000, 1800, "997319", 4, 300000),
    (TRAIL, "TR-POLES", "Trekking poles (pair)", ProductKind.RENTAL, 15000, 1800, "997319", 10, 100000),
    (TRAIL, "TR-STOVE", "Camping stove", ProductKind.GOOD, 249900, 1800, "7321", 15, 0),
]
VENDOR_USER = ("vendor@demo.test", TRAIL)  # signs in to the portal and sees Trail Rentals' orders only
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def seed_vendors(actor: Actor) -> dict[str, Product]:
    """The vendors and their products (those missing), through the catalogue's services; {sku: product}."""
    vendors = {v.name: v for v in db.session.scalars(select(Vendor))}
    for fields in VENDORS:
        if fields["name"] not in vendors:
            vendors[fields["name"]] = create_vendor(actor=actor, **fields)
    skus = [row[1] for row in PRODUCTS]
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))}
    for vendor, sku, title, kind, price, tax_bp, hsn, stock, deposit in PRODUCTS:
        if sku not in products:
            products[sku] = create_product(
                actor=actor,
                sku=sku,
                title=title,
                kind=kind,
                price=price,
                tax_rate_bp=tax_bp,
                hsn_sac=hsn,
                stock=stock,
                deposit=deposit,
                vendor_id=vendors[vendor].id,
                description=f"{title}, sold by {vendor}.",
            )
    return products


def seed_vendor_user(password: str) -> User:
    email, vendor_name = VENDOR_USER
    vendor = db.session.scalar(select(Vendor).where(Vendor.name == vendor_name))
    return upsert_user(email, password, Role.VENDOR, name=f"{vendor_name} desk", vendor_id=vendor.id)[0]


def stories(shop: MarketShop, products: dict[str, Product], customers: list[User], now) -> list:
    """(start, story) for each marketplace story; each ends before `now`."""
    sku = {name: p.id for name, p in products.items()}
    demo, others = customers[0], customers[1:] or customers
    return [
        (now - 4 * DAY, two_vendor_checkout(shop, demo, sku)),
        (now - 3 * DAY, shipped_order(shop, others[0 % len(others)], sku)),
        (now - 2 * DAY, rental_order(shop, others[1 % len(others)], sku)),
        (now - 6 * HOUR, awaiting_vendor(shop, others[2 % len(others)], sku)),
        (now - 5 * HOUR, abandoned_checkout(shop, others[3 % len(others)], sku)),
    ]


def two_vendor_checkout(shop: MarketShop, customer: User, sku: dict) -> Iterator[timedelta]:
    """One cart of both vendors, one payment, two orders: Loom's ships and arrives, Trail's is accepted."""
    shop.add_to_cart(customer, sku["LM-SAREE"])
    shop.add_to_cart(customer, sku["TR-STOVE"])
    checkout_id = shop.open_checkout(customer)
    yield timedelta(minutes=4)
    orders = shop.pay_checkout(checkout_id)
    loom, trail = orders[LOOM], orders[TRAIL]
    yield 2 * HOUR
    shop.accept(trail)
    shop.advance(loom, "processing")
    yield 5 * HOUR
    shop.advance(loom, "shipped", tracking="DLV4455012389")
    yield DAY
    shop.advance(loom, "in_transit")
    yield 20 * HOUR
    shop.advance(loom, "delivered")


def shipped_order(shop: MarketShop, customer: User, sku: dict) -> Iterator[timedelta]:
    """Loom's order, shipped with a tracking number and on its way."""
    shop.add_to_cart(customer, sku["LM-STOLE"], quantity=2)
    checkout_id = shop.open_checkout(customer)
    yield timedelta(minutes=3)
    order = shop.pay_checkout(checkout_id)[LOOM]
    yield 3 * HOUR
    shop.advance(order, "processing")
    yield DAY
    shop.advance(order, "shipped", tracking="DLV4455098127")


def rental_order(shop: MarketShop, customer: User, sku: dict) -> Iterator[timedelta]:
    """A tent for a long weekend with its deposit; Trail accepts it."""
    start = utcnow().date() + timedelta(days=5)
    shop.add_to_cart(customer, sku["TR-TENT"], rental=(start, start + timedelta(days=2)))
    checkout_id = shop.open_checkout(customer)
    yield timedelta(minutes=6)
    order = shop.pay_checkout(checkout_id, first_attempt_fails=True)[TRAIL]
    yield 4 * HOUR
    shop.accept(order)


def awaiting_vendor(shop: MarketShop, customer: User, sku: dict) -> Iterator[timedelta]:
    """A paid order of Trail's, left for its staff to accept or reject (the vendor user's to-do)."""
    start: date = utcnow().date() + timedelta(days=10)
    shop.add_to_cart(customer, sku["TR-POLES"], rental=(start, start + timedelta(days=3)))
    shop.add_to_cart(customer, sku["TR-STOVE"])
    checkout_id = shop.open_checkout(customer)
    yield timedelta(minutes=5)
    shop.pay_checkout(checkout_id)


def abandoned_checkout(shop: MarketShop, customer: User, sku: dict) -> Iterator[timedelta]:
    """Checked out, never paid: the reservations lapse and the release schedule expires the checkout."""
    shop.add_to_cart(customer, sku["LM-SAREE"])
    shop.add_to_cart(customer, sku["TR-TENT"], rental=(utcnow().date() + timedelta(days=3),) * 2)
    shop.open_checkout(customer)
    yield shop.ttl + timedelta(minutes=1)
    shop.release_expired()


def summary() -> dict:
    """What the marketplace stories made: vendors, checkouts, and the vendor orders they became."""
    from sqlalchemy import func

    from portal.cart.models import Checkout
    from portal.orders.models import Order

    count = lambda column, *where: db.session.scalar(select(func.count(column)).where(*where))  # noqa: E731
    return {
        "vendors": count(Vendor.id),
        "checkouts": count(Checkout.id),
        "vendor_orders": count(Order.id, Order.checkout_id.is_not(None)),
    }
