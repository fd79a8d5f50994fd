"""render(): a kind's three templates with its context and the common variables, every failure one error."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.notifications.kinds import KINDS, TEST_MESSAGE, Kind, register
from portal.notifications.models import Audience, OutboxMessage
from portal.notifications.rendering import RenderError, render
from tests.notifications.helpers import registered


def _message(kind: str = "test_message", context: dict | None = None) -> OutboxMessage:
    message = OutboxMessage(
        idempotency_key="r:1", kind=kind, audience="staff", recipient="a@example.test", context=context
    )
    db.session.add(message)
    db.session.flush()
    return message


def test_the_test_message_renders_subject_text_and_html_with_the_seller(app):
    rendered = render(_message(context={"requested_by": "ops"}))
    assert rendered.subject == f"Test message from {app.config['SELLER_NAME']}"
    assert "Requested by ops." in rendered.text and app.config["SELLER_GSTIN"] in rendered.text
    assert app.config["SELLER_GSTIN"] in rendered.html and app.config["PUBLIC_BASE_URL"] in rendered.html
    assert rendered.attachments == []


def test_html_is_autoescaped_and_text_is_not():
    rendered = render(_message(context={"requested_by": "<b>Tom & Jerry</b>"}))
    assert "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in rendered.html
    assert "<b>Tom & Jerry</b>" in rendered.text


def test_a_kind_may_use_the_money_and_time_filters(tmp_path, app):
    loader_dir = tmp_path / "mail"
    loader_dir.mkdir()
    kind = Kind(
        name="filters_for_test",
        audience=Audience.CUSTOMER,
        transactional=True,
        label="Filters",
        context=lambda m: {"amount": 123450},
    )
    from jinja2 import ChoiceLoader, DictLoader

    saved = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "mail/filters_for_test.subject.txt": "Paid {{ amount|money('INR') }}\n",
                    "mail/filters_for_test.txt": "{{ message.created_at|when }}",
                    "mail/filters_for_test.html": "<p>{{ amount|money('INR') }}</p>",
                }
            ),
            saved,
        ]
    )
    try:
        with registered(kind):
            rendered = render(_message(kind.name))
    finally:
        app.jinja_env.loader = saved
    assert rendered.subject == "Paid ₹1,234.50"
    assert "₹1,234.50" in rendered.html
    assert rendered.text.endswith("IST")  # the business time zone (Asia/Kolkata)


def test_an_unknown_kind_is_a_render_error():
    with pytest.raises(RenderError, match="unknown message kind 'nope'"):
        render(_message("nope"))


def test_a_missing_template_is_a_render_error_naming_it():
    kind = Kind(name="missing_for_test", audience="staff", transactional=True, label="M")
    with registered(kind), pytest.raises(RenderError, match=r"mail/missing_for_test\.subject\.txt"):
        render(_message("missing_for_test"))


def test_an_attachment_callable_that_raises_is_a_render_error():
    def attachments(message):
        raise RuntimeError("PDF not ready")

    kind = Kind("test_message", Audience.STAFF, True, "T", context=TEST_MESSAGE.context, attachments=attachments)
    with registered(kind), pytest.raises(RenderError, match="RuntimeError: PDF not ready"):
        render(_message())
    assert KINDS["test_message"] is TEST_MESSAGE


def test_register_is_idempotent_by_name():
    assert register(TEST_MESSAGE) is TEST_MESSAGE and register(TEST_MESSAGE) is TEST_MESSAGE
    assert list(KINDS).count("test_message") == 1
