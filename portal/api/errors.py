"""The API's one error shape, and the translation of domain exceptions into it."""

from __future__ import annotations

from flask import current_app
from werkzeug.exceptions import HTTPException

from portal.errors import discard_session, error_body, with_error_headers
from portal.gateway import GatewayRejected, GatewayUnavailable
from portal.orders.pricing import InvalidItems
from portal.orders.services import IdempotencyConflict, OrderNotFound
from portal.statemachine import IllegalTransition


class ApiError(Exception):
    """Raised by API code to answer `{"error": {"code", "message", "details"}}` with `status`."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


def not_found(what: str = "order") -> ApiError:
    # Another customer's order answers exactly like an unknown one: its existence is not revealed.
    return ApiError(404, f"{what}_not_found", f"No such {what}.")


def register(bp) -> None:
    """Error handlers for the API blueprint: every failure becomes the one JSON error shape."""

    @bp.errorhandler(ApiError)
    def _api(error: ApiError):
        response = error_body(error.code, error.message, error.status, error.details)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        if "retry_after" in error.details:
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response

    @bp.errorhandler(InvalidItems)
    def _items(error: InvalidItems):
        return error_body("invalid_items", str(error), 422, error.details)

    @bp.errorhandler(OrderNotFound)
    def _missing(_error):
        error = not_found()
        return error_body(error.code, error.message, 404)

    @bp.errorhandler(IllegalTransition)
    def _state(error: IllegalTransition):
        details = {"current": error.current, "target": error.target}
        message = f"The {error.machine} is {error.current}; that is not possible now."
        return error_body("illegal_state", message, 409, details)

    @bp.errorhandler(IdempotencyConflict)
    def _idempotency(error: IdempotencyConflict):
        return error_body("idempotency_conflict", str(error), 409, {"order_id": error.order_id})

    @bp.errorhandler(GatewayUnavailable)
    def _gateway_down(error: GatewayUnavailable):
        if error.outcome_known:
            message = "The payment gateway is not reachable right now; nothing was sent. Please try again shortly."
        else:  # sent, no answer: e.g. a capture that may have gone through
            message = (
                "The payment gateway did not answer in time, so the outcome is not known yet. "
                "Calling again is safe: it answers with what the gateway settled."
            )
        return error_body("gateway_unavailable", message, 503, {"outcome_known": error.outcome_known})

    @bp.errorhandler(GatewayRejected)
    def _gateway_no(error: GatewayRejected):
        return error_body("gateway_rejected", f"The payment gateway refused the request: {error}", 502)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_").replace("'", "")
        return with_error_headers(error_body(code, error.description or error.name, error.code or 500), error)

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception):
        current_app.logger.exception("unhandled API error")
        discard_session()
        return error_body("internal_error", "Something went wrong on our side; nothing was changed.", 500)
