"""Users, passwords and API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth.models import ApiToken, Role, User, hash_token
from portal.auth.throttle import login_throttle
from portal.auth.token_cache import TokenGrant, token_cache
from portal.extensions import db
from portal.timeutil import utcnow

# A real hash to compare against when the email is unknown, so timing does not reveal accounts.
# Only the hash: a User instance here would configure every mapper before all models are imported.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method="scrypt")


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
    if not created:
        tokens_changed()  # the role or `active` may have changed: cached token look-ups must not outlive it
    return user, created


def authenticate(email: str, password: str, *, staff: bool | None = None) -> User:
    """The active user with this email and password (optionally only staff or only customers)."""
    user = find_user(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
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
    """The valid token record for a presented bearer token, or None (one statement: the user is joined)."""
    if not raw:
        return None
    query = select(ApiToken).where(ApiToken.token_hash == hash_token(raw)).options(joinedload(ApiToken.user))
    token = db.session.scalar(query)
    if token is None or not token.is_valid or not token.user.active:
        return None
    return token


def token_grant(raw: str) -> TokenGrant | None:
    """What a request may do with a presented bearer token, or None when it is unknown, revoked or expired.

    Served from the per-process token cache when there is one (no SQL; see portal/auth/token_cache.py for
    why a revocation is never late), else from the database. Expiry is checked on every call.
    """
    if not raw:
        return None
    cache, digest = token_cache(), hash_token(raw)
    marker = _revocation_marker(cache)
    grant = cache.get(digest, marker) if marker is not _NO_CACHE else None
    if grant is None:
        grant = _grant_from_database(raw)
        if grant is not None and marker is not _NO_CACHE:
            cache.put(digest, grant, marker)
    return None if grant is None or grant.is_expired else grant


_NO_CACHE = object()  # no cache, or its revocation marker cannot be read: ask the database


def _revocation_marker(cache):
    if cache is None:
        return _NO_CACHE
    try:
        return cache.marker()
    except redis.RedisError:
        current_app.logger.warning("token cache: Redis does not answer; reading tokens from the database")
        return _NO_CACHE


def _grant_from_database(raw: str) -> TokenGrant | None:
    token = resolve_token(raw)
    if token is None:
        return None
    return TokenGrant(token.id, token.user_id, token.user.is_customer, token.expires_at, token.last_used_at)


LAST_USED_RESOLUTION = timedelta(minutes=5)


def touch_token(raw: str, grant: TokenGrant) -> None:
    """Record when the token was last used, to five minutes: a write per request buys ops nothing. Commits.

    The UPDATE is conditional, so workers whose cached view is stale do not move it more often."""
    now = utcnow()
    if grant.last_used_at is not None and now - grant.last_used_at < LAST_USED_RESOLUTION:
        return
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == grant.token_id)
        .where(or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_RESOLUTION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if (cache := token_cache()) is not None:
        cache.touched(hash_token(raw), now)


def revoke_token(token_id: int) -> None:
    """Revoke a token at once, in every process (the token cache's marker moves after the commit). Commits."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    tokens_changed()


def tokens_changed() -> None:
    """After a commit that revokes tokens or changes what their users may do: no cache may answer for them."""
    cache = token_cache()
    if cache is None:
        return
    try:
        cache.revoked()
    except redis.RedisError:
        # Committed, but other workers cannot be told: their entries live at most API_TOKEN_CACHE_SECONDS.
        current_app.logger.exception("token cache: the revocation marker could not be moved")
