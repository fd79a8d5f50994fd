"""Webhook endpoints: Razorpay's delivery URL (no login, signature-checked) and the portal's webhook log."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from portal import htmx
from portal.auth.decorators import role_required, staff_blueprint_guard
from portal.extensions import db
from portal.webhooks import queries, services
from portal.webhooks.inbound import WebhookEndpoint
from portal.webhooks.models import WebhookEvent, WebhookStatus
from portal.webhooks.rejections import REASONS, recent_rejections

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")
staff_blueprint_guard(bp)


def _event_or_404(event_pk: int) -> WebhookEvent:
    return db.session.get(WebhookEvent, event_pk) or abort(404, description="No such webhook event.")


@bp.get("")
def list_events():
    filters = queries.Filters.from_args(request.args)
    if request.args.get("format") == "csv":
        return _csv(filters)
    context = {
        "events": queries.list_events(filters),
        "filters": filters,
        "statuses": [str(s) for s in WebhookStatus],
        "types": queries.event_types(),
        "rejections": recent_rejections(),
        "rejection_reasons": REASONS,
    }
    return htmx.render("webhooks/list.html", "webhooks/_table.html", **context)


def _csv(filters: queries.Filters) -> Response:
    response = Response(stream_with_context(queries.csv_rows(filters)), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=webhook-events.csv"
    return response


@bp.get("/<int:event_pk>")
def event_detail(event_pk: int):
    row = _event_or_404(event_pk)
    return htmx.render("webhooks/detail.html", "webhooks/_detail.html", event=row, **_detail_context(row))


def _detail_context(row: WebhookEvent) -> dict:
    return {"payload": queries.pretty_payload(row), "can_delete": current_user.has_role("admin")}


def _after_action(row: WebhookEvent, message: str):
    """The updated row (from the list) or panel (from the detail page); a redirect for a plain form."""
    if htmx.is_partial():
        if request.args.get("view") == "row":
            return htmx.render("webhooks/_row.html", "webhooks/_row.html", event=row)
        return htmx.render("webhooks/_detail.html", "webhooks/_detail.html", event=row, **_detail_context(row))
    flash(message, "success" if row.status != "failed" else "error")
    return redirect(url_for("webhooks.event_detail", event_pk=row.id))


def _act(event_pk: int, action, verb: str):
    _event_or_404(event_pk)
    try:
        row = action(event_pk)
    except services.NotAllowed as exc:
        abort(409, description=f"Cannot {verb} this event: {exc}.")
    return _after_action(row, f"Event {row.event_id}: {row.status}.")


@bp.route("/<int:event_pk>/process", methods=["PATCH", "POST"])
@role_required("finance")
def process_event(event_pk: int):
    return _act(event_pk, services.process_event, "process")


@bp.route("/<int:event_pk>/retry", methods=["PATCH", "POST"])
@role_required("finance")
def retry_event(event_pk: int):
    return _act(event_pk, services.retry_event, "retry")


@bp.route("/<int:event_pk>", methods=["DELETE", "POST"])
@role_required("admin")
def delete_event(event_pk: int):
    row = _event_or_404(event_pk)
    label = row.event_id
    services.delete_event(event_pk)
    if htmx.is_partial():
        if request.args.get("view") == "row":
            response = make_response("", 200)  # the row's outerHTML swap with nothing removes it
            response.vary.add("HX-Request")
            return response
        return htmx.redirect(url_for("webhooks.list_events"))
    flash(f"Event {label} deleted.", "success")
    return redirect(url_for("webhooks.list_events"))


def init_app(app) -> None:
    """Register the delivery endpoint, the portal pages, sync actions and the CLI groups."""
    from portal.payments.cli import payments_cli
    from portal.webhooks import tasks  # noqa: F401  (the webhook jobs and schedules, registered with the queue)
    from portal.webhooks.cli import webhooks_cli

    mode = app.config["WEBHOOK_PROCESSING"]
    if mode == "background":  # deprecated: the in-process thread worker it named is gone; the queue replaces it
        app.logger.warning("WEBHOOK_PROCESSING=background is deprecated; using 'queue' (see docs/webhooks.md)")
        app.config["WEBHOOK_PROCESSING"] = mode = "queue"
    if mode not in services.MODES:
        raise RuntimeError(f"WEBHOOK_PROCESSING must be 'inline' or 'queue', not {mode!r}")
    # Razorpay's delivery URL is answered in front of Flask (see portal/webhooks/inbound.py).
    app.wsgi_app = WebhookEndpoint(app, app.wsgi_app)
    app.register_blueprint(bp)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(payments_cli)
