"""Error pages for the portal and JSON error bodies for the API and gateway endpoints."""

from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.history.deleted import EntityDeleted

JSON_PREFIXES = ("/api/", "/webhooks/", "/v1/")


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json"


def error_body(code: str, message: str, status: int, details: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return _render(400, "csrf_failed", "The form expired or was not sent from this site. Reload and try again.")

    @app.errorhandler(EntityDeleted)
    def _deleted(error: EntityDeleted):
        if wants_json():
            return error_body("deleted", error.description, 410)
        return render_template("history/deleted.html", error=error), 410

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        return with_error_headers(_render(error.code or 500, code, error.description or error.name), error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        discard_session()
        return _render(500, "internal_error", "Something went wrong on our side; nothing was changed.")


def discard_session() -> None:
    """Roll back what the failed request left in the session: "nothing was changed" must hold, and a
    PostgreSQL transaction aborted by the error would fail every later statement — the error page's own."""
    from portal.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone: the page renders without it
        db.session.remove()


def with_error_headers(response, error: HTTPException):
    """Keep the headers the exception carries (405's `Allow`, 401's `WWW-Authenticate`, 429's `Retry-After`):
    a handler that renders its own body would otherwise drop them."""
    response = make_response(response)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _render(status: int, code: str, message: str):
    if wants_json():
        return error_body(code, message, status)
    return render_template("error.html", status=status, message=message), status
