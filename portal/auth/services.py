"""Users, passwords and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal.auth.models import ApiToken, Role, User, hash_token
from portal.auth.throttle import login_throttle
from portal.extensions import db
from portal.timeutil import utcnow

# A real hash to compare against when the email is unknown, so timing does not reveal accounts.
_DUMMY = User(password_hash="")
_DUMMY.set_password(secrets.token_hex(8))


class InvalidCredentials(Exception):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def upsert_user(email: str, password: str, role: str, name: str = "", **fields) -> tuple[User, bool]:
    """Create the user, or update role and password of an existing one. Commits."""
    Role(role)  # raises ValueError for an unknown role
    if len(password) < 8:
        raise ValueError("password must be at least 8 characters")
    user = find_user(email)
    created = user is None
    if created:
        user = User(email=normalise_email(email), name=name or email.split("@")[0].title(), role=role)
        db.session.add(user)
    user.role = role
    user.set_password(password)
    for key, value in fields.items():
        setattr(user, key, value)
    db.session.commit()
    return user, created


def authenticate(email: str, password: str, *, staff: bool | None = None) -> User:
    """The active user with this email and password (optionally only staff or only customers)."""
    user = find_user(email)
    if user is None:
        _DUMMY.check_password(password)
        raise InvalidCredentials
    if not user.check_password(password) or not user.active:
        raise InvalidCredentials
    if staff is not None and user.is_staff != staff:
        raise InvalidCredentials
    return user


def sign_in(email: str, password: str, *, address: str, staff: bool) -> User:
    """`authenticate` behind the failed-sign-in throttle (portal and API alike).

    Raises SignInThrottled, before any password is checked, while the account or the client address has
    used up its failures; a wrong password counts against both and raises InvalidCredentials.
    """
    throttle, account = login_throttle(), normalise_email(email)
    throttle.check(account, address)
    try:
        return authenticate(email, password, staff=staff)
    except InvalidCredentials:
        throttle.record_failure(account, address)
        raise


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.commit()


def issue_token(user: User, ttl: timedelta | None = None) -> tuple[str, ApiToken]:
    """A new bearer token; only its SHA-256 is stored. Commits."""
    raw = "rpt_" + secrets.token_urlsafe(32)
    hours = current_app.config["API_TOKEN_TTL_HOURS"]
    token = ApiToken(
        user=user, token_hash=hash_token(raw), prefix=raw[:8], expires_at=utcnow() + (ttl or timedelta(hours=hours))
    )
    db.session.add(token)
    db.session.commit()
    return raw, token


def resolve_token(raw: str) -> ApiToken | None:
    """The valid token record for a presented bearer token, or None."""
    if not raw:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None or not token.is_valid or not token.user.active:
        return None
    return token


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = utcnow()
    db.session.commit()
