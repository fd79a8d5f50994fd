"""Messages to customers and staff through a transactional outbox (see docs/notifications.md).

    from portal.notifications.outbox import queue_message
    queue_message("payment_received", to=email, key=f"payment_received:order:{order.id}", order=order)

The row joins the caller's transaction; its send job is enqueued when that transaction commits.
"""

from __future__ import annotations

import importlib
import importlib.util

# The message catalogue's modules (kinds, the rules that queue them, opt-out): imported when present, and
# their own `init_app(app)` called, so the catalogue plugs in without this package naming its contents.
CATALOGUE_MODULES = ("catalogue", "rules", "preferences")


def init_app(app) -> None:
    """The mailer, the send job and sweep (registered on the queue), the portal's outbox and `flask outbox`."""
    from portal.notifications import kinds, mailer, tasks  # noqa: F401  (tasks: declared on the queue)
    from portal.notifications.cli import outbox_cli

    mailer.init_app(app)
    app.cli.add_command(outbox_cli)
    _register_template_helpers(app)
    _register_routes(app)
    for name in CATALOGUE_MODULES:
        module = _optional_module(f"{__name__}.{name}")
        if module is not None and hasattr(module, "init_app"):
            module.init_app(app)


STATUS_TONES = {"sent": "ok", "queued": "wait", "failed": "bad", "not_sent": "muted"}


def _register_template_helpers(app) -> None:
    from portal.notifications.kinds import label_for
    from portal.notifications.queries import order_messages

    app.jinja_env.filters["message_kind"] = label_for
    app.jinja_env.globals.update(
        outbox_tone=lambda status: STATUS_TONES.get(str(status), "muted"),
        outbox_messages_for_order=order_messages,  # notifications/_messages.html, on the order page
    )


def _register_routes(app) -> None:
    if _optional_module(f"{__name__}.routes") is not None:
        from portal.notifications.routes import bp

        app.register_blueprint(bp)


def _optional_module(name: str):
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None
