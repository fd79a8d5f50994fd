"""Admin pages and actions for invoices and credit notes (/admin/invoices).

Roles: viewers read and download; finance issues, edits billing details, regenerates, voids, deletes drafts
and issues credit notes (admin holds every finance right).
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal import htmx
from portal.auth.decorators import require_role, staff_blueprint_guard
from portal.history.services import Actor, history_of
from portal.invoices import queries, services
from portal.invoices.credit_notes import credit_note_pdf, issue_credit_note
from portal.invoices.forms import ActionForm, BillingForm, CreditNoteForm, IssueInvoiceForm, VoidForm
from portal.invoices.models import CreditNote, Invoice
from portal.invoices.numbering import NumberFormatError
from portal.invoices.pdf import PdfUnavailable
from portal.invoices.queries import InvoiceFilter
from portal.statemachine import IllegalTransition
from portal.timeutil import local_date
from portal.vendors.scope import guard_objects

bp = Blueprint("invoices", __name__, url_prefix="/admin/invoices")
staff_blueprint_guard(bp, vendors=True)  # vendors: invoices of their own orders only (queries, guard_objects)
guard_objects(
    bp,
    invoice_id=lambda invoice_id: select(Invoice.order_id).where(Invoice.id == invoice_id),
    note_id=lambda note_id: select(Invoice.order_id).join(CreditNote).where(CreditNote.id == note_id),
)

REFUSALS = {IllegalTransition: 409, NumberFormatError: 422, PdfUnavailable: 503}


def init_app(app) -> None:
    """Blueprint, `flask invoices` CLI group, payment/refund hooks and the settings with defaults."""
    from portal.invoices import hooks
    from portal.invoices.cli import invoices_cli

    app.register_blueprint(bp)
    app.add_template_filter(_invoice_date, "invoice_date")
    app.cli.add_command(invoices_cli)
    hooks.register(app)


def _invoice_date(moment) -> str:
    """The date printed on the document: the business's local day (TIMEZONE), e.g. '01 Apr 2026'."""
    return local_date(moment).strftime("%d %b %Y") if moment else "—"


def _actor() -> Actor:
    return Actor.user(current_user)


def _status_of(exc: Exception) -> int | None:
    if isinstance(exc, services.InvoiceError):
        return exc.status
    return next((status for kind, status in REFUSALS.items() if isinstance(exc, kind)), None)


def _detail_page(invoice_id: int, status: int = 200, error: str = "", billing: BillingForm | None = None):
    invoice = services.get_invoice(invoice_id)
    if billing is None:
        billing = BillingForm(formdata=None, data=invoice.buyer or {})
    context = {
        "invoice": invoice,
        "history": history_of(invoice, *invoice.credit_notes),
        "billing": billing,
        "void_form": VoidForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "credit_form": CreditNoteForm(formdata=None),
        "pdf_outdated": services.pdf_is_outdated(invoice),
        "replacement": _replacement(invoice),
        "error": error,
    }
    return render_template("invoices/detail.html", **context), status


def _replacement(invoice):
    """For a void invoice: the order's current (draft or issued) invoice that replaced it, if any."""
    if invoice.status != "void":
        return None
    current = invoice.order.invoice
    return current if current is not None and current.id != invoice.id else None


def _to_detail(result) -> str:
    return url_for(".detail", invoice_id=result.id)


def _act(invoice_id: int | None, action, message: str, success_url=_to_detail, billing: BillingForm | None = None):
    """Run one service call; success → redirect with a flash, refusal → the page with the reason and status."""
    try:
        result = action()
    except Exception as exc:
        status = _status_of(exc)
        if status is None:
            raise
        if isinstance(exc, services.InvoiceNotFound):
            return _missing()
        if invoice_id is None:
            return _list_page(status, str(exc))
        return _detail_page(invoice_id, status, str(exc), billing)
    flash(message.format(result=result), "success")
    target = success_url(result)
    return htmx.redirect(target) if htmx.is_partial() else redirect(target)


@bp.errorhandler(services.InvoiceNotFound)
def _missing(_exc=None):
    return render_template("error.html", status=404, message="No such invoice."), 404


def _list_page(status: int = 200, error: str = ""):
    f = InvoiceFilter.from_args(request.args)
    invoices, has_next = queries.list_invoices(f)
    form = IssueInvoiceForm(formdata=None)
    return htmx.render(
        "invoices/list.html", "invoices/_table.html", status, invoices=invoices, has_next=has_next, f=f,
        issue_form=form, error=error,
    )  # fmt: skip


@bp.get("")
def list_invoices():
    if request.args.get("format") == "csv":
        response = make_response(queries.invoices_csv(InvoiceFilter.from_args(request.args)))
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        response.headers["Content-Disposition"] = "attachment; filename=invoices.csv"
        return response
    return _list_page()


@bp.post("")
def create():
    require_role("finance")
    form = IssueInvoiceForm()
    if not form.validate_on_submit():
        return _list_page(422, "Give the id of a paid order.")
    issue = not form.draft.data
    return _act(
        None,
        lambda: services.create_invoice(form.order_id.data, actor=_actor(), issue=issue),
        "Invoice {result.number} issued." if issue else "Draft invoice created; review it and issue it.",
    )


@bp.get("/<int:invoice_id>")
def detail(invoice_id: int):
    return _detail_page(invoice_id)


def _pdf_response(filename: str, data: bytes, checksum: str | None, inline: bool):
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-cache"
    if checksum:
        response.headers["ETag"] = f'"{checksum}"'
        response.headers["X-Checksum-SHA256"] = checksum
    if inline:  # framed by our own detail page; everything else keeps DENY
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _invoice_pdf(invoice_id: int, inline: bool):
    try:
        filename, data, checksum = services.pdf_bytes(invoice_id)
    except PdfUnavailable as exc:
        return render_template("error.html", status=503, message=str(exc)), 503
    return _pdf_response(filename, data, checksum, inline)


@bp.get("/<int:invoice_id>/download")
def download(invoice_id: int):
    return _invoice_pdf(invoice_id, inline=False)


@bp.get("/<int:invoice_id>/pdf")
def inline_pdf(invoice_id: int):
    return _invoice_pdf(invoice_id, inline=True)


@bp.route("/<int:invoice_id>/regenerate-pdf", methods=["PATCH", "POST"])
def regenerate(invoice_id: int):
    require_role("finance")
    ActionForm()  # CSRF is checked globally; the form documents the field
    return _act(
        invoice_id, lambda: services.regenerate_pdf(invoice_id, actor=_actor()), "PDF regenerated ({result.number})."
    )


@bp.route("/<int:invoice_id>/issue", methods=["PATCH", "POST"])
def issue(invoice_id: int):
    require_role("finance")
    return _act(invoice_id, lambda: services.issue_draft(invoice_id, actor=_actor()), "Invoice {result.number} issued.")


@bp.route("/<int:invoice_id>/void", methods=["PATCH", "POST"])
def void(invoice_id: int):
    require_role("finance")
    form = VoidForm()
    if not form.validate_on_submit():
        return _detail_page(invoice_id, 422, "A reason is required to void an invoice.")
    reason = form.reason.data
    return _act(
        invoice_id,
        lambda: services.void_invoice(invoice_id, actor=_actor(), reason=reason),
        "Invoice {result.number} voided; its number stays used. The order can be invoiced again (new number).",
    )


@bp.route("/<int:invoice_id>/billing", methods=["PATCH", "POST"])
def edit_billing(invoice_id: int):
    require_role("finance")
    form = BillingForm()
    values = {name: getattr(form, name).data for name in services.BUYER_FIELDS}
    if not form.validate_on_submit():
        message = "; ".join(f"{name}: {', '.join(errs)}" for name, errs in form.errors.items())
        return _detail_page(invoice_id, 422, message or "Check the billing details.", form)
    return _act(
        invoice_id,
        lambda: services.edit_billing(invoice_id, values, actor=_actor(), reason=form.reason.data or ""),
        "Billing details saved. Regenerate the PDF to print them.",
        billing=form,
    )


@bp.route("/<int:invoice_id>", methods=["DELETE", "POST"])
def delete(invoice_id: int):
    require_role("finance")
    return _act(
        invoice_id,
        lambda: services.delete_draft(invoice_id, actor=_actor()),
        "Draft deleted; the order can be invoiced again.",
        success_url=lambda _order_id: url_for(".list_invoices"),
    )


@bp.post("/credit-notes")
def create_credit_note():
    require_role("finance")
    form = CreditNoteForm()
    if not form.validate_on_submit():
        return _list_page(422, "Give the id of a processed refund.")
    return _act(
        None,
        lambda: issue_credit_note(form.refund_id.data, actor=_actor()),
        "Credit note {result.number} issued.",
        success_url=lambda note: url_for(".detail", invoice_id=note.invoice_id),
    )


@bp.get("/credit-notes/<int:note_id>/download")
def download_credit_note(note_id: int):
    try:
        filename, data, checksum = credit_note_pdf(note_id)
    except services.InvoiceError:
        return render_template("error.html", status=404, message="No such credit note."), 404
    except PdfUnavailable as exc:
        return render_template("error.html", status=503, message=str(exc)), 503
    return _pdf_response(filename, data, checksum, inline=False)
