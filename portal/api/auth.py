"""Bearer-token authentication and the rate-limit key for the API."""

from __future__ import annotations

from flask import request
from flask_limiter.util import get_remote_address

from portal.api.errors import ApiError
from portal.auth.models import User
from portal.auth.services import token_grant, touch_token
from portal.extensions import db

_GRANT_KEY = "portal.api_token"


def presented_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def current_token():
    """The TokenGrant of this request's valid token, or None (looked up once per request)."""
    # Cached on the request, not on `g`: an app context (and its `g`) can outlive one request.
    if _GRANT_KEY not in request.environ:
        request.environ[_GRANT_KEY] = token_grant(presented_token())
    return request.environ[_GRANT_KEY]


def current_customer_id() -> int:
    """The signed-in customer's id (after `require_customer`): all that read-only endpoints need."""
    return current_token().user_id


def current_customer() -> User:
    """The signed-in customer's row, for the endpoints that act (one primary-key read, or none when the
    session already holds it)."""
    return db.session.get(User, current_customer_id())


def require_customer() -> None:
    """401 without a valid token; 403 for a staff token (this API serves customers)."""
    grant = current_token()
    if grant is None:
        message = "A valid bearer token is required." if presented_token() else "Sign in: send a bearer token."
        raise ApiError(401, "unauthorized", message)
    if not grant.is_customer:
        raise ApiError(403, "forbidden", "This API is for customer accounts.")
    touch_token(presented_token(), grant)


def rate_limit_key() -> str:
    """Per token for a valid token; per client address otherwise (so junk tokens share one bucket)."""
    grant = current_token()
    return f"token:{grant.token_id}" if grant is not None else f"ip:{get_remote_address()}"
