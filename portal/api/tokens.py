"""`/api/v1/auth/token`: sign in for a bearer token, and revoke it."""

from __future__ import annotations

from flask import Blueprint, request

from portal.api.auth import current_token, require_customer
from portal.api.errors import ApiError
from portal.api.openapi import responses, spec
from portal.api.schemas import RevokedResponse, TokenRequest, TokenResponse
from portal.api.serializers import aware
from portal.auth.services import InvalidCredentials, issue_token, revoke_token, sign_in
from portal.auth.throttle import SignInThrottled

bp = Blueprint("api_tokens", __name__, url_prefix="/api/v1/auth")


@bp.post("/token")
@spec.validate(json=TokenRequest, resp=responses(200, TokenResponse, 415), tags=["auth"], security=[])
def issue(json: TokenRequest):
    """Sign in with a customer's email and password; answers a bearer token and its expiry."""
    try:
        user = sign_in(json.email, json.password, address=request.remote_addr, staff=False)
    except SignInThrottled as exc:
        raise ApiError(429, "too_many_requests", str(exc), {"retry_after": exc.retry_after}) from None
    except InvalidCredentials:
        raise ApiError(401, "invalid_credentials", "Wrong email or password.") from None
    raw, token = issue_token(user)
    return TokenResponse(data={"token": raw, "expires_at": aware(token.expires_at)})


@bp.delete("/token")
@spec.validate(resp=responses(200, RevokedResponse, 403), tags=["auth"])
def revoke():
    """Revoke the bearer token this request presents."""
    require_customer()
    revoke_token(current_token().token_id)
    return RevokedResponse(data={"revoked": True})
