"""Forms of the order page's fulfilment panel (templates/orders/_fulfilment.html). CSRF is checked globally
by CSRFProtect (form field or X-CSRFToken header); these forms validate their own fields only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.money import InvalidAmount, parse_amount
from portal.orders.services import CARRIER_MAX, TRACKING_MAX

RETURN_PREFIX = "ret-"  # a return's units per line: ret-<order item id>


class _NoCsrf(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has already checked the request


class RejectForm(_NoCsrf):
    reason = StringField(
        "Reason for rejecting",
        validators=[DataRequired("Give a reason: the customer is told why."), Length(max=500)],
    )


class AdvanceForm(_NoCsrf):
    status = SelectField("Next step", choices=[], validate_choice=True)
    carrier = StringField("Carrier", validators=[Optional(), Length(max=CARRIER_MAX)])
    tracking_number = StringField("Tracking number", validators=[Optional(), Length(max=TRACKING_MAX)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])

    def offer(self, steps: list[str]) -> AdvanceForm:
        self.status.choices = [(s, s.replace("_", " ")) for s in steps]
        return self

    def validate_tracking_number(self, field) -> None:
        if self.status.data == "shipped" and not ((self.carrier.data or "").strip() and (field.data or "").strip()):
            raise ValidationError("Give the carrier and the tracking number to mark the order shipped.")


class ReturnForm(_NoCsrf):
    damages = StringField("Damages kept from the deposit (₹)", validators=[Optional(), Length(max=20)])
    reason = StringField("Reason (damages)", validators=[Optional(), Length(max=500)])
    refund_goods = BooleanField("Refund the returned goods")

    def damages_amount(self) -> int:
        """The damages in minor units (0 when empty). Raises InvalidAmount."""
        text = (self.damages.data or "").strip()
        return parse_amount(text) if text else 0

    def validate_damages(self, field) -> None:
        try:
            self.damages_amount()
        except InvalidAmount as exc:
            raise ValidationError(str(exc)) from None


def returned_units(form_data) -> dict[str, str]:
    """{item id (text): units (text)} from the ret-<id> fields that were filled in."""
    return {
        key.removeprefix(RETURN_PREFIX): value
        for key, value in form_data.items()
        if key.startswith(RETURN_PREFIX) and str(value).strip() not in ("", "0")
    }
