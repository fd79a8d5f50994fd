"""Admin forms for payment actions (CSRF is checked globally by CSRFProtect, header or field)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length


class _NoCsrf(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has already checked the request


class CaptureForm(_NoCsrf):
    confirm = BooleanField("Yes, capture this payment", validators=[DataRequired("Tick the box to confirm.")])


class PaymentStatusForm(_NoCsrf):
    status = SelectField("New status", choices=[], validate_choice=True)
    reason = TextAreaField(
        "Reason", validators=[DataRequired("Give a reason: it is kept in the payment's history."), Length(max=500)]
    )

    def offer(self, statuses: list[str]) -> PaymentStatusForm:
        self.status.choices = [(s, s.replace("_", " ")) for s in statuses]
        return self


class DeletePaymentForm(_NoCsrf):
    confirm = BooleanField("Yes, delete this failed payment", validators=[DataRequired("Tick the box to confirm.")])
