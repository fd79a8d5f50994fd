"""/admin/catalog: products (list, create, edit, deactivate, options). Admins change; viewers and finance read."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin.actions import actor, first_error
from portal.auth.decorators import require_role, staff_blueprint_guard
from portal.catalog import queries, services
from portal.catalog.forms import ConfirmForm, OptionForm, ProductForm
from portal.catalog.queries import CatalogFilter
from portal.catalog.services import ProductError, ProductNotFound

bp = Blueprint("catalog", __name__, url_prefix="/admin/catalog")
staff_blueprint_guard(bp)  # vendors' staff: 403 (they see their products on their vendor page)
FIELD_OF = {"tax_rate_bp": "tax_rate"}  # service field → form field, where they differ


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.get("")
def list_products():
    f = CatalogFilter.from_args(request.args)
    products, has_next = queries.list_products(f)
    return render_template(
        "catalog/list.html", products=products, has_next=has_next, f=f, vendors=queries.vendor_choices()
    )


def _product_form(*, blank: bool = False) -> ProductForm:
    """The product form with the vendors to choose from; `blank`: not filled from the request."""
    form = ProductForm(formdata=None) if blank else ProductForm()
    return form.offer_vendors(queries.vendor_choices())


def _show_errors(form, exc: ProductError) -> None:
    for name, text in exc.errors.items():
        field = getattr(form, FIELD_OF.get(name, name), None)
        if field is not None:
            field.errors = [*field.errors, text]


@bp.get("/new")
def new_product():
    require_role("admin")
    return render_template("catalog/form.html", form=_product_form(blank=True), product=None)


@bp.post("")
def create():
    """Create a product (admin)."""
    require_role("admin")
    form = _product_form()
    try:
        if not form.validate():
            raise ValueError(first_error(form))
        product = services.create_product(**form.values(), actor=actor())
    except ProductError as exc:
        _show_errors(form, exc)
        return render_template("catalog/form.html", form=form, product=None), 422
    except ValueError:
        return render_template("catalog/form.html", form=form, product=None), 422
    flash(f"Product {product.sku} created.", "success")
    return redirect(url_for(".detail", product_id=product.id), 303)


def _detail(product, status: int = 200, **forms):
    context = {
        "product": product,
        "history": queries.product_history(product),
        "form": forms.get("form") or _product_form(blank=True).fill(product),
        "option_form": forms.get("option_form") or OptionForm(formdata=None),
        "confirm_form": ConfirmForm(formdata=None),
        "is_admin": current_user.has_role("admin"),
    }
    return render_template("catalog/detail.html", **context), status


def _found(product_id: int):
    return queries.product_detail(product_id) or abort(404)


@bp.get("/<int:product_id>")
def detail(product_id: int):
    return _detail(_found(product_id))


@bp.post("/<int:product_id>")
def update(product_id: int):
    """Change a product's fields (admin); the audit trail keeps what changed."""
    require_role("admin")
    product = _found(product_id)
    form = _product_form()
    try:
        if not form.validate():
            raise ValueError(first_error(form))
        services.update_product(product_id, **form.values(), actor=actor())
    except ProductError as exc:
        _show_errors(form, exc)
        return _detail(_found(product_id), 422, form=form)
    except ValueError:
        return _detail(product, 422, form=form)
    flash("Product saved.", "success")
    return redirect(url_for(".detail", product_id=product_id), 303)


@bp.post("/<int:product_id>/<any(activate, deactivate):action>")
def set_active(product_id: int, action: str):
    """Take a product out of the catalogue, or put it back (admin)."""
    require_role("admin")
    form = ConfirmForm()
    if not form.validate():
        return _detail(_found(product_id), 422)
    try:
        services.set_product_active(product_id, action == "activate", actor=actor(), reason=form.reason.data or "")
    except ProductNotFound:
        abort(404)
    flash(f"Product {action}d.", "success")
    return redirect(url_for(".detail", product_id=product_id), 303)


@bp.post("/<int:product_id>/options", defaults={"option_id": None})
@bp.post("/<int:product_id>/options/<int:option_id>")
def save_option(product_id: int, option_id: int | None):
    """Add an option, or change one (admin): code, label, price delta in rupees, per unit or per line."""
    require_role("admin")
    product = _found(product_id)
    form = OptionForm()
    try:
        if not form.validate():
            raise ValueError(first_error(form))
        services.save_option(product_id, form.values(), actor=actor(), option_id=option_id)
    except ProductNotFound:
        abort(404)
    except ProductError as exc:
        _show_errors(form, exc)
        return _detail(_found(product_id), 422, option_form=form)
    except ValueError:
        return _detail(product, 422, option_form=form)
    flash("Option saved.", "success")
    return redirect(url_for(".detail", product_id=product_id), 303)


@bp.post("/<int:product_id>/options/<int:option_id>/delete")
def delete_option(product_id: int, option_id: int):
    """Remove an option (admin); orders keep the options they were sold with."""
    require_role("admin")
    if not ConfirmForm().validate():
        return _detail(_found(product_id), 422)
    try:
        services.remove_option(product_id, option_id, actor=actor())
    except ProductNotFound:
        abort(404)
    flash("Option removed.", "success")
    return redirect(url_for(".detail", product_id=product_id), 303)
