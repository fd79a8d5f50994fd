"""Building the sandbox from the portal's configuration, and the small Flask app that serves it on its own
(in-process behind the gateway's transport, or over HTTP with `flask sandbox serve`)."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask

from portal.config import normalise_database_url
from portal.sandbox.service import Sandbox
from portal.sandbox.store import Store
from portal.sandbox.webhooks import Dispatcher

ROOT = Path(__file__).resolve().parents[2]
_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def database_url(config) -> str:
    url = config.get("SANDBOX_DATABASE_URL")
    if not url:  # a bare config (e.g. the standalone server built outside create_app)
        instance = Path(config.get("SANDBOX_INSTANCE_PATH") or ROOT / "instance")
        instance.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{instance / 'sandbox.sqlite'}"
    return normalise_database_url(url)


def shared_store(url: str) -> Store:
    """One Store (engine and write lock) per database in this process."""
    with _stores_lock:
        if url not in _stores:
            _stores[url] = Store(url)
        return _stores[url]


def build_sandbox(config, *, portal_app=None, background: bool = True) -> Sandbox:
    """The sandbox for this configuration. With `portal_app`, webhooks go to that app in-process (the
    sandbox runs inside the portal whose PUBLIC_BASE_URL it posts to); without, over HTTP."""
    url = database_url(config)
    public = config["PUBLIC_BASE_URL"].rstrip("/")
    sandbox = Sandbox(
        key_id=config["RAZORPAY_KEY_ID"],
        key_secret=config["RAZORPAY_KEY_SECRET"],
        webhook_secret=config["RAZORPAY_WEBHOOK_SECRET"],
        public_base_url=public,
        merchant=config.get("SELLER_NAME") or "Sandbox merchant",
        store_factory=lambda: shared_store(url),
    )
    sandbox.webhooks = Dispatcher(
        sandbox,
        url=config.get("SANDBOX_WEBHOOK_URL") or f"{public}/webhooks/razorpay",
        secret=config["RAZORPAY_WEBHOOK_SECRET"],
        sync=bool(config.get("SANDBOX_WEBHOOK_SYNC")),
        background=background,
    )
    if portal_app is not None:
        sandbox.webhooks.target(sandbox.webhooks.url, wsgi_app=portal_app)
    return sandbox


def create_sandbox_app(sandbox: Sandbox) -> Flask:
    """A bare Flask app with the sandbox's API and pages: no portal login, CSRF or error pages."""
    from portal.sandbox import api, pages

    app = Flask("portal.sandbox", template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.extensions["sandbox"] = sandbox
    api.register(app)
    app.register_blueprint(pages.bp)
    return app
