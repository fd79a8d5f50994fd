"""Customers' opt-out of non-transactional messages, and the signed unsubscribe link that sets it.

Non-transactional kinds (shipping and delivery updates, payment-failed reminders) carry an unsubscribe link;
receipts, refunds and cancellations are transactional and always go (see docs/notifications.md, "Messages").
The link's token is the user's id and email signed with SECRET_KEY (itsdangerous), so it needs no table and no
sign-in, and stops working when the address changes. It does not expire: an old message's link must still work.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from portal.auth.models import User
from portal.dbutil import for_update
from portal.extensions import db
from portal.timeutil import utcnow

SALT = "notifications.unsubscribe"


class BadUnsubscribeToken(ValueError):
    """The link was altered, signed with another key, or names a user who no longer has that address."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "e": user.email})


def unsubscribe_url(user: User) -> str:
    """The absolute link (PUBLIC_BASE_URL) a non-transactional message carries."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/notifications/unsubscribe/{unsubscribe_token(user)}"


def user_for_token(token: str) -> User:
    """The user a token names; BadUnsubscribeToken for anything else."""
    try:
        data = _serializer().loads(token)
    except BadSignature as exc:
        raise BadUnsubscribeToken("This unsubscribe link is not valid.") from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or user.email != data.get("e"):
        raise BadUnsubscribeToken("This unsubscribe link is not valid.")
    return user


def wants_updates(user: User | None) -> bool:
    """Whether a customer receives non-transactional messages (no user, e.g. a staff address: yes)."""
    return user is None or user.updates_opted_out_at is None


def set_updates(user_id: int, wanted: bool) -> User:
    """Opt a user in or out of non-transactional messages. Commits; idempotent (the first opt-out time stays)."""
    try:
        user = db.session.scalar(for_update(select(User).where(User.id == user_id)))
        if user is None:
            raise LookupError(f"user {user_id}")
        if not wanted and user.updates_opted_out_at is None:
            user.updates_opted_out_at = utcnow()
        elif wanted:
            user.updates_opted_out_at = None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return user


def unsubscribe(token: str) -> User:
    """Apply an unsubscribe link: the user it names stops receiving non-transactional messages. Commits."""
    return set_updates(user_for_token(token).id, False)


def init_app(app) -> None:
    """The customer-facing links (unsubscribe, pay) that messages carry, and the API's /me/preferences."""
    from portal.notifications import api, links

    links.init_app(app)
    api.init_app(app)
