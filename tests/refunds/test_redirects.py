"""Where the refund form and the delete action send the browser: only ever a page of this site."""

from __future__ import annotations

import pytest

from portal.history.services import Actor
from portal.refunds.services import create_refund
from tests.helpers import extract_csrf

BYPASSES = ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "//evil.example", "/%2F/evil.example"]


def csrf(client) -> str:
    return extract_csrf(client.get("/admin/refunds").get_data(as_text=True))


@pytest.mark.parametrize("target", BYPASSES)
def test_creating_a_refund_never_redirects_off_site(auth, client, paid, target):
    _, payment = paid(price=100000)
    auth.login_as("finance")
    data = {"csrf_token": csrf(client), "payment_id": payment.id, "amount": "10.00", "reason": "goodwill"}
    response = client.post("/admin/refunds", data={**data, "next": target})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/refunds/")


@pytest.mark.parametrize("target", BYPASSES)
def test_the_new_refund_form_drops_an_off_site_next(auth, client, paid, target):
    _, payment = paid(price=100000)
    auth.login_as("finance")
    html = client.get("/admin/refunds/new", query_string={"payment_id": payment.id, "next": target}).get_data(
        as_text=True
    )
    assert "evil.example" not in html


@pytest.mark.parametrize("target", BYPASSES)
def test_deleting_a_refund_never_redirects_off_site(auth, client, paid, sandbox, target):
    _, payment = paid(price=100000)
    sandbox.set_faults(down=True)
    unsent = create_refund(payment.id, amount=1000, reason="goodwill", actor=Actor.system("test"))
    sandbox.clear_faults()
    auth.login_as("admin")
    response = client.post(f"/admin/refunds/{unsent.id}/delete", data={"csrf_token": csrf(client), "next": target})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/refunds")
