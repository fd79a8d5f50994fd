"""The links customers follow from their messages (no sign-in: each carries a token signed with SECRET_KEY).

`/notifications/pay/<token>`: opens the order's Razorpay payment link — the open one, or a new one when it has
expired — so an "order placed" or "payment failed" message never carries a dead gateway link. A paid, cancelled
or expired order shows a page saying so.

`/notifications/unsubscribe/<token>`: GET shows what the link would do and a confirm button (mail scanners that
follow links must not unsubscribe anyone); POST, with the page's CSRF token, applies it.

A bad token answers a 400 page, a gateway outage a 503 page: never a 500.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template
from flask_wtf import FlaskForm

from portal.extensions import db
from portal.gateway import GatewayError
from portal.notifications.catalogue import order_from_pay_token
from portal.notifications.preferences import BadUnsubscribeToken, unsubscribe, user_for_token
from portal.orders.models import Order

bp = Blueprint("notifications_links", __name__, url_prefix="/notifications")


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the choice is the button."""


@bp.get("/pay/<token>")
def pay(token: str):
    """Send the customer to the order's payment link (created or renewed at the gateway when needed)."""
    from portal.orders.checkout import ensure_payment_link

    order_id = order_from_pay_token(token)
    order = db.session.get(Order, order_id) if order_id is not None else None
    if order is None:
        return _invalid("This payment link is not valid.")
    if not order.is_payable:
        return render_template("notifications/pay_closed.html", order=order)
    try:
        order = ensure_payment_link(
            order.id, callback_url=current_app.config["PUBLIC_BASE_URL"] + "/payments/razorpay/callback"
        )
    except GatewayError:
        current_app.logger.warning("pay link: gateway trouble for order %s", order_id, exc_info=True)
        return render_template("notifications/pay_closed.html", order=order, unavailable=True), 503
    # The gateway's own short URL, stored by ensure_payment_link: not user input, so no safe-redirect check.
    return redirect(order.payment_link_url, 303)


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    """Ask before opting out."""
    try:
        user = user_for_token(token)
    except BadUnsubscribeToken as exc:
        return _invalid(str(exc))
    return render_template("notifications/unsubscribe.html", user=user, token=token, form=ConfirmForm(), done=False)


@bp.post("/unsubscribe/<token>")
def apply(token: str):
    """Opt the link's customer out of non-transactional messages (CSRF checked by CSRFProtect)."""
    try:
        user = unsubscribe(token)
    except BadUnsubscribeToken as exc:
        return _invalid(str(exc))
    return render_template("notifications/unsubscribe.html", user=user, token=token, form=None, done=True)


def _invalid(message: str):
    return render_template("notifications/link_invalid.html", message=message), 400


def init_app(app) -> None:
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
