"""Forms of /admin/vendors. Format rules (GSTIN, state, prefix, colour) live in services.clean, for every caller."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from portal.vendors.validation import STATES

FIELDS = ("name", "legal_name", "gstin", "state", "address", "email", "auto_approve", "invoice_prefix", "brand_colour")


class VendorForm(FlaskForm):
    name = StringField("Name (shown to customers)", validators=[Length(max=120)])
    legal_name = StringField("Legal name (on its invoices)", validators=[Length(max=200)])
    gstin = StringField("GSTIN", validators=[Length(max=15)])
    state = SelectField(
        "State (CGST/SGST within it, IGST across states)", choices=[("", "—"), *((s, s) for s in STATES)]
    )
    address = TextAreaField("Address", validators=[Length(max=1000)])
    email = EmailField("Email", validators=[Length(max=255)])
    auto_approve = BooleanField("Approve its orders automatically", default=True)
    invoice_prefix = StringField(
        "Invoice prefix (1–3 letters or digits, e.g. LH; empty: from its name)", validators=[Length(max=8)]
    )
    brand_colour = StringField("Brand colour (#rrggbb)", validators=[Length(max=7)])

    def fill(self, vendor) -> VendorForm:
        for name in FIELDS:
            getattr(self, name).data = getattr(vendor, name) or ("" if name != "auto_approve" else False)
        return self

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in FIELDS}


class LogoForm(FlaskForm):
    logo = FileField("Logo (PNG or JPEG, at most 256 KB)")


class ConfirmForm(FlaskForm):
    reason = StringField("Reason", validators=[Length(max=200)])
