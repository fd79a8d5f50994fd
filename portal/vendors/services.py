"""Creating and changing vendors. Every change writes an audit row (history) in the same transaction."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import func, select

from portal.dbutil import committed, for_update
from portal.extensions import db
from portal.history.services import Actor, diff, record_event
from portal.vendors import validation
from portal.vendors.models import Vendor

FIELDS = ("name", "legal_name", "gstin", "state", "address", "email", "auto_approve", "invoice_prefix", "brand_colour")
LIMITS = {"name": 120, "legal_name": 200, "address": 1000, "email": 255}


class VendorError(ValueError):
    """The values cannot make a vendor; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


class VendorNotFound(LookupError):
    pass


def _text(values: dict, name: str) -> str:
    return (values.get(name) or "").strip()


def clean(values: dict, *, vendor_id: int | None = None) -> dict:
    """Normalised vendor fields from `values`; VendorError listing every problem at once."""
    out = {name: _text(values, name) for name in ("name", "legal_name", "address", "state")}
    out["gstin"] = _text(values, "gstin").upper() or None
    out["email"] = _text(values, "email").lower() or None
    out["invoice_prefix"] = _text(values, "invoice_prefix").upper() or None
    out["brand_colour"] = _text(values, "brand_colour").lower() or None
    out["state"] = out["state"] or None
    out["auto_approve"] = bool(values.get("auto_approve", True))
    errors = {name: f"at most {limit} characters" for name, limit in LIMITS.items() if len(out[name] or "") > limit}
    errors.update(_problems(out, vendor_id))
    if errors:
        raise VendorError(errors)
    return out


def _problems(out: dict, vendor_id: int | None) -> dict[str, str]:
    errors = {}
    if not out["name"]:
        errors["name"] = "a vendor needs a name"
    elif _taken(func.lower(Vendor.name) == out["name"].lower(), vendor_id):
        errors["name"] = "another vendor has this name"
    if out["state"] and out["state"] not in validation.STATES:
        errors["state"] = "choose a state of India from the list"
    if out["gstin"] and (problem := validation.gstin_problem(out["gstin"], out["state"])):
        errors["gstin"] = problem
    if out["email"] and "@" not in out["email"]:
        errors["email"] = "not an email address"
    if out["invoice_prefix"] and (problem := _prefix_problem(out["invoice_prefix"], vendor_id)):
        errors["invoice_prefix"] = problem
    if out["brand_colour"] and not validation.COLOUR_RE.match(out["brand_colour"]):
        errors["brand_colour"] = "a colour like #1a7f5a"
    return errors


def _prefix_problem(prefix: str, vendor_id: int | None) -> str | None:
    """Its invoices ("LH/…") and credit notes ("LHC/…") must not share a number with another series."""
    if not validation.PREFIX_RE.match(prefix):
        return "1–3 letters or digits (the number must fit GST's 16 characters)"
    house = {current_app.config.get("INVOICE_PREFIX"), current_app.config.get("CREDIT_NOTE_PREFIX")}
    if prefix in house or prefix + "C" in house:
        return "the house's own invoices or credit notes use this prefix"
    clashes = [prefix, prefix + "C"] + ([prefix[:-1]] if prefix.endswith("C") else [])
    if _taken(Vendor.invoice_prefix.in_(clashes), vendor_id):
        return "another vendor's invoices or credit notes use this prefix"
    return None


def free_prefix(name: str) -> str:
    """A prefix nobody uses, from the name's initials ("Lens Hire" → "LH", then "LH2" …, then "V<n>")."""
    initials = "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", name)).upper()[:3] or "V"
    candidates = [initials, *(f"{initials[:2]}{n}" for n in range(2, 10)), *(f"V{n}" for n in range(10, 100))]
    return next((c for c in candidates if _prefix_problem(c, None) is None), "")


def _taken(condition, vendor_id: int | None) -> bool:
    query = select(Vendor.id).where(condition)
    if vendor_id is not None:
        query = query.where(Vendor.id != vendor_id)
    return db.session.scalar(query.limit(1)) is not None


def add_vendor(values: dict, *, actor: Actor) -> Vendor:
    """Add a vendor to the session with its audit row (the caller commits: the importer batches them)."""
    fields = clean(values)
    fields["invoice_prefix"] = fields["invoice_prefix"] or free_prefix(fields["name"]) or None  # its own series
    vendor = Vendor(**fields, active=bool(values.get("active", True)))
    db.session.add(vendor)
    db.session.flush()
    changes = {name: [None, value] for name, value in fields.items() if value not in (None, "")}
    record_event(vendor, action="create", actor=actor, changes=changes)
    return vendor


def create_vendor(*, actor: Actor, **fields) -> Vendor:
    """Create a vendor from plain fields (name, legal_name, gstin, state, address, email, auto_approve,
    invoice_prefix, brand_colour, active). VendorError when a field is wrong; nothing is written then."""
    return committed(lambda: add_vendor(fields, actor=actor))


def _locked(vendor_id: int) -> Vendor:
    vendor = db.session.scalar(for_update(select(Vendor).where(Vendor.id == vendor_id), of=Vendor))
    if vendor is None:
        raise VendorNotFound(vendor_id)
    return vendor


def update_vendor(vendor_id: int, *, actor: Actor, **fields) -> Vendor:
    """Change a vendor's fields (those given); records what changed. VendorError / VendorNotFound."""

    def work():
        vendor = _locked(vendor_id)
        current = {name: getattr(vendor, name) for name in FIELDS}
        cleaned = clean({**current, **fields}, vendor_id=vendor_id)
        # Emptied: keep the series' prefix (a vendor's invoices always have one).
        cleaned["invoice_prefix"] = cleaned["invoice_prefix"] or vendor.invoice_prefix or free_prefix(vendor.name)
        changes = diff(vendor, cleaned)
        if changes:
            record_event(vendor, action="update", actor=actor, changes=changes)
        return vendor

    return committed(work)


def set_vendor_active(vendor_id: int, active: bool, *, actor: Actor, reason: str = "") -> Vendor:
    """Deactivate (its products leave the catalogue) or reactivate a vendor."""

    def work():
        vendor = _locked(vendor_id)
        if vendor.active != active:
            changes = diff(vendor, {"active": active})
            action = "activate" if active else "deactivate"
            record_event(vendor, action=action, actor=actor, reason=reason, changes=changes)
        return vendor

    return committed(work)


def set_logo(vendor_id: int, data: bytes | None, *, actor: Actor) -> Vendor:
    """Store (or, with None, remove) the vendor's invoice logo: PNG or JPEG by its bytes, ≤ LOGO_MAX_BYTES."""
    kind = None
    if data is not None:
        if len(data) > validation.LOGO_MAX_BYTES:
            raise VendorError({"logo": f"at most {validation.LOGO_MAX_BYTES // 1024} KB"})
        if (kind := validation.sniff_image(data)) is None:
            raise VendorError({"logo": "a PNG or JPEG image"})

    def work():
        vendor = _locked(vendor_id)
        before = vendor.logo_type
        vendor.logo, vendor.logo_type = data, kind
        size = [before, f"{kind} ({len(data)} bytes)" if data else None]
        record_event(vendor, action="update", actor=actor, changes={"logo": size})
        return vendor

    return committed(work)


def vendor_by_name(name: str) -> Vendor | None:
    """The vendor named `name` (case-insensitive), or None."""
    return db.session.scalar(select(Vendor).where(func.lower(Vendor.name) == name.strip().lower()))
