"""`POST /webhooks/razorpay`, served by a small WSGI layer in front of the Flask app.

Razorpay's deliveries are the one hot path of the portal: a burst of thousands, where every answer
must be quick. The Flask request pipeline is built for browsers and apps (sessions, CSRF, login,
rate limits, HTMX, CSP) and none of it applies to a signed, CSRF-less, never rate-limited server
call, yet it cost the webhook about a sixth of its CPU. So this layer answers the delivery itself:
raw body → `services.ingest` (verify, store, then apply or enqueue) → JSON, inside an app context, and
hands every other request to Flask unchanged.
"""

from __future__ import annotations

import json

from werkzeug.datastructures import EnvironHeaders
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_input_stream

from portal.webhooks import services

PATH = "/webhooks/razorpay"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class WebhookEndpoint:
    """WSGI middleware: answers `POST /webhooks/razorpay`, passes everything else to `wrapped`."""

    def __init__(self, app, wrapped):
        self.app, self.wrapped = app, wrapped

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH:
            return self.wrapped(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            response = _json(405, _error("method_not_allowed", "Razorpay delivers webhooks with POST."))
            response.headers["Allow"] = "POST"
        else:
            response = self._deliver(environ)
        return response(environ, start_response)

    def _deliver(self, environ) -> Response:
        body = get_input_stream(environ, safe_fallback=False).read(services.MAX_BODY_BYTES + 1)
        with self.app.app_context():
            try:
                result = services.ingest(body, EnvironHeaders(environ), mode=self.app.config["WEBHOOK_PROCESSING"])
            except services.Rejected as exc:
                return _json(400, _error(exc.reason, str(exc)))
            except Exception:  # the store itself failed: nothing is ours yet, so Razorpay must retry
                self.app.logger.exception("webhook delivery not stored")
                return _json(500, _error("internal_error", "The event was not stored; deliver it again."))
        return _json(200, {"status": result.status})


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "details": {}}}


def _json(status: int, payload: dict) -> Response:
    return Response(json.dumps(payload), status, mimetype="application/json", headers=HEADERS)
