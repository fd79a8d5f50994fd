"""The admin dashboard, and the template helpers every admin list shares."""

from flask import Blueprint, redirect, render_template, url_for

from portal.admin.charts import bar_chart
from portal.admin.services import summary
from portal.auth.decorators import staff_blueprint_guard
from portal.htmx import is_partial
from portal.listing import display_count
from portal.vendors.scope import current_vendor_id

bp = Blueprint("admin", __name__, url_prefix="/admin")
staff_blueprint_guard(bp, vendors=True)  # a vendor's staff: the dashboard is its vendor's page

# Registered app-wide: the admin blueprint is always present, the feature lists are optional.
bp.add_app_template_filter(display_count, "count_label")
bp.add_app_template_global(is_partial, "is_partial")


@bp.get("/")
def dashboard():
    if (vendor_id := current_vendor_id()) is not None:  # its own figures, on its vendor's page
        return redirect(url_for("vendors.detail", vendor_id=vendor_id), 303)
    figures = summary()
    chart = bar_chart(figures["series"].days, figures["series"].revenue)
    return render_template("admin/dashboard.html", figures=figures, chart=chart)
