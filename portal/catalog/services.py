"""Creating and changing products and their options. Every change writes an audit row (history)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.catalog.models import OptionPricing, Product, ProductKind, ProductOption
from portal.dbutil import committed, for_update
from portal.extensions import db
from portal.history.services import Actor, diff, record_event
from portal.vendors.models import Vendor

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
HSN_RE = re.compile(r"^[0-9]{4,8}$")
MAX_PRICE = 10**12  # minor units: ₹1,000 crore, far above any real price and well inside BIGINT
MAX_STOCK = 10**9
FIELDS = ("sku", "title", "description", "kind", "price", "currency", "tax_rate_bp", "hsn_sac", "stock", "deposit",
          "vendor_id")  # fmt: skip
DEFAULTS = {"description": "", "kind": ProductKind.COURSE, "currency": "INR", "tax_rate_bp": 1800,
            "hsn_sac": "999293", "stock": None, "deposit": 0, "vendor_id": None}  # fmt: skip


class ProductError(ValueError):
    """The values cannot make a product (or option); `errors` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


class ProductNotFound(LookupError):
    pass


def _int_in(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def clean(values: dict, *, product_id: int | None = None) -> dict:
    """Normalised product fields (amounts already in minor units); ProductError listing every problem."""
    out = {**DEFAULTS, **{k: values[k] for k in FIELDS if k in values}}
    for name in ("sku", "title", "description", "hsn_sac", "currency"):
        out[name] = (out[name] or "").strip()
    out["currency"] = out["currency"].upper()
    errors = _field_problems(out)
    if "sku" not in errors and _sku_taken(out["sku"], product_id):
        errors["sku"] = "another product has this SKU"
    if out["vendor_id"] is not None and db.session.get(Vendor, out["vendor_id"]) is None:
        errors["vendor_id"] = "no such vendor"
    if errors:
        raise ProductError(errors)
    return out


def _field_problems(out: dict) -> dict[str, str]:
    errors = {}
    if not SKU_RE.match(out["sku"]):
        errors["sku"] = "1–40 letters, digits, '.', '_' or '-'"
    if not out["title"] or len(out["title"]) > 200:
        errors["title"] = "a title of 1–200 characters"
    if out["kind"] not in set(ProductKind):
        errors["kind"] = "one of " + ", ".join(ProductKind)
    if not _int_in(out["price"], 0, MAX_PRICE):
        errors["price"] = "a price of zero or more"
    if not re.fullmatch(r"[A-Z]{3}", out["currency"]):
        errors["currency"] = "a three-letter currency code such as INR"
    if not _int_in(out["tax_rate_bp"], 0, 10000):
        errors["tax_rate_bp"] = "a tax rate from 0 to 100%"
    if not HSN_RE.match(out["hsn_sac"]):
        errors["hsn_sac"] = "an HSN/SAC code of 4–8 digits"
    if out["stock"] is not None and not _int_in(out["stock"], 0, MAX_STOCK):
        errors["stock"] = "zero or more units, or empty for unlimited"
    if not _int_in(out["deposit"], 0, MAX_PRICE):
        errors["deposit"] = "a deposit of zero or more"
    elif out["deposit"] and out["kind"] != ProductKind.RENTAL:
        errors["deposit"] = "only rentals take a security deposit"
    if out["kind"] == ProductKind.RENTAL and out["stock"] is None:
        errors["stock"] = "a rental needs the number of units owned"
    return errors


def _sku_taken(sku: str, product_id: int | None) -> bool:
    query = select(Product.id).where(func.lower(Product.sku) == sku.lower())
    if product_id is not None:
        query = query.where(Product.id != product_id)
    return db.session.scalar(query.limit(1)) is not None


def add_product(values: dict, *, actor: Actor) -> Product:
    """Add a product to the session with its audit row (the caller commits: the importer batches them)."""
    fields = clean(values)
    product = Product(**fields, active=bool(values.get("active", True)))
    db.session.add(product)
    db.session.flush()
    changes = {name: [None, value] for name, value in fields.items() if value not in (None, "")}
    record_event(product, action="create", actor=actor, changes=changes)
    return product


def create_product(*, actor: Actor, **fields) -> Product:
    """Create a product from plain fields (sku, title, kind, price and deposit in minor units, currency,
    tax_rate_bp, hsn_sac, stock, vendor_id, active, description). ProductError: nothing written."""
    return committed(lambda: add_product(fields, actor=actor))


def locked_product(product_id: int) -> Product:
    product = db.session.scalar(for_update(select(Product).where(Product.id == product_id), of=Product))
    if product is None:
        raise ProductNotFound(product_id)
    return product


def apply_changes(product: Product, values: dict, *, actor: Actor) -> dict:
    """Validate and apply `values` to a loaded product; record what changed (the caller commits)."""
    current = {name: getattr(product, name) for name in FIELDS}
    cleaned = clean({**current, **{k: v for k, v in values.items() if k in FIELDS}}, product_id=product.id)
    if "active" in values:
        cleaned["active"] = bool(values["active"])
    changes = diff(product, cleaned)
    if changes:
        record_event(product, action="update", actor=actor, changes=changes)
    return changes


def update_product(product_id: int, *, actor: Actor, **fields) -> Product:
    """Change a product's fields (those given); records what changed. ProductError / ProductNotFound."""

    def work():
        product = locked_product(product_id)
        apply_changes(product, fields, actor=actor)
        return product

    return committed(work)


def set_product_active(product_id: int, active: bool, *, actor: Actor, reason: str = "") -> Product:
    """Take a product out of the catalogue (or put it back). Existing orders keep their lines."""

    def work():
        product = locked_product(product_id)
        if product.active != active:
            changes = diff(product, {"active": active})
            action = "activate" if active else "deactivate"
            record_event(product, action=action, actor=actor, reason=reason, changes=changes)
        return product

    return committed(work)


def _clean_option(values: dict) -> dict:
    out = {
        "code": (values.get("code") or "").strip().lower(),
        "label": (values.get("label") or "").strip(),
        "price": values.get("price", 0),
        "pricing": values.get("pricing") or OptionPricing.PER_UNIT,
        "active": bool(values.get("active", True)),
    }
    errors = {}
    if not CODE_RE.match(out["code"]):
        errors["code"] = "1–40 lower-case letters, digits, '_' or '-'"
    if not out["label"] or len(out["label"]) > 120:
        errors["label"] = "a label of 1–120 characters"
    if not _int_in(out["price"], 0, MAX_PRICE):
        errors["price"] = "a price of zero or more"
    if out["pricing"] not in set(OptionPricing):
        errors["pricing"] = "per unit or per line"
    if errors:
        raise ProductError(errors)
    return out


def save_option(product_id: int, values: dict, *, actor: Actor, option_id: int | None = None) -> ProductOption:
    """Add an option to a product, or change one (`option_id`); the code is unique per product."""

    def work():
        product = locked_product(product_id)
        fields = _clean_option(values)
        option = next((o for o in product.options if o.id == option_id), None) if option_id else None
        if option_id and option is None:
            raise ProductNotFound(option_id)
        if any(o.code == fields["code"] and o is not option for o in product.options):
            raise ProductError({"code": "this product already has an option with this code"})
        if option is None:
            option = ProductOption(product=product, position=len(product.options), **fields)
            db.session.add(option)
            changes = {f"option.{fields['code']}": [None, fields]}
        else:
            changes = {f"option.{option.code}.{k}": v for k, v in diff(option, fields).items()}
        if changes:
            record_event(product, action="update", actor=actor, changes=changes)
        return option

    return committed(work)


def remove_option(product_id: int, option_id: int, *, actor: Actor) -> None:
    """Delete an option (orders keep their own snapshot of the options they were sold with)."""

    def work():
        product = locked_product(product_id)
        option = next((o for o in product.options if o.id == option_id), None)
        if option is None:
            raise ProductNotFound(option_id)
        product.options.remove(option)
        record_event(product, action="update", actor=actor, changes={f"option.{option.code}": ["removed", None]})

    committed(work)
