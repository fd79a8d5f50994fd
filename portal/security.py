"""Security headers on every response, and the guards every request's input passes first."""

from __future__ import annotations

from flask.json.provider import DefaultJSONProvider

from portal.inputs import DbIntConverter, loads_json

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "frame-src 'self'; base-uri 'self'; object-src 'none'"
)


def register_security_headers(app) -> None:
    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies through `loads_json`: a body nested deeper than MAX_JSON_DEPTH
    is unreadable JSON like any other — `get_json()` answers 400 (None when silent), never a RecursionError."""

    def loads(self, s, **kwargs):
        return loads_json(s, **kwargs)


def register_input_guards(app) -> None:
    """Bound what requests can carry before any view sees it.

    - `<int:…>` in every route is DbIntConverter: a path id the database cannot compare with is a 404
      (must run before the blueprints register their rules: converters are bound as rules are added).
    - JSON bodies are read with a nesting bound (BoundedJSONProvider).
    - NUL characters anywhere in the query, form or JSON body are refused with a 400: PostgreSQL text
      cannot hold NUL, so one would otherwise surface as a 500 deep in a write — and SQLite would store
      it silently. No legitimate form, query or JSON field carries one.
    """
    from flask import abort, request

    app.url_map.converters["int"] = DbIntConverter
    app.json = BoundedJSONProvider(app)

    @app.before_request
    def _reject_nul():
        fields = [*request.args.values(), *request.form.values()]
        body = request.get_json(silent=True) if request.is_json else None
        if any(_has_nul(v) for v in fields) or _has_nul(body):
            abort(400, description="The request contains a NUL character, which no field accepts.")
