"""Admin payments: list (filters, search, tabs, keyset pages, CSV), detail, capture, status, delete, sync."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from portal.admin.actions import actor, answer, first_error, require_found, sync_outcome
from portal.auth.decorators import require_role, staff_blueprint_guard
from portal.gateway.base import GatewayRejected, GatewayUnavailable, unavailable_message
from portal.history.deleted import gone_or_404
from portal.htmx import is_partial, render
from portal.htmx import redirect as hx_redirect
from portal.listing import filtered_csv, url_builder
from portal.payments import queries
from portal.payments.admin_services import (
    PaymentNotDeletable,
    PaymentNotFound,
    change_payment_status,
    delete_payment,
)
from portal.payments.forms import CaptureForm, DeletePaymentForm, PaymentStatusForm
from portal.payments.reconcile import sync_payment
from portal.payments.services import capture_payment
from portal.payments.status import PaymentStatus
from portal.statemachine import IllegalTransition
from portal.vendors.scope import current_vendor_id, guard_objects

bp = Blueprint("payments", __name__, url_prefix="/admin/payments")
staff_blueprint_guard(bp, vendors=True)  # vendors: payments of their own orders only (queries, guard_objects)
guard_objects(bp, payment_id=queries.payment_order_ids)


def init_app(app) -> None:
    app.register_blueprint(bp)


@bp.get("")
def list_payments():
    args = queries.parse_payment_args(request.args)
    if request.args.get("format") == "csv":
        return filtered_csv("payments", args, queries.CSV_HEADER, queries.csv_rows)
    return render(
        "payments/list.html",
        "payments/_results.html",
        args=args,
        results=queries.list_page(args),
        counts=queries.tab_counts(args),
        link=url_builder("payments.list_payments", request.args),
        statuses=queries.STATUSES,
        methods=queries.METHODS,
    )


def detail_context(payment, **forms) -> dict:
    # A checkout's payment paid several vendors' orders: a vendor's staff see only their own share and refunds
    # (and not the gateway's raw entity, which describes the whole purchase).
    vendor_id = current_vendor_id()
    own = (lambda order: order is not None and order.vendor_id == vendor_id) if vendor_id else (lambda order: True)
    return {
        "payment": payment,
        "allocations": [a for a in payment.allocations if own(a.order)],
        "refunds": [r for r in payment.refunds if vendor_id is None or own(r.order)],
        "events": queries.timeline(payment),
        "gateway_json": (
            json.dumps(payment.gateway_data, indent=2, sort_keys=True) if payment.gateway_data and not vendor_id else ""
        ),
        "capture_form": forms.get("capture_form") or CaptureForm(formdata=None),
        "status_form": forms.get("status_form") or PaymentStatusForm(formdata=None).offer(payment.next_statuses),
        "delete_form": forms.get("delete_form") or DeletePaymentForm(formdata=None),
        "can_capture": payment.status == PaymentStatus.AUTHORIZED,
        "can_delete": payment.status == PaymentStatus.FAILED and not payment.refunds and not payment.disputes,
        "can_sync": True,
        "is_admin": current_user.has_role("admin"),
        "is_finance": current_user.has_role("finance"),
    }


@bp.get("/<int:payment_id>")
def payment_detail(payment_id: int):
    payment = queries.payment_detail(payment_id) or gone_or_404("payment", payment_id)
    return render("payments/detail.html", "payments/_detail.html", **detail_context(payment))


def _outcome(payment_id: int, status: int, message: str, **forms):
    payment = require_found(queries.payment_detail(payment_id))
    return answer(
        "payments/detail.html",
        "payments/_detail.html",
        status=status,
        message=message,
        success_url=url_for(".payment_detail", payment_id=payment_id),
        context=detail_context(payment, **forms),
    )


@bp.post("/<int:payment_id>/capture")
def capture(payment_id: int):
    """Capture an authorized payment at the gateway (finance; confirmation required)."""
    require_role("finance")
    form = CaptureForm()
    if not form.validate():
        return _outcome(payment_id, 422, first_error(form), capture_form=form)
    try:
        payment = capture_payment(payment_id, actor=actor())
    except IllegalTransition as exc:
        return _outcome(payment_id, 409, f"Only authorized payments can be captured ({exc}).")
    except GatewayRejected as exc:
        return _outcome(payment_id, 409, f"The gateway refused the capture: {exc}")
    except GatewayUnavailable as exc:
        return _outcome(payment_id, 503, unavailable_message(exc, "capture"))
    except LookupError:
        abort(404)
    return _outcome(payment_id, 200, f"Payment {payment.gateway_payment_id} captured.")


@bp.post("/<int:payment_id>/status")
def change_status(payment_id: int):
    """Correct a payment's status to a legal next one, with a reason (admin)."""
    require_role("admin")
    payment = require_found(queries.payment_detail(payment_id))
    form = PaymentStatusForm().offer(payment.next_statuses)
    if not form.validate():
        return _outcome(payment_id, 422, first_error(form), status_form=form)
    try:
        payment = change_payment_status(payment_id, form.status.data, actor=actor(), reason=form.reason.data.strip())
    except IllegalTransition as exc:
        return _outcome(payment_id, 409, str(exc).capitalize() + ".")
    return _outcome(payment_id, 200, f"Payment is now {payment.status.replace('_', ' ')}.")


@bp.route("/<int:payment_id>", methods=["DELETE"])
@bp.post("/<int:payment_id>/delete")
def delete(payment_id: int):
    """Delete a failed payment without refunds or disputes (admin; confirmation required)."""
    require_role("admin")
    form = DeletePaymentForm()
    if not form.validate():
        return _outcome(payment_id, 422, first_error(form), delete_form=form)
    try:
        gateway_id = delete_payment(payment_id, actor=actor(), reason="deleted from the admin portal")
    except PaymentNotFound:
        abort(404)
    except PaymentNotDeletable as exc:
        return _outcome(payment_id, 409, str(exc))
    flash(f"Payment {gateway_id} deleted.", "success")
    target = url_for(".list_payments")
    return hx_redirect(target) if is_partial() else redirect(target, 303)


@bp.post("/<int:payment_id>/sync")
def sync(payment_id: int):
    """Fetch the payment (and its refunds) from the gateway and apply what changed (finance)."""
    require_role("finance")
    try:
        report = sync_payment(payment_id, actor=actor())
    except LookupError:
        abort(404)
    return _outcome(payment_id, *sync_outcome(report))
