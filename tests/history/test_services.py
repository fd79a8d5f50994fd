"""The audit trail: who, when, why, from/to — written in the same transaction as the change it records."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor, diff, history_of, record_event
from portal.orders.models import Order
from portal.orders.services import change_status
from portal.orders.status import ORDER
from portal.statemachine import IllegalTransition, transition


def transitions_of(entity):
    return [(e.from_state, e.to_state) for e in history_of(entity) if e.action == "transition"]


def test_a_status_change_writes_actor_reason_and_from_to(make):
    order = make.order()
    admin = make.staff("admin")
    change_status(order.id, "cancelled", actor=Actor.user(admin), reason="customer asked by phone")
    db.session.expire_all()
    event = history_of(db.session.get(Order, order.id))[-1]
    assert (event.action, event.from_state, event.to_state) == ("transition", "pending", "cancelled")
    assert (event.actor_type, event.actor_id, event.actor_label) == ("user", admin.id, admin.email)
    assert event.reason == "customer asked by phone"
    assert event.created_at is not None
    assert event.summary == "pending → cancelled"


def test_placing_an_order_records_its_creation_by_the_customer(make):
    customer = make.customer()
    order = make.order(customer_user=customer)
    [created] = history_of(order)
    assert (created.action, created.to_state, created.actor_type, created.actor_id) == (
        "create",
        "pending",
        "customer",
        customer.id,
    )


def test_history_rolls_back_with_the_change_it_records(make):
    order = make.order()
    transition(order, ORDER, "expired", actor=Actor.system("test"), reason="will be rolled back")
    db.session.flush()  # the row exists inside the transaction...
    assert transitions_of(order) == [("pending", "expired")]
    db.session.rollback()  # ...and goes away with it
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"
    assert transitions_of(db.session.get(Order, order.id)) == []


def test_a_refused_status_change_writes_no_history(make):
    order = make.order()
    with pytest.raises(IllegalTransition):
        change_status(order.id, "refunded", actor=Actor.system("test"), reason="not allowed")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"
    assert transitions_of(order) == []


def test_a_status_change_needs_a_reason(make):
    order = make.order()
    with pytest.raises(ValueError, match="reason"):
        change_status(order.id, "cancelled", actor=Actor.system("test"), reason="  ")
    assert transitions_of(order) == []


def test_history_is_kept_apart_per_entity_and_read_oldest_first(make):
    first, second = make.order(), make.order()
    change_status(first.id, "failed", actor=Actor.gateway(), reason="declined")
    change_status(second.id, "cancelled", actor=Actor.system("test"), reason="duplicate")
    change_status(first.id, "pending", actor=Actor.user(first.customer), reason="retry")
    assert transitions_of(first) == [("pending", "failed"), ("failed", "pending")]
    assert transitions_of(second) == [("pending", "cancelled")]
    both = history_of(first, second)
    assert [e.id for e in both] == sorted(e.id for e in both)
    assert len(both) == 5  # two creations and three transitions


def test_history_of_nothing_is_empty():
    assert history_of() == []
    assert history_of(None) == []


def test_actor_kinds():
    assert Actor.gateway() == Actor("gateway", "razorpay")
    assert Actor.system("orders expire") == Actor("system", "orders expire")


def test_actor_of_a_staff_user_and_of_a_customer(make):
    staff, customer = make.staff("finance"), make.customer()
    assert Actor.user(staff) == Actor("user", staff.email, staff.id)
    assert Actor.user(customer) == Actor("customer", customer.email, customer.id)


def test_diff_records_only_what_changed(make):
    order = make.order()
    changes = diff(order, {"billing_name": "New Name", "currency": order.currency})
    assert changes == {"billing_name": [order.customer.name, "New Name"]}
    assert order.billing_name == "New Name"


def test_record_event_joins_the_callers_transaction_and_never_commits_alone(make):
    order = make.order()
    record_event(order, action="note", actor=Actor.system("test"), reason="a note", changes={"x": [1, 2]})
    db.session.rollback()
    notes = db.session.scalars(select(HistoryEvent).where(HistoryEvent.action == "note")).all()
    assert notes == []


def test_deleting_the_acting_user_keeps_the_history_row(make):
    order = make.order()
    admin = make.staff("admin")
    change_status(order.id, "cancelled", actor=Actor.user(admin), reason="by admin")
    db.session.delete(admin)
    db.session.commit()
    db.session.expire_all()
    event = history_of(db.session.get(Order, order.id))[-1]
    assert (event.actor_id, event.actor_label) == (None, admin.email)
