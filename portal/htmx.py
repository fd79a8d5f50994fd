"""Everything that knows about HX-* headers lives here (on top of htmx-flask)."""

from __future__ import annotations

import json

from flask import make_response, render_template, request


def is_partial() -> bool:
    """True only for htmx requests that swap a fragment (not boosted, not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(page: str, partial: str, status: int = 200, **context):
    """Render the whole page, or just the swap target for htmx; responses vary on HX-Request."""
    response = make_response(render_template(partial if is_partial() else page, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect(location: str):
    """A client-side redirect that htmx follows with a full page load."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = location
    return response


def trigger(response, event: str, detail=None):
    """Fire a client-side event (e.g. to show a toast) once the swap is done."""
    existing = _triggers(response.headers.get("HX-Trigger", ""))
    existing[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(existing)
    return response


def _triggers(header: str) -> dict:
    """HX-Trigger is either JSON or comma-separated event names; read both."""
    header = header.strip()
    if header.startswith("{"):
        return json.loads(header)
    return {name.strip(): True for name in header.split(",") if name.strip()}


SWAP_REFUSAL = "X-Swap-Refusal"  # read by static/js/app.js (htmx:beforeSwap)


def swap_refusal(response):
    """Let htmx swap this 4xx answer into its target like a success: the refusal is the component itself,
    re-rendered with its message and the values typed (htmx otherwise swaps no error response, and app.js
    shows it as a page-level alert)."""
    if response.status_code >= 400:
        response.headers[SWAP_REFUSAL] = "1"
    return response
