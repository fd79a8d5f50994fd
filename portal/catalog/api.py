"""`GET /api/v1/catalog`: every purchasable product, with its vendor, what is left of it and its options.

The same bearer-token authentication, error shape, rate limit and OpenAPI description as the rest of the customer
API (portal/api). Only active products of active vendors (or of the house) are listed.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from portal.api.auth import rate_limit_key, require_customer
from portal.api.openapi import responses, spec
from portal.api.schemas import PageMeta, PageQuery
from portal.catalog import queries
from portal.extensions import limiter

bp = Blueprint("api_catalog", __name__, url_prefix="/api/v1")
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)
bp.before_request(require_customer)


class CatalogVendor(BaseModel):
    id: int
    name: str


class CatalogOption(BaseModel):
    code: str
    label: str
    price: int = Field(description="the option's price delta, minor units")
    pricing: str = Field(description="per_unit (added to each unit) or per_line (added once)")


class CatalogProduct(BaseModel):
    id: int
    sku: str
    title: str
    kind: str = Field(description="course, good, rental or service")
    price: int = Field(description="before tax, minor units; per day for a rental")
    currency: str
    tax_rate_bp: int = Field(description="tax rate in basis points (1800 = 18 %)")
    deposit: int = Field(description="a rental's refundable security deposit per unit, minor units (0: none)")
    vendor: CatalogVendor | None = Field(description="who sells it; null: the house")
    available: int | None = Field(
        description="units left (stock minus live reservations); a rental: units owned (availability depends on "
        "the dates); null: unlimited"
    )
    options: list[CatalogOption]


class CatalogResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {"id": 7, "sku": "CAM-1", "title": "Mirrorless camera", "kind": "rental", "price": 125000,
                         "currency": "INR", "tax_rate_bp": 1800, "deposit": 1000000,
                         "vendor": {"id": 2, "name": "Lens Hire"}, "available": 2,
                         "options": [{"code": "lens", "label": "Extra lens", "price": 30000, "pricing": "per_unit"}]}
                    ],
                    "meta": {"page": 1, "per_page": 20, "total": 1, "pages": 1},
                }
            ]
        }
    )  # fmt: skip
    data: list[CatalogProduct]
    meta: PageMeta


def _product(product, holds: dict[int, int]) -> CatalogProduct:
    vendor = CatalogVendor(id=product.vendor.id, name=product.vendor.name) if product.vendor else None
    options = [CatalogOption(code=o.code, label=o.label, price=o.price, pricing=o.pricing)
               for o in product.options if o.active]  # fmt: skip
    return CatalogProduct(
        id=product.id, sku=product.sku, title=product.title, kind=product.kind, price=product.price,
        currency=product.currency, tax_rate_bp=product.tax_rate_bp, deposit=product.deposit, vendor=vendor,
        available=queries.available(product, holds), options=options,
    )  # fmt: skip


@bp.get("/catalog")
@spec.validate(query=PageQuery, resp=responses(200, CatalogResponse), tags=["catalogue"])
def catalog(query: PageQuery):
    """Every purchasable product (active, of an active vendor or the house) by title, `per_page` at most 100."""
    page, total = queries.purchasable_page(query.page, query.per_page)
    holds = queries.live_holds([p.id for p in page])
    meta = PageMeta(page=query.page, per_page=query.per_page, total=total, pages=math.ceil(total / query.per_page))
    return CatalogResponse(data=[_product(p, holds) for p in page], meta=meta)


def init_app(app) -> None:
    from portal.api import errors, refuse_non_json_body
    from portal.extensions import csrf

    if bp.name in app.blueprints:
        return
    if not getattr(bp, "_api_errors", False):  # module-level blueprint, several apps in tests: handlers once
        errors.register(bp)
        bp.before_request(refuse_non_json_body)
        bp._api_errors = True
    csrf.exempt(bp)
    app.register_blueprint(bp)
