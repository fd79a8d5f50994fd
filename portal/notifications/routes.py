"""The portal's outbox: every message, its rendered preview, and resend (admin)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, request, url_for
from flask_login import current_user

from portal import htmx
from portal.auth.decorators import role_required, staff_blueprint_guard
from portal.extensions import db
from portal.notifications import queries, services
from portal.notifications.kinds import label_for
from portal.notifications.models import MessageStatus, OutboxMessage

bp = Blueprint("notifications", __name__, url_prefix="/admin/outbox")
staff_blueprint_guard(bp)

# The preview is the message's own HTML: no script, no fetch, no form may run, only its inline styles and
# data: images; it lives in a sandboxed frame of our own pages and nowhere else.
PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def _message_or_404(message_id: int) -> OutboxMessage:
    return db.session.get(OutboxMessage, message_id) or abort(404, description="No such message.")


@bp.get("")
def list_messages():
    filters = queries.Filters.from_args(request.args)
    context = {
        "messages": queries.list_messages(filters),
        "filters": filters,
        "statuses": [str(s) for s in MessageStatus],
        "kinds": queries.kind_choices(),
    }
    return htmx.render("notifications/list.html", "notifications/_table.html", **context)


@bp.get("/<int:message_id>")
def message_detail(message_id: int):
    message = _message_or_404(message_id)
    return htmx.render("notifications/detail.html", "notifications/_detail.html", **_detail_context(message))


def _detail_context(message: OutboxMessage) -> dict:
    return {"message": message, "kind_label": label_for(message.kind), "can_resend": current_user.has_role("admin")}


@bp.get("/<int:message_id>/preview")
def message_preview(message_id: int):
    """The stored HTML body, for the detail page's sandboxed iframe."""
    message = _message_or_404(message_id)
    response = make_response(message.body_html or "<p>Not rendered yet.</p>")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:message_id>/resend", methods=["PATCH", "POST"])
@role_required("admin")
def resend(message_id: int):
    _message_or_404(message_id)
    try:
        services.resend(message_id)
    except services.NotAllowed as exc:
        abort(409, description=f"Cannot resend this message: {exc}.")
    message = _message_or_404(message_id)  # as the attempt (immediate mode) or the queue left it
    db.session.refresh(message)
    if htmx.is_partial():
        if request.args.get("view") == "row":
            return htmx.render("notifications/_row.html", "notifications/_row.html", message=message)
        return htmx.render("notifications/_detail.html", "notifications/_detail.html", **_detail_context(message))
    flash(f"Message {message.id} to {message.recipient}: {message.status}.", _tone(message))
    return redirect(url_for("notifications.message_detail", message_id=message.id))


def _tone(message: OutboxMessage) -> str:
    return "error" if message.status == MessageStatus.FAILED else "success"
