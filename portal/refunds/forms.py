"""Refund forms, and the context the create form (`refunds/_create_form.html`) needs wherever it is included."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask import current_app, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.inputs import IdField
from portal.money import InvalidAmount, parse_amount
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.redirects import safe_next
from portal.refunds.lines import remaining_quantities
from portal.refunds.reasons import NOTES_REQUIRED_FOR, REFUND_REASONS
from portal.refunds.services import MAX_NOTES
from portal.refunds.settlement import refundable_amounts

REASON_CHOICES = [("", "Choose a reason…"), *REFUND_REASONS.items()]
LINE_PREFIX = "qty-"


def notes_required_for_reason(form, field) -> None:
    """A reason that only the notes explain ("Other") refuses empty notes, at every step (review and save).

    The notes field has no Optional(): it would end the chain on empty notes and clear this error."""
    if form.reason.data in NOTES_REQUIRED_FOR and not (field.data or "").strip():
        raise ValidationError("Explain the reason in the notes.")


def new_form_token() -> str:
    """One per rendered confirmation: submitting it twice creates one refund."""
    return "rft_" + secrets.token_hex(16)


class RefundForm(FlaskForm):
    """POST /admin/refunds and /admin/refunds/confirm. `amount` in rupees as typed; empty = all that remains.
    Quantities per order line come as `qty-<item id>` fields (see `lines()`)."""

    payment_id = IdField("Payment", validators=[InputRequired("Choose the payment to refund.")])
    # Which of the payment's orders the refund is for (a checkout's payment pays one order per vendor);
    # the order page sets it, empty = the payment's only order.
    order_id = IdField("Order", validators=[Optional()])
    mode = SelectField("Refund by", choices=[("amount", "Amount"), ("lines", "Order lines")], default="amount")
    amount = StringField("Amount (₹)", validators=[Optional(), Length(max=20)])
    reason = SelectField("Reason", choices=REASON_CHOICES, validators=[DataRequired("Choose a reason.")])
    notes = TextAreaField("Notes", validators=[notes_required_for_reason, Length(max=MAX_NOTES)])
    form_token = HiddenField()
    next = HiddenField()

    def amount_minor(self) -> int | None:
        """The typed amount in paise, None when empty; raises InvalidAmount."""
        text = (self.amount.data or "").strip()
        return parse_amount(text) if text else None

    def lines(self) -> list[dict] | None:
        """[{"item_id", "quantity"}] from the qty-<id> fields when refunding by line, else None."""
        if self.mode.data != "lines":
            return None
        lines = []
        for name, value in request.form.items():
            if name.startswith(LINE_PREFIX) and value.strip():
                item_id, quantity = name[len(LINE_PREFIX) :], value.strip()
                if not (item_id.isdigit() and quantity.isdigit()):
                    raise InvalidAmount("Quantities must be whole numbers.")
                lines.append({"item_id": int(item_id), "quantity": int(quantity)})
        return lines


class EditRefundForm(FlaskForm):
    reason = SelectField("Reason", choices=REASON_CHOICES, validators=[DataRequired("Choose a reason.")])
    notes = TextAreaField("Notes", validators=[notes_required_for_reason, Length(max=MAX_NOTES)])


class ProcessRefundForm(FlaskForm):
    offline_reference = StringField("Reference of a refund made outside the gateway", validators=[Length(max=120)])


@dataclass
class PaymentChoice:
    payment: Payment
    refundable: int


@dataclass
class CreateFormContext:
    """What `_create_form.html` shows: the order, its refundable payments, lines left, the chosen values."""

    order: Order | None
    payments: list[PaymentChoice]
    remaining: dict[int, int] = field(default_factory=dict)
    selected_payment_id: int | None = None
    form: RefundForm | None = None

    @property
    def refundable(self) -> bool:
        return any(choice.refundable > 0 for choice in self.payments)

    def choice(self, payment_id: int | None) -> PaymentChoice | None:
        return next((c for c in self.payments if c.payment.id == payment_id), None)


def form_context_for(
    order: Order | None = None, payment: Payment | None = None, form: RefundForm | None = None, next_url: str = ""
) -> CreateFormContext:
    """Context for the create form on an order page, a payment page or /admin/refunds/new.

    Templates call it as the `refund_form_for(order=..., payment=...)` global, so a page that includes
    `refunds/_create_form.html` needs nothing from its view.
    """
    order = order or (payment.order if payment is not None else None)
    form = form or RefundForm(formdata=None)
    if order is None:
        return CreateFormContext(None, [], form=form)
    payments = sorted(order.payments, key=lambda p: p.id)  # usually already loaded by the page
    # Each payment's refundable share of this order (a checkout's payment paid other vendors' orders too).
    left = refundable_amounts(payments, order.id)
    choices = [PaymentChoice(p, left[p.id]) for p in payments if p.is_settled]
    selected = payment.id if payment is not None else next((c.payment.id for c in choices if c.refundable), None)
    if form.payment_id.data is None:
        form.payment_id.data = selected
    if form.order_id.data is None:
        form.order_id.data = order.id
    form.next.data = safe_next(form.next.data) or next_url or _page_of(order, payment)
    return CreateFormContext(order, choices, remaining_quantities(order), form.payment_id.data, form)


def _page_of(order: Order, payment: Payment | None) -> str:
    """Where to come back after the refund: the payment's or the order's page (not the URL of whatever
    request rendered the form, which may be an action)."""
    views = current_app.view_functions
    if payment is not None and "payments.payment_detail" in views:
        return url_for("payments.payment_detail", payment_id=payment.id)
    if "orders.order_detail" in views:
        return url_for("orders.order_detail", order_id=order.id)
    return url_for("refunds.list_refunds", q=order.number)
