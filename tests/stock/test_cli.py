"""`flask checkout release-expired` and its schedule: expired checkouts let their stock go, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.cart.models import Checkout
from portal.cart.tasks import release_expired_reservations
from portal.extensions import db
from portal.history.services import history_of
from portal.stock.availability import available
from tests.cart.conftest import api, customer, shop  # noqa: F401  (fixtures)


def _lapse(checkout_id: int) -> None:
    checkout = db.session.get(Checkout, checkout_id)
    checkout.expires_at -= timedelta(hours=1)
    for reservation in checkout.reservations:
        reservation.expires_at -= timedelta(hours=1)
    db.session.commit()


def test_release_expired_expires_overdue_checkouts_and_frees_their_stock(api, shop, runner, sandbox):  # noqa: F811
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 2})
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    assert available(shop["kettle"]) == 0
    _lapse(data["id"])

    dry = runner.invoke(args=["checkout", "release-expired", "--dry-run"])
    result = runner.invoke(args=["checkout", "release-expired"])
    again = runner.invoke(args=["checkout", "release-expired"])

    assert dry.exit_code == 0 and f"would expire 1 checkout(s): {data['number']}" in dry.output
    assert result.exit_code == 0 and "expired 1 checkout(s); released 1 reservation(s)" in result.output
    assert "expired 0 checkout(s)" in again.output
    checkout = db.session.get(Checkout, data["id"])
    assert checkout.status == "expired"
    assert {r.status for r in checkout.reservations} == {"released"}
    assert [(e.from_state, e.to_state) for e in history_of(checkout) if e.action == "transition"] == [
        ("pending", "expired")
    ]
    assert available(shop["kettle"]) == 2


def test_the_schedule_leaves_a_checkout_within_its_window_alone(api, shop, sandbox):  # noqa: F811
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 1})
    api.post("/api/v1/checkout", json={})

    assert release_expired_reservations.call_local() == 0
    assert db.session.scalars(select(Checkout)).one().status == "pending"
