"""The customer JSON API (`/api/v1`): bearer tokens, orders, checkout, OpenAPI. See docs/api.md."""

from __future__ import annotations


def init_app(app) -> None:
    """Register the API blueprints (CSRF-exempt: bearer tokens, no cookies) and the `orders` CLI group."""
    from portal.api import errors
    from portal.api.orders import bp as orders_bp
    from portal.api.tokens import bp as tokens_bp
    from portal.extensions import csrf
    from portal.orders.cli import orders_cli

    for blueprint in (tokens_bp, orders_bp):
        if blueprint.name not in app.blueprints:
            _register_errors_once(blueprint, errors)
            csrf.exempt(blueprint)
            app.register_blueprint(blueprint)
    app.cli.add_command(orders_cli)


def _register_errors_once(blueprint, errors) -> None:
    # Blueprints are module-level and may be registered on several apps (tests); handlers once.
    if not getattr(blueprint, "_api_errors", False):
        errors.register(blueprint)
        blueprint._api_errors = True
