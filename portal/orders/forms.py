"""Admin forms for order actions. CSRF is checked globally by CSRFProtect (form field or X-CSRFToken
header, so HTMX requests pass too); these forms only validate their own fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.orders.status import FulfilmentStatus

REASON = [DataRequired(message="Give a reason: it is kept in the order's history."), Length(max=500)]


class _NoCsrf(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has already checked the request


class CancelForm(_NoCsrf):
    reason = StringField("Reason for cancelling", validators=REASON)


class StatusForm(_NoCsrf):
    status = SelectField("New status", choices=[], validate_choice=True)
    reason = TextAreaField("Reason", validators=REASON)

    def offer(self, statuses: list[str]) -> StatusForm:
        """Only the legal next statuses are offered (and accepted)."""
        self.status.choices = [(s, s.replace("_", " ")) for s in statuses]
        return self


class FulfilmentForm(_NoCsrf):
    status = SelectField("Fulfilment", choices=[(s.value, s.value.replace("_", " ")) for s in FulfilmentStatus])
    reason = StringField("Note (tracking number, courier…)", validators=[Length(max=500)])


class DeleteForm(_NoCsrf):
    confirm = BooleanField("Yes, delete this order permanently", validators=[DataRequired("Tick the box to confirm.")])


class BulkForm(_NoCsrf):
    action = SelectField(
        "Action",
        choices=[("cancel", "Cancel pending orders"), ("export", "Export CSV"), ("invoice", "Issue missing invoices")],
    )
    scope = SelectField("Apply to", choices=[("selected", "Selected rows"), ("filter", "Every order the filter shows")])
    reason = StringField("Reason (for cancelling)", validators=[Length(max=500)])
    filter = HiddenField()  # the list's query string, for scope=filter
