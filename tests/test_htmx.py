"""portal/htmx.py: the one module that knows HX-* headers."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import make_response
from werkzeug.exceptions import MethodNotAllowed, NotFound

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


# ---------------------------------------------------------------- every hx-<verb> a page renders is routed

HX_VERB = re.compile(r'\bhx-(get|post|put|patch|delete)="([^"]+)"')


def _pages_with_every_action(app, make, sandbox, monkeypatch) -> list[str]:
    """Admin pages in the states that show each action: pending and paid (physical) orders, failed,
    authorized and captured payments, an unsent refund, pending and failed webhook events, a draft invoice."""
    from portal.history.services import Actor
    from portal.invoices.services import create_invoice
    from portal.payments.services import apply_gateway_payment
    from portal.refunds.services import create_refund
    from portal.webhooks.services import ingest, store, verify
    from tests.refunds.conftest import pay_through_sandbox
    from tests.webhooks import payloads

    def payment(status):
        return apply_gateway_payment(make.payment_entity(make.order(), status=status), actor=Actor.gateway()).payment

    def event(order, status, defer):
        body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order, status)))
        signature = payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"])
        headers = {"X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": payloads.new_event_id()}
        if defer:  # stored for the queue with its job not run yet: a pending event
            return store(verify(body, headers), body, headers, claimed=False)
        return ingest(body, headers).event_pk

    pending = make.order()
    physical, _ = make.paid_order(products=[make.product(kind="good")])
    _, captured = pay_through_sandbox(sandbox)
    sandbox.set_faults(down=True)
    refund = create_refund(captured.id, amount=100, reason="goodwill", actor=Actor.system("test"))
    sandbox.clear_faults()
    with monkeypatch.context() as patch:
        patch.setitem(app.config, "AUTO_INVOICE", False)  # so that a paid order can get a draft
        draft = create_invoice(make.paid_order()[0].id, actor=Actor.system("test"), issue=False)
    events = [event(make.order(), "captured", True), event(make.order(), "teleported", False)]
    return [
        "/admin/",
        "/admin/orders",
        "/admin/payments",
        "/admin/refunds",
        "/admin/invoices",
        "/admin/webhooks",
        f"/admin/orders/{pending.id}",
        f"/admin/orders/{physical.id}",
        f"/admin/orders/{captured.order_id}",
        *(f"/admin/payments/{p.id}" for p in (payment("failed"), payment("authorized"), captured)),
        f"/admin/refunds/{refund.id}",
        f"/admin/invoices/{draft.id}",
        f"/admin/invoices/{physical.invoice.id}",
        *(f"/admin/webhooks/{pk}" for pk in events),
    ]


def test_every_htmx_action_on_the_admin_pages_is_routed_for_its_verb(app, auth, client, make, sandbox, monkeypatch):
    """An hx-patch to a URL that only takes POST is a 405 with JavaScript on (refund edit was)."""
    pages = _pages_with_every_action(app, make, sandbox, monkeypatch)
    auth.login_as("admin")
    adapter = app.url_map.bind("localhost")
    seen = set()
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        for verb, url in HX_VERB.findall(response.get_data(as_text=True)):
            url = html.unescape(url).split("?")[0]
            seen.add(verb)
            try:
                adapter.match(url, method=verb.upper())
            except (MethodNotAllowed, NotFound) as exc:
                pytest.fail(f"{path}: hx-{verb}={url} answers {exc.code}")
    assert seen == {"get", "post", "patch", "delete"}


def test_swap_refusal_marks_only_refusals_for_swapping(app):
    with app.test_request_context():
        refused = htmx.swap_refusal(make_response("<section>no</section>", 422))
        done = htmx.swap_refusal(make_response("<section>ok</section>", 200))
    assert refused.headers[htmx.SWAP_REFUSAL] == "1"
    assert htmx.SWAP_REFUSAL not in done.headers
