"""Role checks for staff routes."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.extensions import login_manager


def require_role(minimum: str, *, vendors: bool = False) -> None:
    """Abort unless the signed-in staff user holds `minimum` or a higher role — or, with `vendors`, is a
    vendor's staff user (the view then shows and acts on that vendor's own data only: portal.vendors.scope)."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if vendors and current_user.is_vendor:
        return
    if not current_user.has_role(minimum):
        abort(403, description=f"This needs the {minimum} role.")


def role_required(minimum: str, *, vendors: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            require_role(minimum, vendors=vendors)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def staff_blueprint_guard(blueprint, minimum: str = "viewer", *, vendors: bool = False) -> None:
    """Every route of an admin blueprint needs at least `minimum` (views may ask for more); with `vendors`,
    vendors' staff pass too (every view of such a blueprint must scope what it shows: portal.vendors.scope)."""

    @blueprint.before_request
    def _guard():
        require_role(minimum, vendors=vendors)
