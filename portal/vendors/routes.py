"""/admin/vendors: vendors (list, create, edit, deactivate, branding) and a vendor's page.

Admins change; viewers and finance read. A vendor's staff user sees its own vendor's page (and logo) only:
another vendor's answers 404, the list and every change 403.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin.actions import actor, first_error
from portal.auth.decorators import require_role, staff_blueprint_guard
from portal.extensions import db
from portal.vendors import queries, services, validation
from portal.vendors.forms import ConfirmForm, LogoForm, VendorForm
from portal.vendors.models import Vendor
from portal.vendors.scope import current_vendor_id
from portal.vendors.services import VendorError, VendorNotFound

bp = Blueprint("vendors", __name__, url_prefix="/admin/vendors")
staff_blueprint_guard(bp, vendors=True)
OWN_PAGES = {"vendors.detail", "vendors.logo"}  # what a vendor's staff may open, for their own vendor


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.before_request
def _vendors_see_only_their_own_page():
    vendor_id = current_vendor_id()
    if vendor_id is None:
        return
    if request.endpoint not in OWN_PAGES:
        abort(403, description="Vendors' staff see their own vendor's page only.")
    if (request.view_args or {}).get("vendor_id") != vendor_id:
        abort(404)


@bp.get("")
def list_vendors():
    q, active = request.args.get("q", "").strip()[:100], request.args.get("active", "")
    vendors = queries.list_vendors(q, active)
    return render_template("vendors/list.html", vendors=vendors, counts=queries.product_counts(), q=q, active=active)


@bp.get("/new")
def new_vendor():
    require_role("admin")
    return render_template("vendors/form.html", form=VendorForm(formdata=None))


def _show_errors(form, exc: VendorError) -> None:
    for name, text in exc.errors.items():
        if (field := getattr(form, name, None)) is not None:
            field.errors = [*field.errors, text]


@bp.post("")
def create():
    """Create a vendor (admin)."""
    require_role("admin")
    form = VendorForm()
    if not form.validate():
        return render_template("vendors/form.html", form=form, error=first_error(form)), 422
    try:
        vendor = services.create_vendor(**form.values(), actor=actor())
    except VendorError as exc:
        _show_errors(form, exc)
        return render_template("vendors/form.html", form=form), 422
    flash(f"Vendor {vendor.name} created.", "success")
    return redirect(url_for(".detail", vendor_id=vendor.id), 303)


def _found(vendor_id: int) -> Vendor:
    return db.session.get(Vendor, vendor_id) or abort(404)


def _detail(vendor: Vendor, status: int = 200, **forms):
    context = {
        "vendor": vendor,
        "figures": queries.figures(vendor.id),
        "orders": queries.recent_orders(vendor.id),
        "products": queries.products_of(vendor.id),
        "history": queries.vendor_history(vendor),
        "form": forms.get("form") or VendorForm(formdata=None).fill(vendor),
        "logo_form": forms.get("logo_form") or LogoForm(formdata=None),
        "confirm_form": ConfirmForm(formdata=None),
        "error": forms.get("error", ""),
        "is_admin": current_user.has_role("admin"),
    }
    return render_template("vendors/detail.html", **context), status


@bp.get("/<int:vendor_id>")
def detail(vendor_id: int):
    return _detail(_found(vendor_id))


@bp.post("/<int:vendor_id>")
def update(vendor_id: int):
    """Change a vendor's details (admin); the audit trail keeps what changed."""
    require_role("admin")
    vendor = _found(vendor_id)
    form = VendorForm()
    if not form.validate():
        return _detail(vendor, 422, form=form, error=first_error(form))
    try:
        services.update_vendor(vendor_id, **form.values(), actor=actor())
    except VendorError as exc:
        _show_errors(form, exc)
        return _detail(_found(vendor_id), 422, form=form)
    flash("Vendor saved.", "success")
    return redirect(url_for(".detail", vendor_id=vendor_id), 303)


@bp.post("/<int:vendor_id>/<any(activate, deactivate):action>")
def set_active(vendor_id: int, action: str):
    """Deactivate a vendor (its products leave the catalogue) or reactivate it (admin)."""
    require_role("admin")
    form = ConfirmForm()
    if not form.validate():
        return _detail(_found(vendor_id), 422, error=first_error(form))
    try:
        services.set_vendor_active(vendor_id, action == "activate", actor=actor(), reason=form.reason.data or "")
    except VendorNotFound:
        abort(404)
    flash(f"Vendor {action}d.", "success")
    return redirect(url_for(".detail", vendor_id=vendor_id), 303)


@bp.post("/<int:vendor_id>/logo")
def upload_logo(vendor_id: int):
    """Store the vendor's invoice logo (admin): PNG or JPEG by its bytes, at most 256 KB; `remove` clears it."""
    require_role("admin")
    vendor = _found(vendor_id)
    form = LogoForm()
    upload = form.logo.data
    if not form.validate():
        return _detail(vendor, 422, logo_form=form, error=first_error(form))
    if "remove" not in request.form and not getattr(upload, "filename", None):
        return _detail(vendor, 422, logo_form=form, error="Choose a PNG or JPEG file first.")
    data = None if "remove" in request.form else upload.read(validation.LOGO_MAX_BYTES + 1)
    try:
        services.set_logo(vendor_id, data, actor=actor())
    except VendorError as exc:
        return _detail(_found(vendor_id), 422, logo_form=form, error=exc.errors["logo"].capitalize() + ", please.")
    flash("Logo removed." if data is None else "Logo saved.", "success")
    return redirect(url_for(".detail", vendor_id=vendor_id), 303)


@bp.get("/<int:vendor_id>/logo")
def logo(vendor_id: int):
    """The logo's bytes, with the type sniffed at upload (never what the browser claimed)."""
    vendor = _found(vendor_id)
    if not vendor.logo:
        abort(404)
    response = make_response(vendor.logo)
    response.headers["Content-Type"] = vendor.logo_type
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
