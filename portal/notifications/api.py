"""`/api/v1/me/preferences`: the signed-in customer reads and sets their message preferences (see docs/api.md).

The same bearer-token authentication, error shape, rate limit and OpenAPI description as the rest of the customer
API (portal/api); the one service is preferences.set_updates.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, StrictBool

from portal.api.auth import current_customer, current_customer_id, rate_limit_key, require_customer
from portal.api.openapi import responses, spec
from portal.extensions import limiter
from portal.notifications.preferences import set_updates, wants_updates

bp = Blueprint("api_preferences", __name__, url_prefix="/api/v1/me")
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(bp)
bp.before_request(require_customer)


class Preferences(BaseModel):
    updates: bool  # shipping/delivery updates and payment reminders; receipts and refunds always go
    updates_opted_out_at: datetime | None


class PreferencesResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"data": {"updates": False, "updates_opted_out_at": "2026-12-01T10:00:00Z"}}]}
    )
    data: Preferences


class PreferencesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"updates": False}]})
    updates: StrictBool


def _out(user) -> PreferencesResponse:
    stamp = user.updates_opted_out_at
    return PreferencesResponse(
        data=Preferences(updates=wants_updates(user), updates_opted_out_at=stamp.replace(tzinfo=UTC) if stamp else None)
    )


@bp.get("/preferences")
@spec.validate(resp=responses(200, PreferencesResponse), tags=["preferences"])
def read():
    """The caller's message preferences: `updates` false once they opted out of non-transactional messages."""
    return _out(current_customer())


@bp.patch("/preferences")
@spec.validate(json=PreferencesRequest, resp=responses(200, PreferencesResponse, 415), tags=["preferences"])
def update(json: PreferencesRequest):
    """Opt in (`updates: true`) or out (`false`) of shipping updates and payment reminders."""
    return _out(set_updates(current_customer_id(), json.updates))


def init_app(app) -> None:
    from portal.api import errors, refuse_non_json_body
    from portal.extensions import csrf

    if bp.name in app.blueprints:
        return
    if not getattr(bp, "_api_errors", False):  # module-level blueprint, several apps in tests: handlers once
        errors.register(bp)
        bp.before_request(refuse_non_json_body)
        bp._api_errors = True
    csrf.exempt(bp)
    app.register_blueprint(bp)
