from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.inputs import IdField


class IssueInvoiceForm(FlaskForm):
    order_id = IdField("Order id", validators=[InputRequired()])
    draft = BooleanField("Save as a draft (no number yet) to review the billing details first")


class BillingForm(FlaskForm):
    # Format rules (GSTIN, state required, lengths) live in services._clean_buyer, shared with every caller.
    name = StringField("Buyer name", validators=[Length(max=120)])
    email = EmailField("Email", validators=[Optional(), Length(max=255)])
    address = TextAreaField("Address", validators=[Length(max=500)])
    state = StringField("State (place of supply)", validators=[Length(max=60)])
    gstin = StringField("GSTIN (optional)", validators=[Length(max=15)])
    reason = StringField("Reason for the change", validators=[Length(max=200)])


class VoidForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired(message="A reason is required."), Length(max=255)])


class ActionForm(FlaskForm):
    """No fields: the CSRF token of a one-button action (issue, regenerate, delete)."""


class CreditNoteForm(FlaskForm):
    refund_id = IdField("Refund id", validators=[InputRequired()])
