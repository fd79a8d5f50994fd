"""The refund form's amount: ASCII digits, with Indian or international grouping; anything else says so."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.refunds.models import Refund
from tests.helpers import extract_csrf


def post_refund(client, payment, amount):
    token = extract_csrf(client.get("/admin/refunds").get_data(as_text=True))
    data = {"csrf_token": token, "payment_id": payment.id, "amount": amount, "reason": "goodwill"}
    return client.post("/admin/refunds", data=data, headers={"HX-Request": "true"})


@pytest.mark.parametrize("amount", ["१०", "١٠", "१,०००.००", "1,0,00", "12,3456"])
def test_other_scripts_digits_and_malformed_grouping_are_refused_and_nothing_is_written(auth, client, paid, amount):
    _, payment = paid(price=1000000)
    auth.login_as("finance")
    response = post_refund(client, payment, amount)
    assert response.status_code == 422
    assert "digits 0–9, with commas only between digit groups" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Refund.id))) == 0


@pytest.mark.parametrize("amount", ["1,000.00", "1000.00"])
def test_a_correctly_grouped_amount_is_refunded(auth, client, paid, amount):
    _, payment = paid(price=1000000)
    auth.login_as("finance")
    assert post_refund(client, payment, amount).headers.get("HX-Redirect")
    assert db.session.scalars(select(Refund.amount)).all() == [100000]
