"""Razorpay order & payment portal."""

from __future__ import annotations

import os

from dotenv import load_dotenv
from flask import Flask
from htmx_flask import Htmx

from portal.config import Config, config_class_from_env, load_config
from portal.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config_class: type[Config] | None = None, **overrides) -> Flask:
    load_dotenv()
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    load_config(app, config_class or config_class_from_env())
    app.config.update(overrides)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_errors(app)
    register_cli(app)
    register_proxy(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (every table registered with the metadata)
    from portal.security import register_input_guards, register_security_headers

    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    Htmx(app)
    register_security_headers(app)
    register_input_guards(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from portal.dbutil import enable_sqlite_pragmas

        with app.app_context():
            enable_sqlite_pragmas(db.engine)


def register_blueprints(app: Flask) -> None:
    """Each feature package plugs itself in (blueprints, CLI groups, hooks) through `init_app`."""
    from portal import api, cart, catalog, gateway, jobs, notifications, sandbox, site, stock, vendors
    from portal.admin import routes as admin
    from portal.auth import routes as auth
    from portal.checkout import routes as checkout
    from portal.invoices import routes as invoices
    from portal.orders import routes as orders
    from portal.payments import routes as payments
    from portal.refunds import routes as refunds
    from portal.webhooks import routes as webhooks

    jobs.init_app(app)  # first: every feature's tasks are declared on the queue it configures
    app.register_blueprint(site.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    # gateway first: the sandbox, API and webhooks use the adapter it builds.
    for feature in (gateway, sandbox, api, webhooks, orders, payments, refunds, invoices, checkout):
        feature.init_app(app)
    # The marketplace: catalogue and vendors, the cart and multi-vendor checkout, stock reservations.
    for feature in (catalog, vendors, cart, stock):
        feature.init_app(app)
    notifications.init_app(app)  # the outbox: mailer, send job and sweep, /admin/outbox, `flask outbox`


def register_proxy(app: Flask) -> None:
    """Behind N trusted reverse proxies (TRUSTED_PROXIES), take the client address and scheme from their
    X-Forwarded-* headers — otherwise every client shares the proxy's address in the sign-in throttle."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_template_helpers(app: Flask) -> None:
    from portal.templating import register

    register(app)


def register_errors(app: Flask) -> None:
    from portal.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)
