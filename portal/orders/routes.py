"""Admin orders: list (filters, search, tabs, keyset pages, CSV), detail, and the order actions."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.admin.actions import actor, answer, first_error, require_found, sync_outcome
from portal.auth.decorators import require_role, staff_blueprint_guard
from portal.history.deleted import gone_or_404
from portal.htmx import is_partial, render
from portal.htmx import redirect as hx_redirect
from portal.inputs import db_ids
from portal.invoices.services import InvoiceError, issue_invoice
from portal.listing import filtered_csv, url_builder
from portal.orders import queries
from portal.orders.admin_services import OrderNotDeletable, bulk_cancel, bulk_issue_invoices, delete_order
from portal.orders.forms import BulkForm, CancelForm, DeleteForm, FulfilmentForm, StatusForm
from portal.orders.models import Order
from portal.orders.services import OrderNotFound, advance_fulfilment, cancel_order, change_status
from portal.orders.status import FULFILMENT, OrderStatus
from portal.payments.reconcile import sync_order
from portal.redirects import safe_next
from portal.statemachine import IllegalTransition
from portal.vendors.scope import guard_objects

bp = Blueprint("orders", __name__, url_prefix="/admin/orders")
staff_blueprint_guard(bp, vendors=True)  # vendors: their own orders only (the queries and guard_objects)
guard_objects(bp, order_id=lambda order_id: select(Order.id).where(Order.id == order_id))
BULK_LIMIT = 1000  # orders changed per bulk request; the summary says when more remain


def init_app(app) -> None:
    from portal.orders import fulfilment_routes  # noqa: F401  (the fulfilment panel's routes, on this blueprint)

    app.register_blueprint(bp)


# ---------------------------------------------------------------- list


@bp.get("")
def list_orders():
    args = queries.parse_order_args(request.args)
    if request.args.get("format") == "csv":
        return filtered_csv("orders", args, queries.CSV_HEADER, queries.csv_rows)
    return render(
        "orders/list.html",
        "orders/_results.html",
        args=args,
        results=queries.list_page(args),
        counts=queries.tab_counts(args),
        link=url_builder("orders.list_orders", request.args),
        statuses=queries.STATUSES,
        fulfilment_statuses=queries.FULFILMENT_STATUSES,
        products=queries.product_choices(),
        vendors=queries.vendor_choices(),
        sort_labels=queries.SORT_LABELS,
        query_string=urlencode(list(request.args.items(multi=True))),
    )


@bp.post("/bulk")
def bulk():
    """Cancel pending orders (admin) or export (everyone) — on the ticked rows or on the whole filter."""
    form = BulkForm()
    listing = url_for(".list_orders")
    back = safe_next(listing + ("?" + form.filter.data if form.filter.data else "")) or listing
    if not form.validate():
        flash(first_error(form), "error")
        return redirect(back, 303)
    args = queries.parse_order_args(MultiDict(parse_qs(form.filter.data or "")))
    ids = db_ids(request.form.getlist("ids"))
    if form.scope.data == "selected" and not ids:
        flash("Tick at least one order first.", "error")
        return redirect(back, 303)
    if form.action.data == "export":
        return _bulk_export(form.filter.data or "", ids if form.scope.data == "selected" else None)
    if form.action.data == "invoice":
        return _bulk_invoice(args, ids if form.scope.data == "selected" else None, back)
    require_role("admin")
    if not (form.reason.data or "").strip():
        flash("Give a reason for cancelling: it is kept in each order's history.", "error")
        return redirect(back, 303)
    if form.scope.data == "filter":
        ids = queries.ids_matching(args, status=OrderStatus.PENDING, limit=BULK_LIMIT + 1)
    result = bulk_cancel(ids[:BULK_LIMIT], actor=actor(), reason=form.reason.data.strip())
    summary = result.summary("Cancelled")
    if len(ids) > BULK_LIMIT:
        summary += f" More than {BULK_LIMIT} matched: run it again for the rest."
    flash(summary, "success" if result.changed else "error")
    return redirect(back, 303)


def _bulk_invoice(args, ids: list[int] | None, back: str):
    """Issue the missing invoices of paid orders (finance), on the ticked rows or the whole filter."""
    require_role("finance")
    if ids is None:
        ids = queries.ids_matching(args, without_invoice=True, limit=BULK_LIMIT + 1)
    result = bulk_issue_invoices(
        ids[:BULK_LIMIT], actor=actor(), issue=issue_invoice, refused=(InvoiceError, IllegalTransition)
    )
    summary = result.summary("Invoiced")
    if len(ids) > BULK_LIMIT:
        summary += f" More than {BULK_LIMIT} matched: run it again for the rest."
    flash(summary, "success" if result.changed else "error")
    return redirect(back, 303)


def _bulk_export(query_string: str, ids: list[int] | None):
    if ids is None:  # the whole filter: the list's own CSV export of that URL
        pairs = [(k, v) for k, v in parse_qsl(query_string) if k not in ("after", "before", "format")]
        return redirect(url_for(".list_orders") + "?" + urlencode([*pairs, ("format", "csv")]), 303)
    args = queries.parse_order_args(MultiDict())
    args.extra["ids"] = ids
    return filtered_csv("orders-selected", args, queries.CSV_HEADER, queries.csv_rows)


# ---------------------------------------------------------------- detail


def detail_context(order, **forms) -> dict:
    next_fulfilment = sorted(FULFILMENT.next_states(order.fulfilment_status))
    fulfilment = forms.get("fulfilment_form") or FulfilmentForm(formdata=None)
    fulfilment.status.choices = [(s, s.replace("_", " ")) for s in next_fulfilment]
    return {
        "order": order,
        "events": queries.timeline(order),
        "cancel_form": forms.get("cancel_form") or CancelForm(formdata=None),
        "status_form": forms.get("status_form") or StatusForm(formdata=None).offer(order.next_statuses),
        "fulfilment_form": fulfilment,
        "delete_form": forms.get("delete_form") or DeleteForm(formdata=None),
        "can_cancel": order.status == OrderStatus.PENDING,
        "can_fulfil": bool(next_fulfilment) and order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED),
        "can_delete": order.status == OrderStatus.PENDING and not order.payments and order.invoice is None,
        "can_sync": bool(order.gateway_order_id),
        "is_admin": current_user.has_role("admin"),
        "is_finance": current_user.has_role("finance"),
    }


@bp.get("/<int:order_id>")
def order_detail(order_id: int):
    order = queries.order_detail(order_id) or gone_or_404("order", order_id)
    return render("orders/detail.html", "orders/_detail.html", **detail_context(order))


def _outcome(order_id: int, status: int, message: str, **forms):
    order = require_found(queries.order_detail(order_id))
    return answer(
        "orders/detail.html",
        "orders/_detail.html",
        status=status,
        message=message,
        success_url=url_for(".order_detail", order_id=order_id),
        context=detail_context(order, **forms),
    )


# ---------------------------------------------------------------- actions


@bp.route("/<int:order_id>/cancel", methods=["PATCH", "POST"])
def cancel(order_id: int):
    """Cancel a pending order (admin; a reason is required)."""
    require_role("admin")
    form = CancelForm()
    if not form.validate():
        return _outcome(order_id, 422, first_error(form), cancel_form=form)
    try:
        order = cancel_order(order_id, actor=actor(), reason=form.reason.data.strip())
    except OrderNotFound:
        abort(404)
    except IllegalTransition as exc:
        return _outcome(order_id, 409, f"Only pending orders can be cancelled ({exc}).")
    return _outcome(order_id, 200, f"Order {order.number} cancelled.")


@bp.post("/<int:order_id>/status")
def change_order_status(order_id: int):
    """Move an order to a legal next status with a reason (admin)."""
    require_role("admin")
    order = require_found(queries.order_detail(order_id))
    form = StatusForm().offer(order.next_statuses)
    if not form.validate():
        return _outcome(order_id, 422, first_error(form), status_form=form)
    try:
        order = change_status(order_id, form.status.data, actor=actor(), reason=form.reason.data.strip())
    except IllegalTransition as exc:
        return _outcome(order_id, 409, str(exc).capitalize() + ".")
    return _outcome(order_id, 200, f"Order {order.number} is now {order.status.replace('_', ' ')}.")


@bp.post("/<int:order_id>/fulfilment")
def update_fulfilment(order_id: int):
    """Move a paid order's physical goods along unfulfilled → processing → shipped → delivered (admin)."""
    require_role("admin")
    order = require_found(queries.order_detail(order_id))
    form = FulfilmentForm()
    form.status.choices = [(s, s) for s in sorted(FULFILMENT.next_states(order.fulfilment_status))]
    if not form.validate():
        return _outcome(order_id, 422, first_error(form) if form.status.choices else "Nothing left to fulfil.")
    try:
        advance_fulfilment(order_id, form.status.data, actor=actor(), reason=(form.reason.data or "").strip())
    except IllegalTransition as exc:
        return _outcome(order_id, 409, str(exc).capitalize() + ".")
    return _outcome(order_id, 200, f"Fulfilment is now {form.status.data}.")


@bp.route("/<int:order_id>", methods=["DELETE"])
@bp.post("/<int:order_id>/delete")
def delete(order_id: int):
    """Delete a pending order that has no payments (admin; confirmation required)."""
    require_role("admin")
    form = DeleteForm()
    if not form.validate():
        return _outcome(order_id, 422, first_error(form), delete_form=form)
    try:
        number = delete_order(order_id, actor=actor(), reason="deleted from the admin portal")
    except OrderNotFound:
        abort(404)
    except OrderNotDeletable as exc:
        return _outcome(order_id, 409, str(exc))
    flash(f"Order {number} deleted.", "success")
    target = url_for(".list_orders")
    return hx_redirect(target) if is_partial() else redirect(target, 303)


@bp.post("/<int:order_id>/sync")
def sync(order_id: int):
    """Fetch the order's payments from the gateway and apply what changed (finance)."""
    require_role("finance")
    try:
        report = sync_order(order_id, actor=actor())
    except LookupError:
        abort(404)
    return _outcome(order_id, *sync_outcome(report))
