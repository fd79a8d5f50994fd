"""Small column helpers shared by the models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.timeutil import utcnow

# SQLite hands the highest rowid out again once its row is deleted; history rows, audit entries and
# bookmarked admin URLs point at ids, so a deletable entity's table must never reuse one (PostgreSQL's
# sequences never do). Use as the last item of `__table_args__`.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def one_of(column: str, enum: type[StrEnum], name: str | None = None) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_valid")


def non_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in columns]


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
