"""Admin refunds: list, detail, create (form → confirmation → refund), process, edit, delete."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import select

from portal.admin.actions import actor, first_error, require_found
from portal.auth.decorators import role_required, staff_blueprint_guard
from portal.extensions import db
from portal.history.deleted import gone_or_404
from portal.htmx import is_partial, render
from portal.htmx import redirect as hx_redirect
from portal.inputs import db_int
from portal.listing import display_count, filtered_csv, url_builder
from portal.money import InvalidAmount, format_money
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.redirects import safe_next
from portal.refunds import queries
from portal.refunds.errors import InvalidRefund, RefundError, RefundNotSent
from portal.refunds.forms import (
    EditRefundForm,
    ProcessRefundForm,
    RefundForm,
    form_context_for,
    new_form_token,
)
from portal.refunds.models import Refund
from portal.refunds.reasons import reason_label
from portal.refunds.services import (
    create_refund,
    delete_refund,
    edit_refund,
    preview_refund,
    process_refund,
)
from portal.refunds.status import RefundStatus
from portal.vendors.scope import guard_objects

bp = Blueprint("refunds", __name__, url_prefix="/admin/refunds")
staff_blueprint_guard(bp, vendors=True)  # vendors: refunds of their own orders only (queries, guard_objects)
guard_objects(bp, refund_id=lambda refund_id: select(Refund.order_id).where(Refund.id == refund_id))


def init_app(app) -> None:
    from portal.refunds.auto import refund_late_payment

    app.register_blueprint(bp)
    hooks = app.extensions.setdefault("payment_hooks", [])
    if refund_late_payment not in hooks:
        hooks.append(refund_late_payment)
    app.jinja_env.globals.update(refund_form_for=form_context_for, refund_reason_label=reason_label)


# ---------------------------------------------------------------- list and detail


@bp.get("")
def list_refunds():
    args = queries.parse_refund_args(request.args)
    if request.args.get("format") == "csv":
        return filtered_csv("refunds", args, queries.CSV_HEADER, queries.csv_rows)
    return render(
        "refunds/list.html",
        "refunds/_results.html",
        args=args,
        results=queries.list_page(args),
        counts=queries.tab_counts(args),
        link=url_builder("refunds.list_refunds", request.args),
        statuses=queries.STATUSES,
        display_count=display_count,
    )


def _detail_context(refund: Refund) -> dict:
    return {
        "refund": refund,
        "history": queries.refund_history(refund),
        "edit_form": EditRefundForm(formdata=None, obj=refund),
        "process_form": ProcessRefundForm(formdata=None),
    }


@bp.get("/<int:refund_id>")
def refund_detail(refund_id: int):
    refund = queries.refund_detail(refund_id) or gone_or_404("refund", refund_id)
    return render("refunds/detail.html", "refunds/_detail.html", **_detail_context(refund))


# ---------------------------------------------------------------- create: form → confirmation → refund


def _form_page(form: RefundForm, *, status: int = 200, step: str = "form", preview=None, error: str = ""):
    payment = db.session.get(Payment, form.payment_id.data) if form.payment_id.data else None
    # The order the form is for: a checkout's payment has no order of its own (it paid one per vendor).
    order = db.session.get(Order, form.order_id.data) if form.order_id.data else None
    ctx = form_context_for(order=order, payment=payment, form=form)
    return render(
        "refunds/new.html",
        "refunds/_create_form.html",
        status,
        refund_ctx=ctx,
        refund_step=step,
        refund_preview=preview,
        refund_error=error,
    )


@bp.get("/new")
@role_required("finance")
def new_refund():
    """The create form for ?payment_id= or ?order_id= (its first payment with money left)."""
    payment = db.session.get(Payment, db_int(request.args.get("payment_id")) or 0)
    order = db.session.get(Order, db_int(request.args.get("order_id")) or 0)
    if payment is None and order is None:
        abort(404, description="Open a refund from an order or a captured payment.")
    form = RefundForm(formdata=None)
    form.next.data = safe_next(request.args.get("next")) or ""
    ctx = form_context_for(order=order, payment=payment, form=form)
    return render("refunds/new.html", "refunds/_create_form.html", refund_ctx=ctx, refund_step="form")


def _read_request(form: RefundForm) -> tuple[int | None, list | None]:
    if not form.validate():
        raise InvalidAmount(first_error(form))
    return form.amount_minor(), form.lines()


@bp.post("/confirm")
@role_required("finance")
def confirm_refund():
    """Check the request and show what will be refunded and what will remain refundable; nothing moves yet."""
    form = RefundForm()
    try:
        amount, lines = _read_request(form)
        preview = preview_refund(form.payment_id.data, amount=amount, lines=lines, order_id=form.order_id.data)
    except (InvalidAmount, RefundError) as exc:
        return _form_page(form, status=getattr(exc, "status", 422), error=str(exc))
    form.form_token.data = new_form_token()
    return _form_page(form, step="confirm", preview=preview)


def _created_message(refund: Refund) -> tuple[str, str]:
    """What a create or a resend tells staff; a refund the gateway did not take is a 503 (RefundNotSent)."""
    what = f"Refund #{refund.id} of {format_money(refund.amount, refund.currency)}"
    if refund.status == RefundStatus.PENDING and not refund.was_sent:
        raise RefundNotSent(
            f"{what} is saved as pending but the gateway is not answering, so it was not confirmed. "
            "It stays pending: send it again with “Process” on the refund's page once the gateway is back "
            "(the same idempotency key goes with it, so it can never be refunded twice)."
        )
    if refund.status == RefundStatus.PROCESSED:
        return f"{what} processed ({refund.gateway_refund_id or refund.offline_reference}).", "success"
    if refund.status == RefundStatus.FAILED:
        return f"{what} was refused by the gateway: {refund.failure_reason}", "error"
    return f"{what} sent to the gateway; it settles when the gateway confirms it.", "success"


@bp.post("")
@role_required("finance")
def create():
    """POST /admin/refunds: payment_id, amount (rupees, empty = all that remains) or qty-<item> lines, reason."""
    form = RefundForm()
    try:
        amount, lines = _read_request(form)
        refund = create_refund(
            form.payment_id.data,
            amount=amount,
            reason=form.reason.data,
            notes=form.notes.data or "",
            actor=actor(),
            form_token=form.form_token.data or None,
            lines=lines,
            order_id=form.order_id.data,
        )
        message, tone = _created_message(refund)
    except (InvalidAmount, RefundError) as exc:
        return _form_page(form, status=getattr(exc, "status", 422), error=str(exc))
    flash(message, tone)
    target = safe_next(form.next.data) or url_for(".refund_detail", refund_id=refund.id)
    return hx_redirect(target) if is_partial() else redirect(target, 303)


# ---------------------------------------------------------------- actions on one refund


def _act(refund_id: int, action):
    """Run `action` (→ (message, tone)); answer with the refreshed detail partial (HTMX) or flash + redirect;
    a refusal answers its status with the page or the partial and the reason."""
    require_found(db.session.get(Refund, refund_id))
    try:
        message, tone = action()
        status = 200
    except RefundError as exc:
        status, message, tone = exc.status, str(exc), "error"
    db.session.expire_all()
    refund = queries.refund_detail(refund_id)
    if status < 400 and not is_partial():
        flash(message, tone)
        return redirect(url_for(".refund_detail", refund_id=refund_id), 303)
    context = _detail_context(refund)
    return render("refunds/detail.html", "refunds/_detail.html", status, message=message, tone=tone, **context)


@bp.route("/<int:refund_id>/process", methods=["PATCH", "POST"])
@role_required("finance")
def process(refund_id: int):
    """Send an unsent or failed refund again, or record one made outside the gateway (`offline_reference`)."""
    form = ProcessRefundForm()

    def run():
        if not form.validate():
            raise InvalidRefund(first_error(form))
        reference = (form.offline_reference.data or "").strip() or None
        return _created_message(process_refund(refund_id, actor=actor(), offline_reference=reference))

    return _act(refund_id, run)


@bp.route("/<int:refund_id>", methods=["PATCH"])
@bp.route("/<int:refund_id>/edit", methods=["PATCH", "POST"])  # url_for builds this one: HTMX PATCHes it
@role_required("finance")
def edit(refund_id: int):
    """Change the reason and notes only."""
    form = EditRefundForm()

    def run():
        if not form.validate():
            raise InvalidRefund(first_error(form))
        edit_refund(refund_id, reason=form.reason.data, notes=form.notes.data or "", actor=actor())
        return "Reason and notes saved.", "success"

    return _act(refund_id, run)


@bp.route("/<int:refund_id>", methods=["DELETE"])
@bp.post("/<int:refund_id>/delete")
@role_required("admin")
def delete(refund_id: int):
    """Delete a pending refund that was never sent (admin only)."""
    require_found(db.session.get(Refund, refund_id))
    try:
        order_id = delete_refund(refund_id, actor=actor())
    except RefundError as exc:
        refusal = exc

        def refuse():
            raise refusal

        return _act(refund_id, refuse)
    flash(f"Refund #{refund_id} deleted.", "success")
    target = safe_next(request.form.get("next")) or url_for(".list_refunds", q=_order_number(order_id))
    return hx_redirect(target) if is_partial() else redirect(target, 303)


def _order_number(order_id: int) -> str:
    order = db.session.get(Order, order_id)
    return order.number if order else ""
