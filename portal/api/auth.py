"""Bearer-token authentication and the rate-limit key for the API."""

from __future__ import annotations

from datetime import timedelta

from flask import request
from flask_limiter.util import get_remote_address

from portal.api.errors import ApiError
from portal.auth.services import resolve_token
from portal.extensions import db
from portal.timeutil import utcnow

_TOKEN_KEY = "portal.api_token"  # noqa: S105 (an environ key name, not a secret)


def presented_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_token():
    """The valid ApiToken record of this request, or None (looked up once per request)."""
    # Cached on the request, not on `g`: an app context (and its `g`) can outlive one request.
    if _TOKEN_KEY not in request.environ:
        request.environ[_TOKEN_KEY] = resolve_token(presented_token())
    return request.environ[_TOKEN_KEY]


def current_customer():
    token = current_token()
    return token.user if token is not None else None


def require_customer() -> None:
    """401 without a valid token; 403 for a staff token (this API serves customers)."""
    token = current_token()
    if token is None:
        message = "A valid bearer token is required." if presented_token() else "Sign in: send a bearer token."
        raise ApiError(401, "unauthorized", message)
    if not token.user.is_customer:
        raise ApiError(403, "forbidden", "This API is for customer accounts.")
    _touch(token)


LAST_USED_RESOLUTION = timedelta(minutes=5)


def _touch(token) -> None:
    """Record when the token was last used, to five minutes: a write per request buys ops nothing."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()


def rate_limit_key() -> str:
    """Per token for a valid token; per client address otherwise (so junk tokens share one bucket)."""
    token = current_token()
    return f"token:{token.id}" if token is not None else f"ip:{get_remote_address()}"
