"""SMTP_URL and MAIL_FROM: what they accept, what refuses to start, and the SMTP answers as errors."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.config import TestingConfig, load_config
from portal.notifications import mailer
from portal.notifications.mailer import MailError, SmtpSettings, parse_mail_from, parse_smtp_url
from portal.notifications.rendering import Rendered


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpSettings("mail.example.com", 25)),
        (
            "smtp://user:p%40ss@mail.example.com:587?starttls=1",
            SmtpSettings("mail.example.com", 587, "user", "p@ss", use_tls=True),
        ),
        ("smtp://mail.example.com?starttls=1", SmtpSettings("mail.example.com", 587, use_tls=True)),
        ("smtps://u:p@mail.example.com", SmtpSettings("mail.example.com", 465, "u", "p", use_ssl=True)),
        ("smtp://127.0.0.1:2525?timeout=3", SmtpSettings("127.0.0.1", 2525, timeout=3.0)),
    ],
)
def test_smtp_urls_parse_into_connection_settings(url, expected):
    assert parse_smtp_url(url) == expected


def test_an_empty_smtp_url_means_no_sending():
    assert parse_smtp_url("") is None and parse_smtp_url("   ") is None


@pytest.mark.parametrize(
    "url", ["http://mail.example.com", "smtp://", "mail.example.com:25", "smtp://h:notaport", "smtp://h?timeout=x"]
)
def test_a_malformed_smtp_url_is_refused_naming_the_variable(url):
    with pytest.raises(RuntimeError, match="SMTP_URL"):
        parse_smtp_url(url)


def test_the_password_is_not_repeated_in_the_error():
    with pytest.raises(RuntimeError) as error:
        parse_smtp_url("ftp://user:hunter2@mail.example.com")
    assert "hunter2" not in str(error.value)


def test_a_bad_smtp_url_refuses_to_start_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("SMTP_URL", "smtp//missing-colon")
    with pytest.raises(RuntimeError, match="SMTP_URL"):
        load_config(Flask(__name__, instance_path=str(tmp_path)), TestingConfig)


def test_mail_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SMTP_URL", "smtp://mail.example.com:587?starttls=1")
    monkeypatch.setenv("MAIL_FROM", "Shop <billing@shop.example>")
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "3")
    app = Flask(__name__, instance_path=str(tmp_path))
    load_config(app, TestingConfig)
    assert app.config["SMTP_URL"] == "smtp://mail.example.com:587?starttls=1"
    assert app.config["MAIL_FROM"] == "Shop <billing@shop.example>"
    assert app.config["OUTBOX_MAX_ATTEMPTS"] == 3


def test_mail_from_defaults_to_the_seller_and_refuses_a_value_without_an_address():
    assert parse_mail_from("", "Demo Ltd") == "Demo Ltd <no-reply@localhost>"
    with pytest.raises(RuntimeError, match="MAIL_FROM"):
        parse_mail_from("just a name", "Demo Ltd")
    with pytest.raises(RuntimeError, match="MAIL_FROM"):
        parse_mail_from("a@b.test\r\nBcc: x@evil.test", "Demo Ltd")


RENDERED = Rendered(subject="Hello", text="Hi", html="<p>Hi</p>")


def test_a_refusal_is_a_mail_error_with_the_smtp_answer(smtp_server):
    smtp_server.refuse(550)
    with pytest.raises(MailError, match="SMTP 550"):
        mailer.send(RENDERED, to="a@example.test")


def test_a_stopped_server_is_a_mail_error(smtp_server):
    smtp_server.stop()
    with pytest.raises(MailError, match="ConnectionRefused"):
        mailer.send(RENDERED, to="a@example.test")


def test_the_message_has_a_text_body_an_html_alternative_and_the_sender(smtp_server):
    mailer.send(RENDERED, to="a@example.test", message_id="<outbox-1@portal.test>")
    [email] = smtp_server.messages
    assert email["Subject"] == "Hello" and email["Message-ID"] == "<outbox-1@portal.test>"
    assert email.get_body(("html",)).get_content().strip() == "<p>Hi</p>"
    assert smtp_server.envelopes[0].rcpt_tos == ["a@example.test"]
