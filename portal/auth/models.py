from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.modelutil import Timestamps, one_of
from portal.timeutil import utcnow


class Role(StrEnum):
    CUSTOMER = "customer"
    VIEWER = "viewer"
    FINANCE = "finance"
    ADMIN = "admin"
    VENDOR = "vendor"  # a vendor's staff: signs in to the portal, sees and acts on its own vendor's data only


STAFF_RANK = {Role.VIEWER: 1, Role.FINANCE: 2, Role.ADMIN: 3}  # vendors rank outside: see is_vendor


class User(UserMixin, Timestamps, db.Model):
    __tablename__ = "users"
    __table_args__ = (one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    billing_address: Mapped[str | None] = mapped_column(String(500))
    billing_state: Mapped[str | None] = mapped_column(String(60))
    gstin: Mapped[str | None] = mapped_column(String(15))
    last_login_at: Mapped[datetime | None]
    # Opted out of non-transactional messages (shipping updates, payment reminders): portal/notifications/preferences.py
    updates_opted_out_at: Mapped[datetime | None]
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id", ondelete="RESTRICT"), index=True)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")
    vendor = relationship("Vendor")

    def set_password(self, password: str) -> None:
        # scrypt (werkzeug's default): memory-hard, salted.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_staff(self) -> bool:
        """Signs in to the portal: the ranked staff roles, and vendors' staff (scoped to their vendor)."""
        return self.role in STAFF_RANK or self.is_vendor

    @property
    def is_vendor(self) -> bool:
        return self.role == Role.VENDOR and self.vendor_id is not None

    def has_role(self, minimum: str) -> bool:
        """Staff roles are ordered: admin ⊃ finance ⊃ viewer. A vendor holds none of them: the routes open to
        vendors say so (portal.vendors.scope) and show them their own vendor's data only."""
        return self.role in STAFF_RANK and STAFF_RANK[Role(self.role)] >= STAFF_RANK[Role(minimum)]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()
