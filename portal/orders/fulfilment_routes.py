"""The order page's fulfilment panel: accept / reject an order awaiting its vendor, move its goods along,
record a return. Routes on the orders blueprint (imported by its init_app).

Each action is a real form (POST + CSRF): HTMX swaps `#order-fulfilment` (templates/orders/_fulfilment.html)
with the answer, success or refusal; without JavaScript a success redirects to the order page (303) and a
refusal shows the page with its status. Admins, finance and the order's own vendor act here (another
vendor's order answers 404); refused moves answer 409, bad input 422, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.admin.actions import actor, first_error
from portal.auth.decorators import role_required
from portal.catalog.models import SHIPPED_KINDS, Product
from portal.extensions import db
from portal.htmx import is_partial, render, swap_refusal
from portal.orders import queries
from portal.orders.fulfilment import FulfilmentError, Outcome, accept_order, advance, reject_order
from portal.orders.fulfilment_forms import RETURN_PREFIX, AdvanceForm, RejectForm, ReturnForm, returned_units
from portal.orders.returns import record_return, returnable
from portal.orders.routes import bp, detail_context
from portal.orders.services import FULFILLABLE, OrderNotFound, TrackingRequired
from portal.orders.status import FULFILMENT, FulfilmentStatus
from portal.statemachine import IllegalTransition
from portal.vendors.scope import require_order_access

# Steps the "next step" form offers: approval and the return have their own forms.
OWN_FORMS = frozenset(
    {FulfilmentStatus.RETURNED, FulfilmentStatus.REJECTED, FulfilmentStatus.UNFULFILLED, FulfilmentStatus.NOT_REQUIRED}
)


@dataclass
class Panel:
    """What templates/orders/_fulfilment.html shows for one order and the signed-in user."""

    order: object
    can_act: bool
    awaiting: bool
    steps: list[str]
    returnable: dict[int, int]
    stock: dict[int, int | None] = field(default_factory=dict)  # product id → units in stock (None: unlimited)
    forms: dict = field(default_factory=dict)

    @property
    def advance_form(self) -> AdvanceForm:
        return self.forms.get("advance") or AdvanceForm(formdata=None).offer(self.steps)

    @property
    def reject_form(self) -> RejectForm:
        return self.forms.get("reject") or RejectForm(formdata=None)

    @property
    def return_form(self) -> ReturnForm:
        return self.forms.get("return") or ReturnForm(formdata=None)

    @property
    def return_prefix(self) -> str:
        return RETURN_PREFIX


def may_act() -> bool:
    """Admins, finance and vendors' staff (scoped to their own orders by require_order_access)."""
    return current_user.is_authenticated and (current_user.is_vendor or current_user.has_role("finance"))


@bp.app_template_global("fulfilment_panel")
def fulfilment_panel(order, forms: dict | None = None) -> Panel:
    paid = order.status in FULFILLABLE
    steps = sorted(s for s in FULFILMENT.next_states(order.fulfilment_status) if s not in OWN_FORMS)
    returns = returnable(order) if FULFILMENT.can(order.fulfilment_status, FulfilmentStatus.RETURNED) else {}
    return Panel(
        order=order,
        can_act=paid and may_act(),
        awaiting=order.fulfilment_status == FulfilmentStatus.AWAITING_VENDOR,
        steps=steps if paid else [],
        returnable=returns if paid else {},
        stock=_stock(order),
        forms=forms or {},
    )


def _stock(order) -> dict[int, int | None]:
    """The stock of the order's goods now (one query), shown beside each line: a return's effect is visible."""
    ids = {item.product_id for item in order.items if item.product_id and item.kind in SHIPPED_KINDS}
    if not ids:
        return {}
    return dict(db.session.execute(select(Product.id, Product.stock).where(Product.id.in_(ids))).all())


def _order(order_id: int):
    order = queries.order_detail(order_id)
    require_order_access(order)  # 404 for an unknown order and for another vendor's
    return order


def _answer(order_id: int, status: int, message: str, **forms):
    """The panel (HTMX) or, without JavaScript, a redirect (success) / the whole page (refusal)."""
    if status < 400 and not is_partial():
        flash(message, "success")
        return redirect(url_for(".order_detail", order_id=order_id), 303)
    order = _order(order_id)
    context = {
        "fulfilment_message": message,
        "fulfilment_tone": "success" if status < 400 else "error",
        "fulfilment_forms": forms,
    }
    if is_partial():
        return swap_refusal(
            render("orders/_fulfilment.html", "orders/_fulfilment.html", status, order=order, **context)
        )
    return render("orders/detail.html", "orders/_detail.html", status, **detail_context(order), **context)


def _refused(exc: Exception) -> str:
    message = str(exc)
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _done(order_id: int, message: str, outcome: Outcome | None = None):
    if outcome and outcome.problems:
        message += " The refund could not be made: " + " ".join(outcome.problems) + " Make it from the order page."
    elif outcome and outcome.refunds:
        message += f" {len(outcome.refunds)} refund(s) created."
    return _answer(order_id, 200, message)


@bp.post("/<int:order_id>/fulfilment/accept")
@role_required("finance", vendors=True)
def accept(order_id: int):
    """Accept an order awaiting its vendor (the vendor's staff, finance or admin)."""
    _order(order_id)
    try:
        order = accept_order(order_id, actor=actor())
    except (IllegalTransition, OrderNotFound) as exc:
        return _answer(order_id, 409, _refused(exc))
    return _done(order_id, f"Order {order.number} accepted: {order.fulfilment_status.replace('_', ' ')}.")


@bp.post("/<int:order_id>/fulfilment/reject")
@role_required("finance", vendors=True)
def reject(order_id: int):
    """Reject an order awaiting its vendor with a reason: its stock returns, its share is refunded."""
    _order(order_id)
    form = RejectForm()
    if not form.validate():
        return _answer(order_id, 422, first_error(form), reject=form)
    try:
        outcome = reject_order(order_id, reason=form.reason.data, actor=actor())
    except FulfilmentError as exc:
        return _answer(order_id, 422, str(exc), reject=form)
    except IllegalTransition as exc:
        return _answer(order_id, 409, _refused(exc))
    return _done(order_id, f"Order {outcome.order.number} rejected.", outcome)


@bp.post("/<int:order_id>/fulfilment/advance")
@role_required("finance", vendors=True)
def advance_step(order_id: int):
    """Move the goods one step: processing, ready for shipment, shipped (carrier + tracking), delivered …"""
    order = _order(order_id)
    form = AdvanceForm().offer(fulfilment_panel(order).steps)
    if not form.validate():
        status = 422 if form.status.choices else 409
        return _answer(order_id, status, first_error(form) if form.status.choices else "Nothing to move.", advance=form)
    try:
        order = advance(
            order_id,
            form.status.data,
            actor=actor(),
            carrier=form.carrier.data,
            tracking_number=form.tracking_number.data,
            reason=form.note.data or "",
        )
    except (TrackingRequired, FulfilmentError) as exc:
        return _answer(order_id, 422, str(exc), advance=form)
    except IllegalTransition as exc:
        return _answer(order_id, 409, _refused(exc))
    return _done(order_id, f"Order {order.number} is now {order.fulfilment_status.replace('_', ' ')}.")


@bp.post("/<int:order_id>/fulfilment/return")
@role_required("finance", vendors=True)
def record_returned(order_id: int):
    """Record the units that came back (ret-<item id> fields): restocked, rental deposits refunded."""
    _order(order_id)
    form = ReturnForm()
    if not form.validate():
        return _answer(order_id, 422, first_error(form), **{"return": form})
    try:
        outcome = record_return(
            order_id,
            returned_units(request.form),
            actor=actor(),
            damages=form.damages_amount(),
            reason=form.reason.data or "",
            refund_goods=form.refund_goods.data,
        )
    except FulfilmentError as exc:
        return _answer(order_id, 422, str(exc), **{"return": form})
    except IllegalTransition as exc:
        return _answer(order_id, 409, _refused(exc))
    order = outcome.order
    return _done(
        order_id, f"Return recorded: order {order.number} is {order.fulfilment_status.replace('_', ' ')}.", outcome
    )
