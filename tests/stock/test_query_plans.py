"""The rental availability query reads a product's overlapping bookings through ix_reservations_product_rental,
not every booking it ever had (PostgreSQL; bench/checkout/bench.py shows the plan and its cost at 100k)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

from sqlalchemy import insert, text

from portal.catalog.models import ProductKind
from portal.extensions import db
from portal.stock.availability import booked_statement
from portal.stock.models import Reservation


def _index_names(plan: dict) -> set[str]:
    names = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        names |= _index_names(child)
    return names


def test_the_rental_availability_query_uses_the_product_rental_index(postgres, make):
    tent, other = (make.product(kind=ProductKind.RENTAL, stock=1000) for _ in range(2))
    rng, first = random.Random(5), date(2025, 1, 1)
    rows = []
    for n in range(20_000):
        start = first + timedelta(days=rng.randrange(900))
        rows.append({"product_id": tent.id if n % 2 else other.id, "quantity": 1, "status": "committed",
                     "rental_start": start, "rental_end": start + timedelta(days=rng.randrange(1, 8))})  # fmt: skip
    db.session.execute(insert(Reservation), rows)
    db.session.commit()
    db.session.execute(text("ANALYZE reservations"))
    day = date(2026, 3, 10)
    statement = booked_statement(tent.id, day, day + timedelta(days=3))
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})

    [answer] = db.session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).one()

    [plan] = json.loads(answer) if isinstance(answer, str) else answer
    assert "ix_reservations_product_rental" in _index_names(plan["Plan"])
