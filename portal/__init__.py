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
    from portal.admin.routes import bp as admin_bp
    from portal.auth.routes import bp as auth_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    for module in OPTIONAL_FEATURES:
        _register_feature(app, module)


# Feature packages that plug themselves in with `init_app(app)` once they exist.
OPTIONAL_FEATURES = (
    "portal.gateway",
    "portal.sandbox",
    "portal.api",
    "portal.webhooks.routes",
    "portal.orders.routes",
    "portal.payments.routes",
    "portal.refunds.routes",
    "portal.invoices.routes",
    "portal.checkout.routes",
)


def _register_feature(app: Flask, module_name: str) -> None:
    import importlib
    import importlib.util

    try:
        if importlib.util.find_spec(module_name) is None:
            return
    except ModuleNotFoundError:  # the parent package does not exist yet
        return
    module = importlib.import_module(module_name)
    if hasattr(module, "init_app"):
        module.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from portal.templating import register

    register(app)


def register_errors(app: Flask) -> None:
    from portal.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)
