"""Sending one rendered message over SMTP with Flask-Mailman (Django's mail API for Flask).

SMTP_URL says where: `smtp://user:pass@host:587?starttls=1`, `smtps://user:pass@host:465`, `smtp://host:25`
(optional `timeout=SECONDS`). Unset, nothing is sent: the outbox keeps the rendered message as `not_sent`.
The settings are read from the app's config at every send (a test or an operator changing them needs no
restart of the extension), and a URL that does not parse refuses to start the app, naming the variable.
Every failure to hand the message over — connection refused, a timeout, a 4xx or 5xx answer — is one
`MailError`; the send job decides whether to retry.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlparse

from flask import current_app
from flask_mailman import EmailMultiAlternatives, Mail

from portal.notifications.rendering import Rendered

mail = Mail()
DEFAULT_TIMEOUT = 10.0
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailError(Exception):
    """The SMTP server could not be reached or did not accept the message."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # STARTTLS after connecting
    use_ssl: bool = False  # TLS from the first byte (smtps)
    timeout: float = DEFAULT_TIMEOUT


def parse_smtp_url(url: str) -> SmtpSettings | None:
    """SmtpSettings for SMTP_URL, None when it is empty; RuntimeError naming the variable when malformed."""
    url = (url or "").strip()
    if not url:
        return None
    try:
        parsed = urlparse(url)
        port = parsed.port
        query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        timeout = float(query.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        raise RuntimeError(f"SMTP_URL is not a valid URL: {_redacted(url)!r}") from None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname or timeout <= 0:
        raise RuntimeError(
            "SMTP_URL must look like smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465 "
            f"or smtp://host:25, not {_redacted(url)!r}"
        )
    starttls = query.get("starttls", "0").lower() in {"1", "true", "yes", "on"}
    return SmtpSettings(
        host=parsed.hostname,
        port=port or (587 if starttls else DEFAULT_PORTS[parsed.scheme]),
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        use_tls=starttls and parsed.scheme == "smtp",
        use_ssl=parsed.scheme == "smtps",
        timeout=timeout,
    )


def _redacted(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url


def parse_mail_from(value: str, seller_name: str) -> str:
    """MAIL_FROM as given, or the seller's name at a no-reply address; refuse a value with no address."""
    value = (value or "").strip()
    if not value:
        return f"{seller_name} <no-reply@localhost>"
    _name, address = parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n"):
        raise RuntimeError(f"MAIL_FROM must be an address such as 'Shop <billing@shop.example>', not {value!r}")
    return value


def settings() -> SmtpSettings | None:
    return parse_smtp_url(current_app.config.get("SMTP_URL", ""))


def configured() -> bool:
    return settings() is not None


def build(rendered: Rendered, *, to: str, message_id: str | None = None, connection=None) -> EmailMultiAlternatives:
    """The MIME message: plain text with an HTML alternative and the attachments."""
    headers = {"Message-ID": message_id} if message_id else {}
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=current_app.config["MAIL_FROM"],
        to=[to],
        headers=headers,
        connection=connection,
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    for filename, data, mimetype in rendered.attachments:
        email.attach(filename, data, mimetype)
    return email


def send(rendered: Rendered, *, to: str, message_id: str | None = None) -> None:
    """Hand the message to the SMTP server; MailError when it cannot be reached or refuses it."""
    smtp = settings()
    if smtp is None:
        raise MailError("SMTP_URL is not set")
    connection = mail.get_connection(
        backend="smtp",
        host=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        use_tls=smtp.use_tls,
        use_ssl=smtp.use_ssl,
        timeout=smtp.timeout,
    )
    try:
        sent = build(rendered, to=to, message_id=message_id, connection=connection).send()
    except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, unreachable, timed out, TLS failure
        raise MailError(describe(exc)) from exc
    if sent != 1:
        raise MailError("the SMTP server did not accept the message")


def describe(exc: Exception) -> str:
    """One line for last_error: the SMTP code and text when the server answered, else the socket error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()), (0, b""))
        return f"recipient refused: {code} {_text(text)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, TimeoutError):
        return "SMTP server timed out"
    return f"{type(exc).__name__}: {exc}"[:500]


def _text(value) -> str:
    return (value.decode(errors="replace") if isinstance(value, bytes) else str(value))[:400]


def init_app(app) -> None:
    mail.init_app(app)
