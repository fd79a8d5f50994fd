"""Forms of /admin/catalog. Fields hold what the admin typed; `values()` turns it into a service's plain values."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from portal.catalog import typed
from portal.catalog.models import OptionPricing, ProductKind


class ProductForm(FlaskForm):
    sku = StringField("SKU", validators=[Length(max=40)])
    title = StringField("Title", validators=[Length(max=200)])
    kind = SelectField("Kind", choices=[(k.value, k.value) for k in ProductKind], default=ProductKind.COURSE.value)
    price = StringField("Price (₹, per day for a rental)", validators=[Length(max=30)])
    currency = StringField("Currency", default="INR", validators=[Length(max=3)])
    tax_rate = StringField("Tax rate (%)", default="18", validators=[Length(max=10)])
    hsn_sac = StringField("HSN/SAC", default="999293", validators=[Length(max=8)])
    stock = StringField("Stock (units; empty = unlimited; units owned for a rental)", validators=[Length(max=12)])
    deposit = StringField("Security deposit per unit (₹, rentals)", validators=[Length(max=30)])
    vendor_id = SelectField("Vendor", choices=[("", "The house")], default="")
    description = TextAreaField("Description", validators=[Length(max=5000)])
    active = BooleanField("Active (in the catalogue)", default=True)

    def offer_vendors(self, vendors: list[tuple[int, str]]) -> ProductForm:
        self.vendor_id.choices = [("", "The house"), *((str(i), name) for i, name in vendors)]
        return self

    def fill(self, product) -> ProductForm:
        """Show a product's stored values in the admin's units."""
        for name in ("sku", "title", "kind", "currency", "hsn_sac", "description", "active"):
            getattr(self, name).data = getattr(product, name)
        self.price.data = typed.rupees_text(product.price)
        self.deposit.data = typed.rupees_text(product.deposit) if product.deposit else ""
        self.tax_rate.data = typed.percent_text(product.tax_rate_bp)
        self.stock.data = "" if product.stock is None else str(product.stock)
        self.vendor_id.data = str(product.vendor_id or "")
        return self

    def values(self) -> dict:
        """The service's values; typed.Unreadable problems become errors on their fields (and a ValueError)."""
        texts = ("sku", "title", "kind", "currency", "hsn_sac", "description")
        out = {name: getattr(self, name).data for name in texts}
        out["active"] = bool(self.active.data)
        out["vendor_id"] = int(self.vendor_id.data) if self.vendor_id.data else None
        readers = {
            "price": lambda t: typed.rupees(t, empty=None),
            "deposit": typed.rupees,
            "tax_rate": typed.percent_bp,
            "stock": typed.count,
        }
        for name, read in readers.items():
            try:
                out["tax_rate_bp" if name == "tax_rate" else name] = read(getattr(self, name).data)
            except typed.Unreadable as exc:
                getattr(self, name).errors = [str(exc)]
        if any(getattr(self, name).errors for name in readers):
            raise ValueError("unreadable fields")
        return out


class OptionForm(FlaskForm):
    code = StringField("Code", validators=[Length(max=40)])
    label = StringField("Label", validators=[Length(max=120)])
    price = StringField("Price delta (₹)", validators=[Length(max=30)])
    pricing = SelectField("Added", choices=[(OptionPricing.PER_UNIT.value, "per unit"),
                                            (OptionPricing.PER_LINE.value, "per line")])  # fmt: skip
    active = BooleanField("Active", default=True)

    def values(self) -> dict:
        try:
            price = typed.rupees(self.price.data)
        except typed.Unreadable as exc:
            self.price.errors = [str(exc)]
            raise ValueError("unreadable price") from exc
        return {"code": self.code.data, "label": self.label.data, "price": price, "pricing": self.pricing.data,
                "active": bool(self.active.data)}  # fmt: skip


class ConfirmForm(FlaskForm):
    """No fields: the CSRF token of a one-button action (deactivate, activate, remove an option)."""

    reason = StringField("Reason", validators=[Length(max=200)])
