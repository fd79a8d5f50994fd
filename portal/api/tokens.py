"""`/api/v1/auth/token`: sign in for a bearer token, and revoke it."""

from __future__ import annotations

from flask import Blueprint, current_app

from portal.api.auth import current_token, require_customer
from portal.api.errors import ApiError
from portal.api.openapi import responses, spec
from portal.api.schemas import RevokedResponse, TokenRequest, TokenResponse
from portal.api.serializers import aware
from portal.auth.services import InvalidCredentials, authenticate, issue_token, revoke_token
from portal.extensions import limiter

bp = Blueprint("api_tokens", __name__, url_prefix="/api/v1/auth")
# Password guessing is limited per client address, whatever token is (or is not) presented.
limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])(bp)


@bp.post("/token")
@spec.validate(json=TokenRequest, resp=responses(200, TokenResponse, 415), tags=["auth"], security=[])
def issue(json: TokenRequest):
    """Sign in with a customer's email and password; answers a bearer token and its expiry."""
    try:
        user = authenticate(json.email, json.password, staff=False)
    except InvalidCredentials:
        raise ApiError(401, "invalid_credentials", "Wrong email or password.") from None
    raw, token = issue_token(user)
    return TokenResponse(data={"token": raw, "expires_at": aware(token.expires_at)})


@bp.delete("/token")
@spec.validate(resp=responses(200, RevokedResponse, 403), tags=["auth"])
def revoke():
    """Revoke the bearer token this request presents."""
    require_customer()
    revoke_token(current_token())
    return RevokedResponse(data={"revoked": True})
