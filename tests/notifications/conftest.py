"""A real SMTP server in the test process (aiosmtpd), and the app pointed at it.

    def test_receipt(smtp_server, ...):
        ...                                   # the app's SMTP_URL points at the server for this test
        [email] = smtp_server.messages        # parsed email.message.EmailMessage objects
        smtp_server.refuse(451)               # answer DATA with 451 (or 550) until .accept()
        smtp_server.stop()                    # connection refused until .start()

The server runs once per session on 127.0.0.1 and a free port; every test that asks for `smtp_server`
starts with it running, accepting and empty, and with app.config SMTP_URL / MAIL_FROM set to it (restored
after the test). A test without the fixture runs with SMTP_URL unset: messages end `not_sent`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

MAIL_FROM = "Demo Learning <billing@portal.test>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Stores every accepted envelope; answers DATA with `refusal` (e.g. '451 …') while one is set."""

    def __init__(self):
        self.envelopes: list = []
        self.refusal: str | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refusal:
            return self.refusal
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.host, self.port = "127.0.0.1", free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?timeout=5"

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.handler, hostname=self.host, port=self.port)
            self.controller.start()

    def stop(self) -> None:
        """Stop listening: the next send meets 'connection refused'."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def refuse(self, code: int = 451) -> None:
        text = "Requested action aborted: try again later" if code < 500 else "Requested action not taken"
        self.handler.refusal = f"{code} {text}"

    def accept(self) -> None:
        self.handler.refusal = None

    def reset(self) -> None:
        self.accept()
        with self.handler.lock:
            self.handler.envelopes.clear()
        self.start()

    @property
    def envelopes(self) -> list:
        with self.handler.lock:
            return list(self.handler.envelopes)

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture(scope="session")
def _smtp_server_process():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(app, _smtp_server_process):
    """The running server, empty and accepting; the app sends to it for this test."""
    server = _smtp_server_process
    server.reset()
    saved = {key: app.config.get(key) for key in ("SMTP_URL", "MAIL_FROM")}
    app.config.update(SMTP_URL=server.url, MAIL_FROM=MAIL_FROM)
    yield server
    app.config.update(saved)
    server.reset()


@pytest.fixture
def smtp_app(app, smtp_server):
    """The app, configured to send to `smtp_server` (for tests that want both names)."""
    return app
