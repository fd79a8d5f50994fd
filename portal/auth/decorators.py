"""Role checks for staff routes."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.extensions import login_manager


def require_role(minimum: str) -> None:
    """Abort unless the signed-in staff user holds `minimum` or a higher role."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not current_user.has_role(minimum):
        abort(403, description=f"This needs the {minimum} role.")


def role_required(minimum: str):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_role(minimum)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def staff_blueprint_guard(blueprint, minimum: str = "viewer") -> None:
    """Every route of an admin blueprint needs at least `minimum` (views may ask for more)."""

    @blueprint.before_request
    def _guard():
        require_role(minimum)
