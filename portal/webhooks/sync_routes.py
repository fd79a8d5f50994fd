""" "Sync from gateway" on an order or a payment: reconciliation of one order, on demand (finance)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request
from flask_login import current_user

from portal import htmx
from portal.auth.decorators import staff_blueprint_guard
from portal.history.services import Actor
from portal.payments import reconcile

bp = Blueprint("gateway_sync", __name__, url_prefix="/admin")
staff_blueprint_guard(bp, "finance")


def _respond(report: reconcile.SyncReport, back: str):
    if htmx.is_partial():
        return htmx.render("webhooks/_sync_report.html", "webhooks/_sync_report.html", report=report)
    for line in report.lines():
        flash(line, "error" if report.error else "success")
    return redirect(back)


def _dry_run() -> bool:
    return request.form.get("dry_run") in ("1", "on", "true")


@bp.post("/orders/<int:order_id>/sync")
def sync_order(order_id: int):
    """Fetch the order, its payments and their refunds from the gateway and repair our records."""
    try:
        report = reconcile.sync_order(order_id, actor=Actor.user(current_user), dry_run=_dry_run())
    except LookupError:
        abort(404, description="No such order.")
    return _respond(report, f"/admin/orders/{order_id}")


@bp.post("/payments/<int:payment_id>/sync")
def sync_payment(payment_id: int):
    """The same for a payment: its whole order is synced."""
    try:
        report = reconcile.sync_payment(payment_id, actor=Actor.user(current_user), dry_run=_dry_run())
    except LookupError:
        abort(404, description="No such payment.")
    return _respond(report, f"/admin/payments/{payment_id}")
