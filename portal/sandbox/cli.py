"""`flask sandbox ...`: serve the sandbox on its own port, show or set fault knobs, reset it."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

sandbox_cli = AppGroup("sandbox", help="The local Razorpay sandbox.")


def _sandbox():
    from portal.sandbox.server import build_sandbox

    return current_app.extensions.get("sandbox") or build_sandbox(current_app.config, background=False)


@sandbox_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the Razorpay sandbox as its own HTTP server (point RAZORPAY_BASE_URL at it)."""
    from werkzeug.serving import run_simple

    from portal.sandbox.server import build_sandbox, create_sandbox_app

    sandbox = build_sandbox(current_app.config)  # webhooks over HTTP to PUBLIC_BASE_URL
    sandbox.webhooks.sync = False
    sandbox.webhooks.start_worker()
    click.echo(f"Razorpay sandbox on http://{host}:{port} (API at /v1, checkout at /sandbox/checkout/<id>)")
    run_simple(host, port, create_sandbox_app(sandbox), threaded=True)


@sandbox_cli.command("faults")
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="e.g. --set down=true")
@click.option("--clear", is_flag=True, help="Turn every fault off.")
def faults(assignments: tuple[str, ...], clear: bool) -> None:
    """Show the fault knobs, or change them (they persist in the sandbox's store)."""
    from portal.sandbox.service import DEFAULT_FAULTS

    sandbox = _sandbox()
    if clear:
        sandbox.clear_faults()
    values = {}
    for item in assignments:
        name, _, raw = item.partition("=")
        if name not in DEFAULT_FAULTS:
            raise click.UsageError(f"unknown fault {name!r}; known: {', '.join(DEFAULT_FAULTS)}")
        values[name] = _parse(raw, DEFAULT_FAULTS[name])
    current = sandbox.set_faults(**values) if values else sandbox.faults()
    click.echo(json.dumps(current, indent=2))
    changed = ", ".join(f"{k}={v}" for k, v in values.items()) or ("all cleared" if clear else "nothing")
    click.echo(f"faults changed: {changed}")


def _scenario(run, what: str) -> None:
    from portal.sandbox.errors import ApiError

    sandbox = _sandbox()
    try:
        entity = run(sandbox)
    except ApiError as exc:
        raise click.ClickException(exc.description) from exc
    sandbox.webhooks.deliver_due()  # this process may exit before a background worker would send them
    click.echo(f"{what}: {entity['id']} is now {entity['status']}")


@sandbox_cli.command("late-authorize")
@click.argument("payment_id")
def late_authorize(payment_id: str) -> None:
    """Authorise a failed payment late, as a bank can (payment.authorized, then payment.captured and
    order.paid on an auto-capture order that is not paid yet)."""
    _scenario(lambda sb: sb.late_authorize(payment_id), "late authorisation")


@sandbox_cli.command("process-refund")
@click.argument("refund_id")
@click.option("--failed", is_flag=True, help="The refund fails (refund.failed) instead of being processed.")
def process_refund(refund_id: str, failed: bool) -> None:
    """Complete a pending refund (see the pending_refunds fault): refund.processed, or refund.failed."""
    _scenario(lambda sb: sb.process_refund(refund_id, "failed" if failed else "processed"), "refund")


@sandbox_cli.command("refund-speed-changed")
@click.argument("refund_id")
def refund_speed_changed(refund_id: str) -> None:
    """A pending refund falls back from instant to normal speed (refund.speed_changed)."""
    _scenario(lambda sb: sb.change_refund_speed(refund_id), "refund speed changed to normal")


@sandbox_cli.command("reset")
def reset() -> None:
    """Forget every sandbox order, payment, refund, link, delivery and fault."""
    _sandbox().store.reset()
    click.echo("sandbox reset: all entities, deliveries and faults removed")


def _parse(raw: str, default):
    try:
        if isinstance(default, bool):
            if raw.lower() not in {"true", "false", "1", "0", "on", "off", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"true", "1", "on", "yes"}
        return type(default)(raw)
    except ValueError as exc:
        raise click.BadParameter(f"{raw!r} is not a valid {type(default).__name__}") from exc
