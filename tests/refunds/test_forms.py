"""The refund form's reason and notes: "Other" needs its explanation at the review step already."""

from __future__ import annotations

from tests.refunds.test_routes import HX, count_refunds, csrf


def test_other_reason_with_empty_notes_is_refused_with_a_form_error_before_review(auth, client, paid):
    _order, payment = paid(price=100000)
    auth.login_as("finance")
    form = {"csrf_token": csrf(client), "payment_id": payment.id, "mode": "amount", "amount": "10.00"}
    refused = client.post("/admin/refunds/confirm", data={**form, "reason": "other", "notes": "  "}, headers=HX)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422, html
    assert 'id="refund-notes-error">Explain the reason in the notes.<' in html
    assert 'name="form_token" value="rft_' not in html  # no confirmation step was offered
    explained = client.post("/admin/refunds/confirm", data={**form, "reason": "other", "notes": "pro-rata"}, headers=HX)
    assert explained.status_code == 200 and 'name="form_token" value="rft_' in explained.get_data(as_text=True)
    assert count_refunds() == 0
