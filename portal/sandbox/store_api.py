"""The demo storefront's client of the customer API: it signs in as the demo customer once per browser
session and calls the API over HTTP (in-process), exactly as a merchant's own app would."""

from __future__ import annotations

import requests
from flask import current_app, session

from portal.gateway.transport import TimeoutSession, WSGITransport

TOKEN_KEY = "sandbox_store_token"  # noqa: S105 (a session key name, not a secret)


class StoreError(Exception):
    pass


def api() -> tuple[requests.Session, str]:
    app = current_app._get_current_object()
    base = app.config["PUBLIC_BASE_URL"]
    http = TimeoutSession(10)
    http.mount(base, WSGITransport(lambda: app))
    return http, base + "/api/v1"


def call(method: str, path: str, headers_extra: dict | None = None, **kwargs) -> dict:
    """Call the customer API as the demo customer; signs in once per browser session."""
    http, base = api()
    token = session.get(TOKEN_KEY) or _sign_in(http, base)
    headers = {"Authorization": f"Bearer {token}", **(headers_extra or {})}
    response = http.request(method, base + path, headers=headers, **kwargs)
    if response.status_code == 401:
        session.pop(TOKEN_KEY, None)
    if response.status_code >= 400:
        error = response.json().get("error", {}) if response.content else {}
        raise StoreError(error.get("message") or f"the API answered {response.status_code}")
    return response.json()


def _sign_in(http: requests.Session, base: str) -> str:
    from portal.demo.seed import DEMO_CUSTOMER, DEMO_PASSWORD

    response = http.post(f"{base}/auth/token", json={"email": DEMO_CUSTOMER, "password": DEMO_PASSWORD})
    if response.status_code != 200:
        raise StoreError(f"cannot sign in as {DEMO_CUSTOMER}: run `flask demo seed` first")
    session[TOKEN_KEY] = response.json()["data"]["token"]
    return session[TOKEN_KEY]
