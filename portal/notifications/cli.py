"""`flask outbox …`: send what is due, purge old messages, send a test message."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import timedelta

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.notifications import services
from portal.notifications.kinds import TEST_MESSAGE
from portal.notifications.models import Audience
from portal.notifications.outbox import queue_message
from portal.timeutil import utcnow

outbox_cli = AppGroup("outbox", help="The notification outbox: send, purge, test.")


@outbox_cli.command("send")
@click.option("--dry-run", is_flag=True, help="List what is due without sending it.")
def send(dry_run: bool) -> None:
    """Send every queued message that is due now (what the every-minute schedule does, in this process)."""
    ids = services.due_message_ids(grace=timedelta(0))
    db.session.rollback()
    if dry_run:
        click.echo(f"outbox send (dry run): {len(ids)} message(s) due")
        return
    outcomes: Counter = Counter()
    with click.progressbar(ids, label="Sending", show_pos=True, file=sys.stderr) as bar:
        for message_id in bar:
            outcomes[services.send_message_now(message_id)] += 1
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "nothing due"
    click.echo(f"outbox send: {len(ids)} message(s): {summary}")


@outbox_cli.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True, help="Age in days.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted without deleting it.")
def purge(days: int, dry_run: bool) -> None:
    """Delete sent and not_sent messages older than DAYS (failed and queued ones are kept)."""
    cutoff = utcnow() - timedelta(days=days)
    if dry_run:
        click.echo(f"outbox purge (dry run): {services.count_purgeable(cutoff)} message(s) older than {days} days")
        return
    deleted = services.purge(cutoff)
    click.echo(f"outbox purge: {deleted} message(s) older than {days} days deleted")


@outbox_cli.command("test")
@click.argument("email")
def test(email: str) -> None:
    """Queue and send a test message to EMAIL, to check SMTP_URL and MAIL_FROM."""
    email = email.strip()
    if "@" not in email or any(c.isspace() for c in email) or len(email) > 255:
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    message = queue_message(
        TEST_MESSAGE.name,
        to=email,
        key=f"test_message:{email}:{utcnow().isoformat()}",
        audience=Audience.STAFF,
        context={"requested_by": "flask outbox test"},
    )
    db.session.commit()  # the send job runs after this commit (at once in immediate mode, else on a worker)
    services.send_message_now(message.id)  # and here, if no job has taken it yet, so the command can report
    db.session.expire_all()
    row = db.session.get(type(message), message.id)
    detail = f" ({row.last_error})" if row.last_error else ""
    click.echo(f"outbox test: message {row.id} to {email}: {row.status}{detail}")
    if row.status in ("queued", "failed") and row.last_error:  # the attempt failed (queued: it will be retried)
        raise SystemExit(1)
