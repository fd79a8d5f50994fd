"""Ids of deletable entities are never reused (SQLite too), so history rows keep pointing at one entity."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal.history.services import Actor, history_of
from portal.orders.admin_services import delete_order
from tests import factories

# Every table whose rows can be deleted and that history rows or admin URLs point at by id.
NEVER_REUSED = ["orders", "payments", "refunds", "invoices", "webhook_events"]


def test_an_order_placed_after_a_delete_gets_a_new_id_and_its_own_history(sandbox):
    deleted = factories.order()
    deleted_id = deleted.id
    delete_order(deleted_id, actor=Actor.system("test"))

    fresh = factories.order()

    assert fresh.id > deleted_id
    assert {event.entity_id for event in history_of(fresh)} == {fresh.id}


@pytest.mark.parametrize("table", NEVER_REUSED)
def test_sqlite_tables_of_deletable_entities_use_autoincrement(db, table):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL sequences never hand out an id twice")
    sql = db.session.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
    assert "AUTOINCREMENT" in sql


def test_a_deleted_orders_page_answers_410_with_its_history(auth, client, sandbox):
    deleted = factories.order()
    deleted_id, number = deleted.id, deleted.number
    delete_order(deleted_id, actor=Actor.system("cleanup"), reason="test order")
    auth.login_as("viewer")

    response = client.get(f"/admin/orders/{deleted_id}")
    html = response.get_data(as_text=True)

    assert response.status_code == 410
    assert f"Order #{deleted_id} was deleted by cleanup: test order." in html
    assert "create" in html and "delete" in html and number not in html.split("History")[0]
    assert client.get(f"/admin/orders/{deleted_id + 1000}").status_code == 404
