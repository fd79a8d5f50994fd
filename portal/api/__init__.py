"""The customer JSON API (`/api/v1`): bearer tokens, orders, checkout, OpenAPI. See docs/api.md."""

from __future__ import annotations

from flask import request

BODY_METHODS = ("POST", "PUT", "PATCH")


def init_app(app) -> None:
    """Register the API blueprints (CSRF-exempt: bearer tokens, no cookies) and the `orders` CLI group."""
    from portal.api import errors
    from portal.api.orders import bp as orders_bp
    from portal.api.tokens import bp as tokens_bp
    from portal.auth import token_cache
    from portal.extensions import csrf
    from portal.orders.cli import orders_cli

    token_cache.init_app(app)

    for blueprint in (tokens_bp, orders_bp):
        if blueprint.name not in app.blueprints:
            _register_once(blueprint, errors)
            csrf.exempt(blueprint)
            app.register_blueprint(blueprint)
    app.cli.add_command(orders_cli)


def _register_once(blueprint, errors) -> None:
    # Blueprints are module-level and may be registered on several apps (tests); handlers once.
    if not getattr(blueprint, "_api_errors", False):
        errors.register(blueprint)
        blueprint.before_request(refuse_non_json_body)
        blueprint._api_errors = True


def refuse_non_json_body() -> None:
    """415 for a body that is not JSON, before any validation or view sees it.

    The API reads JSON only. Without this, a form or multipart body (`curl -d` sends one) skips the
    JSON schema — the validator checks form bodies against the form schema, and our views have none —
    and the view receives nothing to work with. An empty body without a Content-Type is left alone
    (a bare PATCH or DELETE); its validation answers as usual.
    """
    from portal.api.errors import ApiError

    if request.method not in BODY_METHODS or request.is_json:
        return
    if request.mimetype or request.content_length or request.headers.get("Transfer-Encoding"):
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the request body as JSON, with Content-Type: application/json.",
            {"content_type": request.mimetype[:100]},
        )
