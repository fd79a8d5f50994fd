"""The baseline: a bare Flask + SQLAlchemy endpoint that reads one order row by primary key.

`GET /one/<id>` → `session.get` on a minimal mapped class of the portal's own `orders` table → JSON. No
auth, no validation, no relationships: the floor of any database-backed Flask answer. Served by the same
gunicorn settings and connection placement as the portal (bench/http), against the same PostgreSQL, so the
gap between this and a customer-API route is what the API itself costs.
"""

from __future__ import annotations

import os
from datetime import datetime

from flask import Flask, abort, jsonify
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from portal.config import normalise_database_url


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str]
    status: Mapped[str]
    currency: Mapped[str]
    total: Mapped[int]
    created_at: Mapped[datetime]


# pool_pre_ping as the portal's engine has it (portal/config.py), so both pay the same per checkout.
engine = create_engine(normalise_database_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
Session = sessionmaker(engine)
app = Flask(__name__)


@app.get("/one/<int:order_id>")
def one(order_id: int):
    with Session() as session:
        order = session.get(Order, order_id)
        if order is None:
            abort(404)
        return jsonify(
            data={
                "id": order.id,
                "number": order.number,
                "status": order.status,
                "currency": order.currency,
                "total": order.total,
                "created_at": order.created_at.isoformat(),
            }
        )
