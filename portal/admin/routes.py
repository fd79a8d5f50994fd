"""The admin dashboard."""

from flask import Blueprint, render_template

from portal.admin.services import summary
from portal.auth.decorators import staff_blueprint_guard

bp = Blueprint("admin", __name__, url_prefix="/admin")
staff_blueprint_guard(bp)


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html", figures=summary())
