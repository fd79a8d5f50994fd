"""The front door: `/` and `/favicon.ico`, which browsers and people ask for before any page of the portal."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

bp = Blueprint("site", __name__)


@bp.get("/")
def index():
    """Signed in: the dashboard; signed out: the sign-in page (not a 404)."""
    return redirect(url_for("admin.dashboard" if current_user.is_authenticated else "auth.login"))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; the icon is the SVG in static/."""
    return redirect(url_for("static", filename="favicon.svg"), 301)
