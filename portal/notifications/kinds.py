"""The kinds of message: what each one is called, who it is for, and where its templates and data come from.

A kind is registered once, at import (helper modules such as portal/notifications/catalogue.py declare the
business messages). Its templates are `templates/mail/<name>.subject.txt`, `<name>.txt` and `<name>.html`,
extending `mail/base.txt` / `mail/base.html`. `context(message)` and `attachments(message)` run at send time,
in the send job's own session, so they read the rows by the ids the message carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.notifications.models import Audience

if TYPE_CHECKING:
    from portal.notifications.models import OutboxMessage

Attachment = tuple[str, bytes, str]  # (filename, data, mimetype)


class RetryLater(Exception):
    """Raised by a kind's `context` or `attachments` when what the message needs is not there *yet* (say, an
    invoice still being issued): the attempt counts as a transient failure — backoff, then `failed` after
    OUTBOX_MAX_ATTEMPTS — instead of failing the message at once as any other exception does."""


def _no_context(message: OutboxMessage) -> dict:
    return {}


def _no_attachments(message: OutboxMessage) -> list[Attachment]:
    return []


@dataclass(frozen=True)
class Kind:
    name: str  # "payment_received"; templates mail/<name>.subject.txt, mail/<name>.txt, mail/<name>.html
    audience: str  # Audience.CUSTOMER or Audience.STAFF
    transactional: bool  # False: customers may opt out (checked before queueing)
    label: str  # shown in the portal's filter
    context: Callable[[OutboxMessage], dict] = _no_context  # template variables (may load rows by id)
    attachments: Callable[[OutboxMessage], list[Attachment]] = _no_attachments


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind (idempotent by name: registering the same name again replaces it, so re-imports are safe)."""
    KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> Kind | None:
    return KINDS.get(name)


def label_for(name: str) -> str:
    kind = KINDS.get(name)
    return kind.label if kind else name.replace("_", " ")


TEST_MESSAGE = register(
    Kind(
        name="test_message",
        audience=Audience.STAFF,
        transactional=True,
        label="Test message",
        context=lambda message: {"requested_by": (message.context or {}).get("requested_by", "")},
    )
)
