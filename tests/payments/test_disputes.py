"""Disputes: one record per gateway dispute, forward-only, with history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.history.services import Actor, history_of
from portal.payments.disputes import DISPUTE, apply_gateway_dispute
from portal.payments.models import Dispute
from portal.refunds.errors import UnknownGatewayPayment
from tests.webhooks import payloads

ACTOR = Actor.gateway()


def _entity(payment, status="open", **fields):
    return {**payloads.dispute({"id": payment.gateway_payment_id, "amount": 5000, "currency": "INR"}, status), **fields}


def test_a_new_dispute_is_opened_on_the_payment_with_its_details(make):
    _, payment = make.paid_order()
    dispute, stale = apply_gateway_dispute(_entity(payment, phase="fraud"), actor=ACTOR, reason="test")
    assert not stale
    assert (dispute.payment_id, dispute.status, dispute.amount, dispute.phase) == (payment.id, "open", 5000, "fraud")
    assert dispute.respond_by is not None
    assert [e.action for e in history_of(dispute)] == ["create"]


def test_first_seen_as_won_walks_from_open_and_records_each_step(make):
    _, payment = make.paid_order()
    dispute, _ = apply_gateway_dispute(_entity(payment, "won"), actor=ACTOR)
    assert dispute.status == "won"
    assert [(e.from_state, e.to_state) for e in history_of(dispute) if e.action == "transition"] == [("open", "won")]


def test_the_same_dispute_applied_twice_is_one_record(make):
    _, payment = make.paid_order()
    apply_gateway_dispute(_entity(payment, "under_review"), actor=ACTOR)
    apply_gateway_dispute(_entity(payment, "under_review"), actor=ACTOR)
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 1


def test_an_older_status_is_stale_and_never_moves_it_back(make):
    _, payment = make.paid_order()
    apply_gateway_dispute(_entity(payment, "lost"), actor=ACTOR)
    dispute, stale = apply_gateway_dispute(_entity(payment, "open"), actor=ACTOR)
    assert stale and dispute.status == "lost"
    dispute, stale = apply_gateway_dispute(_entity(payment, "won"), actor=ACTOR)  # conflicting outcome
    assert stale and dispute.status == "lost"


def test_closed_is_the_end_of_every_path():
    for state in ("open", "under_review", "won", "lost"):
        assert DISPUTE.path(state, "closed") is not None
    assert DISPUTE.is_final("closed")


def test_a_dispute_on_an_unknown_payment_is_refused(make):
    entity = payloads.dispute({"id": "pay_Unknown0000001", "amount": 100, "currency": "INR"})
    with pytest.raises(UnknownGatewayPayment):
        apply_gateway_dispute(entity, actor=ACTOR)
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_an_unknown_status_is_refused(make):
    _, payment = make.paid_order()
    with pytest.raises(ValueError, match="unknown dispute status"):
        apply_gateway_dispute(_entity(payment, "escalated"), actor=ACTOR)
