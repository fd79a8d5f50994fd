"""Every machine's table, applied by transition()/advance_to(): each legal move works, each other move is refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.history.services import Actor
from portal.invoices.status import INVOICE
from portal.orders.status import FULFILMENT, ORDER
from portal.payments.status import PAYMENT
from portal.refunds.status import REFUND
from portal.statemachine import IllegalTransition, advance_to, transition

MACHINES = [ORDER, FULFILMENT, PAYMENT, REFUND, INVOICE]
ACTOR = Actor.system("tests")


class Thing:
    """A minimal entity (not a table): the machine code needs an id and the status attribute."""

    __history_type__ = "thing"

    def __init__(self, machine, state):
        self.id = 1
        setattr(self, machine.attribute, machine.states(state))


def all_moves(machine):
    return list(itertools.product(machine.states, repeat=2))


def legal_moves():
    return [pytest.param(m, a, b, id=f"{m.name}:{a}->{b}") for m in MACHINES for a, b in all_moves(m) if m.can(a, b)]


def illegal_moves():
    return [
        pytest.param(m, a, b, id=f"{m.name}:{a}-x->{b}") for m in MACHINES for a, b in all_moves(m) if not m.can(a, b)
    ]


@pytest.fixture(autouse=True)
def _discard_history():
    yield
    db.session.rollback()


@pytest.mark.parametrize(("machine", "current", "target"), legal_moves())
def test_a_legal_move_changes_the_state_and_writes_one_history_row(machine, current, target):
    thing = Thing(machine, current)
    transition(thing, machine, target, actor=ACTOR, reason="because")
    assert getattr(thing, machine.attribute) == target
    events = [e for e in db.session.new if getattr(e, "entity_type", None) == "thing"]
    assert [(e.from_state, e.to_state, e.reason, e.actor_type) for e in events] == [
        (str(current), str(target), "because", "system")
    ]


@pytest.mark.parametrize(("machine", "current", "target"), illegal_moves())
def test_an_illegal_move_is_refused_and_changes_nothing(machine, current, target):
    thing = Thing(machine, current)
    with pytest.raises(IllegalTransition) as raised:
        transition(thing, machine, target, actor=ACTOR)
    assert getattr(thing, machine.attribute) == current
    assert (raised.value.machine, raised.value.current, raised.value.target) == (machine.name, current, target)
    assert not [e for e in db.session.new if getattr(e, "entity_type", None) == "thing"]


def test_the_tables_are_what_the_business_rules_say():
    assert ORDER.next_states("pending") == {"paid", "failed", "cancelled", "expired"}
    assert ORDER.next_states("failed") == {"pending", "paid", "cancelled", "expired"}  # unpaid: it lapses too
    assert ORDER.next_states("paid") == {"partially_refunded", "refunded"}
    assert ORDER.next_states("partially_refunded") == {"refunded"}
    assert all(ORDER.is_final(s) for s in ("cancelled", "expired", "refunded"))
    assert [FULFILMENT.path("unfulfilled", "delivered")] == [["processing", "shipped", "delivered"]]
    assert FULFILMENT.is_final("not_required")
    assert PAYMENT.next_states("failed") == {"authorized", "captured"}  # Razorpay's late authorisation
    assert REFUND.next_states("failed") == {"pending"}
    assert INVOICE.next_states("issued") == {"void"}
    assert INVOICE.is_final("void")


def test_every_state_is_reachable_from_the_initial_state():
    for machine in (ORDER, PAYMENT, REFUND, INVOICE):
        assert {s for s in machine.states if machine.path(machine.initial, s) is not None} == set(machine.states)
    # A vendor's order starts awaiting approval (every state is reachable from there); others start unfulfilled.
    assert {s for s in FULFILMENT.states if FULFILMENT.path("awaiting_vendor", s) is not None} == set(FULFILMENT.states)
    assert {s for s in FULFILMENT.states if FULFILMENT.path("unfulfilled", s) is not None} == set(FULFILMENT.states) - {
        "not_required",
        "awaiting_vendor",
        "rejected",
    }


def test_a_table_naming_an_unknown_state_is_a_programming_error():
    thing = Thing(ORDER, "pending")
    with pytest.raises(IllegalTransition):
        transition(thing, ORDER, "teleported", actor=ACTOR)


@st.composite
def machine_and_walk(draw):
    machine = draw(st.sampled_from(MACHINES))
    start = draw(st.sampled_from(list(machine.states)))
    targets = draw(st.lists(st.sampled_from(list(machine.states)), max_size=12))
    return machine, start, targets


@settings(max_examples=200, deadline=None)
@given(machine_and_walk())
def test_random_walks_never_leave_the_table(walk):
    machine, start, targets = walk
    thing = Thing(machine, start)
    for target in targets:
        before = getattr(thing, machine.attribute)
        try:
            transition(thing, machine, target, actor=ACTOR)
        except IllegalTransition:
            assert not machine.can(before, target)
            assert getattr(thing, machine.attribute) == before
        else:
            assert machine.can(before, target)
            assert getattr(thing, machine.attribute) == target
    db.session.rollback()


@settings(max_examples=200, deadline=None)
@given(machine_and_walk())
def test_advance_to_never_moves_backwards_and_only_along_legal_edges(walk):
    machine, start, targets = walk
    thing = Thing(machine, start)
    for target in targets:
        before = str(getattr(thing, machine.attribute))
        try:
            moved = advance_to(thing, machine, target, actor=ACTOR)
        except IllegalTransition:
            assert machine.path(before, target) is None and not machine.is_behind(before, target)
            assert getattr(thing, machine.attribute) == before
            continue
        after = str(getattr(thing, machine.attribute))
        if moved:
            assert after == target
            assert machine.path(before, after) is not None  # forward only
        else:
            assert after == before
            assert before == target or machine.is_behind(before, target)
    db.session.rollback()


def test_advance_to_walks_every_step_and_records_each():
    thing = Thing(PAYMENT, "created")
    assert advance_to(thing, PAYMENT, "refunded", actor=ACTOR, reason="webhook") is True
    steps = [(e.from_state, e.to_state) for e in db.session.new if getattr(e, "entity_type", None) == "thing"]
    assert sorted(steps) == sorted([("created", "authorized"), ("authorized", "captured"), ("captured", "refunded")])


def test_advance_to_ignores_a_stale_update():
    thing = Thing(PAYMENT, "captured")
    assert advance_to(thing, PAYMENT, "authorized", actor=ACTOR) is False
    assert thing.status == "captured"


def test_advance_to_refuses_a_real_conflict():
    thing = Thing(ORDER, "cancelled")
    with pytest.raises(IllegalTransition):
        advance_to(thing, ORDER, "paid", actor=ACTOR)
    assert thing.status == "cancelled"


@pytest.mark.parametrize(
    ("machine", "current", "target", "behind"),
    [
        (PAYMENT, "captured", "authorized", True),
        (PAYMENT, "refunded", "created", True),
        (PAYMENT, "authorized", "captured", False),
        (PAYMENT, "captured", "captured", False),
        # failed -> captured is legal (late authorisation), so a 'failed' event after capture is stale.
        (PAYMENT, "captured", "failed", True),
        (REFUND, "processed", "failed", True),
        (ORDER, "paid", "pending", True),
        (ORDER, "failed", "pending", False),  # a retry is a legal move forward, not stale
        (ORDER, "cancelled", "paid", False),
        (REFUND, "failed", "pending", False),
        (INVOICE, "void", "draft", True),
    ],
)
def test_is_behind(machine, current, target, behind):
    assert machine.is_behind(current, target) is behind


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MACHINES), st.data())
def test_is_behind_and_reachable_forward_never_both_hold(machine, data):
    current = data.draw(st.sampled_from(list(machine.states)))
    target = data.draw(st.sampled_from(list(machine.states)))
    assert not (machine.is_behind(current, target) and machine.path(current, target) is not None)
    if machine.is_behind(current, target):
        assert machine.path(target, current) is not None
