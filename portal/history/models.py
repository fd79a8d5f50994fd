from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow

# Fields whose values in `changes` are integer minor units of money.
MONEY_FIELDS = frozenset(
    {
        "amount",
        "total",
        "subtotal",
        "discount",
        "tax",
        "fee",
        "amount_refunded",
        "cgst",
        "sgst",
        "igst",
        "price",
        "deposit",
    }
)


class HistoryEvent(db.Model):
    __tablename__ = "history_events"
    __table_args__ = (Index("ix_history_events_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(40))  # transition, create, edit, delete, note
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    actor_type: Mapped[str] = mapped_column(String(20))  # user, customer, gateway, system
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_label: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict | None] = mapped_column(JSON)  # {"field": [before, after]}
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    @property
    def currency(self) -> str:
        """The currency of the amounts in `changes` (recorded beside them), else the default one."""
        from flask import current_app, has_app_context

        recorded = (self.changes or {}).get("currency")
        if isinstance(recorded, list) and recorded and recorded[-1]:
            return recorded[-1]
        return current_app.config.get("DEFAULT_CURRENCY", "INR") if has_app_context() else "INR"

    @staticmethod
    def is_money(name: str) -> bool:
        """Whether a field in `changes` holds an amount in minor units (shown with the money filter)."""
        return name in MONEY_FIELDS

    @property
    def shown_changes(self) -> list[tuple[str, list]]:
        """(field, [before, after]) pairs to show; the currency is shown through the amounts instead."""
        return [(name, pair) for name, pair in (self.changes or {}).items() if name != "currency"]

    @property
    def summary(self) -> str:
        if self.action == "transition":
            return f"{self.from_state} → {self.to_state}"
        return self.action.replace("_", " ")
