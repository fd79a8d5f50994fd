"""Read side of the catalogue: the admin list, a product's page, and what the API offers (with availability)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal.catalog.models import Product, ProductKind
from portal.extensions import db
from portal.history.services import history_of
from portal.listing import page_number, parse_id
from portal.stock.models import Reservation, ReservationStatus
from portal.timeutil import utcnow
from portal.vendors.models import Vendor

PER_PAGE = 50


@dataclass(frozen=True)
class CatalogFilter:
    q: str = ""
    kind: str = ""
    vendor: int | None = None  # 0: the house's own products
    active: str = ""  # "yes", "no" or "" (both)
    page: int = 1

    @classmethod
    def from_args(cls, args) -> CatalogFilter:
        """Lenient: an unknown kind, vendor or page is ignored (a shared URL stays usable)."""
        kind = args.get("kind", "")
        vendor = args.get("vendor", "").strip()
        active = args.get("active", "")
        return cls(
            q=args.get("q", "").strip()[:100],
            kind=kind if kind in set(ProductKind) else "",
            vendor=0 if vendor == "house" else parse_id(vendor, "vendor", {}),
            active=active if active in ("yes", "no") else "",
            page=page_number(args.get("page")),
        )

    def args(self, **override) -> dict:
        vendor = "house" if self.vendor == 0 else (self.vendor or "")
        values = {"q": self.q, "kind": self.kind, "vendor": vendor, "active": self.active, **override}
        return {k: v for k, v in values.items() if v}


def _filtered(f: CatalogFilter):
    query = select(Product)
    if f.q:
        pattern = f"%{f.q.lower()}%"
        query = query.where(or_(func.lower(Product.sku).like(pattern), func.lower(Product.title).like(pattern)))
    if f.kind:
        query = query.where(Product.kind == f.kind)
    if f.vendor == 0:
        query = query.where(Product.vendor_id.is_(None))
    elif f.vendor:
        query = query.where(Product.vendor_id == f.vendor)
    if f.active:
        query = query.where(Product.active.is_(f.active == "yes"))
    return query


def list_products(f: CatalogFilter) -> tuple[list[Product], bool]:
    """One page of products by title; the flag says whether a next page exists."""
    query = _filtered(f).order_by(Product.title, Product.id).offset((f.page - 1) * PER_PAGE).limit(PER_PAGE + 1)
    rows = db.session.scalars(query).unique().all()
    return list(rows[:PER_PAGE]), len(rows) > PER_PAGE


def product_detail(product_id: int) -> Product | None:
    return db.session.scalar(select(Product).where(Product.id == product_id).options(selectinload(Product.options)))


def product_history(product: Product) -> list:
    return history_of(product)


def vendor_choices() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Vendor.id, Vendor.name).order_by(Vendor.name)).tuples())


# ---------------------------------------------------------------- the API's catalogue


def purchasable():
    """Active products whose vendor (if any) is active, by title."""
    query = select(Product).outerjoin(Vendor, Product.vendor_id == Vendor.id)
    query = query.where(Product.active.is_(True), or_(Product.vendor_id.is_(None), Vendor.active.is_(True)))
    return query.options(selectinload(Product.options)).order_by(Product.title, Product.id)


def purchasable_page(page: int, per_page: int) -> tuple[list[Product], int]:
    """One page of the purchasable catalogue and how many products it has in all."""
    listed = purchasable()
    total = db.session.scalar(select(func.count()).select_from(listed.order_by(None).subquery()))
    rows = db.session.scalars(listed.offset((page - 1) * per_page).limit(per_page)).unique().all()
    return list(rows), total


def live_holds(product_ids: list[int]) -> dict[int, int]:
    """Units of each goods product held by unexpired reservations (not yet committed: sold stock is
    already taken off `stock`). One grouped statement for the whole page."""
    if not product_ids:
        return {}
    statement = (
        select(Reservation.product_id, func.sum(Reservation.quantity))
        .where(
            Reservation.product_id.in_(product_ids),
            Reservation.status == ReservationStatus.HELD,
            Reservation.expires_at > utcnow(),
        )
        .group_by(Reservation.product_id)
    )
    return {product_id: int(units) for product_id, units in db.session.execute(statement)}


def available(product: Product, holds: dict[int, int]) -> int | None:
    """Stock left to sell: None = unlimited; a rental: the units owned (availability depends on dates)."""
    if product.stock is None:
        return None
    if product.kind == ProductKind.RENTAL:
        return product.stock
    return max(product.stock - holds.get(product.id, 0), 0)
