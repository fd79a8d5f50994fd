"""Rendering a message: its kind's three templates with its context, plus what every message shows.

`render(message)` is pure reading (no writes): the send job stores the result on the row before sending,
so the portal previews exactly what went out. Any failure — an unknown kind, a context or attachment
callable that raises, a template that does not exist or does not render — becomes one `RenderError`
carrying the original error's text; the send job marks the message failed with it (no retry: a broken
template stays broken until someone fixes it and resends) — unless the kind raised RetryLater, which is
retried with backoff like an SMTP failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from portal.notifications.kinds import KINDS, Attachment, RetryLater
from portal.notifications.models import OutboxMessage

SUBJECT_MAX = 255


class RenderError(Exception):
    """The message cannot be rendered; str(error) names what failed. `transient`: the kind raised
    RetryLater, so a later attempt may succeed."""

    def __init__(self, text: str, *, transient: bool = False):
        super().__init__(text)
        self.transient = transient


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)


def common_context(message: OutboxMessage) -> dict:
    """What every template may use: the seller, the message itself and the portal's public address."""
    config = current_app.config
    return {
        "message": message,
        "seller": {
            "name": config["SELLER_NAME"],
            "gstin": config["SELLER_GSTIN"],
            "address": config["SELLER_ADDRESS"],
        },
        "public_base_url": config["PUBLIC_BASE_URL"],
    }


def render(message: OutboxMessage) -> Rendered:
    """Subject, plain text, HTML and attachments of `message`; RenderError for anything that goes wrong."""
    kind = KINDS.get(message.kind)
    if kind is None:
        raise RenderError(f"unknown message kind {message.kind!r}")
    try:
        context = {**common_context(message), **kind.context(message)}
        subject = _one_line(_template(f"mail/{kind.name}.subject.txt").render(context))
        text = _template(f"mail/{kind.name}.txt").render(context)
        html = _template(f"mail/{kind.name}.html").render(context)
        attachments = list(kind.attachments(message))
    except RenderError:
        raise
    except RetryLater as exc:
        raise RenderError(f"not ready: {exc}", transient=True) from exc
    except Exception as exc:  # any error in the kind's code or templates fails this message, nothing else
        raise RenderError(f"{type(exc).__name__}: {exc}") from exc
    return Rendered(subject=subject, text=text, html=html, attachments=attachments)


def _template(name: str):
    # The app's environment: autoescape on for .html (off for .txt), the money and time-zone filters.
    return current_app.jinja_env.get_template(name)


def _one_line(subject: str) -> str:
    """A subject is one header line: whitespace (newlines included) collapsed, never empty."""
    line = " ".join(subject.split())
    if not line:
        raise RenderError("the subject template rendered an empty subject")
    return line[:SUBJECT_MAX]
