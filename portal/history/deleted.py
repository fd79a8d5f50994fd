"""A deleted entity's page answers 410 Gone with its whole history instead of a bare 404.

Deleting a row never deletes its history (rows point at entity type and id, not a foreign key), and ids
are never reused (`NEVER_REUSE_IDS`), so the trail of a deleted refund, payment or order stays its own.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import select
from werkzeug.exceptions import Gone

from portal.extensions import db
from portal.history.models import HistoryEvent


class EntityDeleted(Gone):
    """410 for a deleted entity; `trail` is its history, oldest first, the deletion last."""

    def __init__(self, entity_type: str, entity_id: int, trail: list[HistoryEvent]):
        self.entity_type, self.entity_id, self.trail = entity_type, entity_id, trail
        deletion = trail[-1]
        super().__init__(
            f"{entity_type.replace('_', ' ').capitalize()} #{entity_id} was deleted by {deletion.actor_label}"
            + (f": {deletion.reason}." if deletion.reason else ".")
        )


def deleted_trail(entity_type: str, entity_id: int) -> list[HistoryEvent]:
    """The history of an entity whose last event is its deletion; [] for one that exists or never did."""
    events = db.session.scalars(
        select(HistoryEvent)
        .where(HistoryEvent.entity_type == entity_type, HistoryEvent.entity_id == entity_id)
        .order_by(HistoryEvent.id)
    ).all()
    return list(events) if events and events[-1].action == "delete" else []


def gone_or_404(entity_type: str, entity_id: int):
    """For a detail view whose row is missing: 410 with the history when it was deleted, else 404."""
    trail = deleted_trail(entity_type, entity_id)
    if trail:
        raise EntityDeleted(entity_type, entity_id, trail)
    abort(404)
