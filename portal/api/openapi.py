"""OpenAPI generation and request/response validation (spectree over the pydantic schemas)."""

from __future__ import annotations

from flask import current_app, request
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from portal.api.errors import ApiError
from portal.api.schemas import ErrorResponse

_COMMON_ERRORS = (400, 401, 404, 429)


def responses(ok_status: int = 200, ok_model=None, *errors: int) -> Response:
    """A spectree Response with the success model and every error status this route can answer."""
    codes = {f"HTTP_{ok_status}": ok_model}
    for status in sorted({*_COMMON_ERRORS, 422, *errors}):
        codes[f"HTTP_{status}"] = ErrorResponse
    return Response(**codes)


def _validation_details(error) -> list[dict]:
    return [
        {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"], "type": item["type"]}
        for item in error.errors(include_url=False, include_context=False)
    ]


def before_validation(req, _resp, error, _instance, _adapter) -> None:
    """Turn spectree's validation failure into our error shape: 400 unreadable JSON, 422 invalid."""
    if error is None:
        return
    has_body = req.method not in ("GET", "DELETE") and bool(req.get_data())
    if has_body and req.get_json(silent=True) is None:
        raise ApiError(400, "malformed_json", "The request body is not valid JSON.")
    raise ApiError(
        422, "validation_failed", "Some fields are missing or invalid.", {"fields": _validation_details(error)}
    )


def after_validation(_req, resp, error, _instance, _adapter) -> None:
    """A response that breaks its own schema is our bug: log it, and answer the one error shape."""
    if error is None:
        return
    current_app.logger.error("API response broke its schema on %s: %s", request.path, error)
    resp.set_data(
        b'{"error": {"code": "internal_error", "message": "Something went wrong on our side.", "details": {}}}'
    )
    resp.status_code = 500


spec = SpecTree(
    "flask",
    title="Customer API",
    version="1.0.0",
    description=(
        "JSON API for customers' apps: sign in for a bearer token, read the catalogue, place orders, pay "
        "through Razorpay and verify the payment. Amounts are integers in the currency's minor unit."
    ),
    mode="strict",
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    before=before_validation,
    after=after_validation,
    page_templates={},
    annotations=True,
    validation_error_status=422,
    validation_error_model=ErrorResponse,
    security_schemes=[
        SecurityScheme(
            name="bearerAuth", data=SecuritySchemeData(type="http", scheme="bearer", bearer_format="opaque token")
        )
    ],
    security={"bearerAuth": []},
)
