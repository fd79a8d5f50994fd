"""portal/htmx.py: the one module that knows HX-* headers."""

from __future__ import annotations

import json

import pytest

from portal import htmx

HX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("headers", "partial"),
    [
        ({}, False),
        (HX, True),
        ({**HX, "HX-Boosted": "true"}, False),
        ({**HX, "HX-History-Restore-Request": "true"}, False),
    ],
)
def test_is_partial_only_for_fragment_swaps(app, headers, partial):
    with app.test_request_context("/", headers=headers):
        assert htmx.is_partial() is partial


@pytest.mark.parametrize(("headers", "expected"), [({}, "PAGE"), (HX, "PARTIAL")])
def test_render_chooses_page_or_partial_and_varies_on_hx_request(app, headers, expected, tmp_path):
    app.jinja_loader.searchpath.append(str(tmp_path))
    (tmp_path / "_t_page.html").write_text("PAGE {{ n }}")
    (tmp_path / "_t_partial.html").write_text("PARTIAL {{ n }}")
    try:
        with app.test_request_context("/", headers=headers):
            response = htmx.render("_t_page.html", "_t_partial.html", status=422, n=7)
    finally:
        app.jinja_loader.searchpath.remove(str(tmp_path))
    assert response.get_data(as_text=True) == f"{expected} 7"
    assert response.status_code == 422
    assert "HX-Request" in response.headers["Vary"]


def test_redirect_tells_htmx_to_load_a_page(app):
    with app.test_request_context("/"):
        response = htmx.redirect("/admin/orders/5")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/admin/orders/5"


def test_trigger_merges_events(app):
    with app.test_request_context("/"):
        response = htmx.redirect("/x")
        htmx.trigger(response, "toast", {"message": "Saved"})
        htmx.trigger(response, "refresh")
    assert json.loads(response.headers["HX-Trigger"]) == {"toast": {"message": "Saved"}, "refresh": True}


def test_trigger_keeps_an_event_that_was_set_as_a_plain_name(app):
    with app.test_request_context("/"):
        response = htmx.redirect("/x")
        response.headers["HX-Trigger"] = "refresh"  # htmx also accepts a bare event name
        htmx.trigger(response, "toast", "Saved")
    assert json.loads(response.headers["HX-Trigger"]) == {"refresh": True, "toast": "Saved"}
