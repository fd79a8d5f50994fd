"""A faithful local stand-in for Razorpay (API, hosted checkout, payment links, webhooks, fault knobs).

Present when PAYMENT_GATEWAY=sandbox. See docs/sandbox.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.sandbox.cli import sandbox_cli

    app.cli.add_command(sandbox_cli)
    if app.config.get("PAYMENT_GATEWAY") != "sandbox":
        return
    from portal.extensions import csrf
    from portal.sandbox import api, pages, store_cart, storefront
    from portal.sandbox.server import build_sandbox, create_sandbox_app

    # When the portal talks to a standalone sandbox by URL, that server runs the delivery worker.
    sandbox = build_sandbox(app.config, portal_app=app, background=not app.config.get("RAZORPAY_BASE_URL"))
    app.extensions["sandbox"] = sandbox
    app.extensions["sandbox_app"] = create_sandbox_app(sandbox)
    api.register(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(storefront.bp)  # not CSRF-exempt: its forms carry the token
    app.register_blueprint(store_cart.bp)  # likewise
    csrf.exempt(api.bp)  # basic-auth JSON API, like Razorpay's
    csrf.exempt(pages.bp)  # see the reason in portal/sandbox/pages.py
    app.teardown_request(lambda _exc: sandbox.webhooks.flush_deferred())
    if not sandbox.webhooks.sync:
        # Resume deliveries left pending by a previous run once the portal serves its first request
        # (not at import: `flask db upgrade` should not start threads or touch the sandbox store).
        app.before_request(sandbox.webhooks.start_worker)
