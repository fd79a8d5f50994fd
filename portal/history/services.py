"""Writing and reading the history. Rows join the caller's transaction; they never commit alone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db


@dataclass(frozen=True)
class Actor:
    type: str  # user, customer, gateway, system
    label: str
    id: int | None = None

    @classmethod
    def user(cls, user) -> Actor:
        kind = "customer" if getattr(user, "is_customer", False) else "user"
        return cls(kind, user.email, user.id)

    @classmethod
    def gateway(cls, source: str = "razorpay") -> Actor:
        return cls("gateway", source)

    @classmethod
    def system(cls, job: str = "system") -> Actor:
        return cls("system", job)


def entity_type_of(entity) -> str:
    return getattr(entity, "__history_type__", None) or entity.__tablename__.rstrip("s")


# Called with (entity, event) for every history row, in the same transaction (portal/notifications adds
# its message rules here, so a message is written exactly when its state change is).
LISTENERS: list = []


def on_record(listener) -> None:
    """Call `listener(entity, event)` for every history row recorded from now on (once per listener)."""
    if listener not in LISTENERS:
        LISTENERS.append(listener)


def record_event(
    entity, *, action: str, actor: Actor, reason: str = "", from_state=None, to_state=None, changes: dict | None = None
):
    """Append a history row for `entity` (which must already have an id) to the session."""
    from portal.history.models import HistoryEvent

    if entity.id is None:
        db.session.flush()
    event = HistoryEvent(
        entity_type=entity_type_of(entity),
        entity_id=entity.id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:255],
        reason=reason or "",
        changes=changes or None,
    )
    db.session.add(event)
    for listener in LISTENERS:
        listener(entity, event)
    return event


def diff(entity, values: dict) -> dict:
    """Apply `values` to `entity`; return {"field": [before, after]} for what really changed."""
    changes = {}
    for name, new in values.items():
        old = getattr(entity, name)
        if old != new:
            changes[name] = [old, new]
            setattr(entity, name, new)
    return changes


def history_of(*entities):
    """Events of several entities (e.g. an order, its payments and refunds), oldest first."""
    from portal.history.models import HistoryEvent

    clauses = [
        (HistoryEvent.entity_type == entity_type_of(e)) & (HistoryEvent.entity_id == e.id)
        for e in entities
        if e is not None and e.id is not None
    ]
    if not clauses:
        return []
    condition = clauses[0]
    for clause in clauses[1:]:
        condition = condition | clause
    return db.session.scalars(select(HistoryEvent).where(condition).order_by(HistoryEvent.id)).all()
