"""/admin/checkouts: every checkout (abandoned, paid, refunded …) with its orders; one checkout's page.

Staff only, viewer and up. A vendor's user gets 403: a checkout spans several vendors' orders, and a
vendor sees its own orders on the orders pages instead.
"""

from __future__ import annotations

from flask import Blueprint, request

from portal.auth.decorators import staff_blueprint_guard
from portal.cart import queries
from portal.history.deleted import gone_or_404
from portal.htmx import render
from portal.listing import display_count, filtered_csv, url_builder

bp = Blueprint("checkouts", __name__, url_prefix="/admin/checkouts")
staff_blueprint_guard(bp)


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.get("")
def list_checkouts():
    """The filtered list (or its CSV export with ?format=csv)."""
    args = queries.parse_checkout_args(request.args)
    if request.args.get("format") == "csv":
        return filtered_csv("checkouts", args, queries.CSV_HEADER, queries.csv_rows)
    return render(
        "cart/admin/list.html",
        "cart/admin/_results.html",
        args=args,
        results=queries.list_page(args),
        counts=queries.tab_counts(args),
        link=url_builder("checkouts.list_checkouts", request.args),
        tabs=queries.TABS,
        display_count=display_count,
    )


@bp.get("/<int:checkout_id>")
def checkout_detail(checkout_id: int):
    """One checkout: its priced lines, reservations, payment, the orders it became and one timeline."""
    checkout = queries.checkout_detail(checkout_id) or gone_or_404("checkout", checkout_id)
    payments = queries.checkout_payments(checkout)
    return render(
        "cart/admin/detail.html",
        "cart/admin/_detail.html",
        checkout=checkout,
        lines=queries.priced_lines(checkout),
        payments=payments,
        history=queries.checkout_history(checkout, payments),
    )
