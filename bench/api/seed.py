"""The API benchmark's shop: customers with long, realistic order histories, and a bearer token each.

Seeded through the demo's services (portal/demo/seed.py): every order placed and its gateway order opened,
paid at the sandbox's checkout (some after a declined attempt), verified, refunded, invoiced, expired or
cancelled — with the sandbox's webhooks delivered — on a clock moving through the past year. The first
`readers` customers get `orders_per_reader` orders each (the my-orders and detail requests read them);
the `buyers` have none (the create requests add orders to them, so the readers' pages never change).
About 65 ms per order: kept between runs, and reseeded only when the parameters change.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Column, MetaData, String, Table, Text, select

from portal.auth.models import Role, User
from portal.auth.services import issue_token
from portal.demo.seed import DAY, plan_orders, seed_catalogue, seed_orders, seed_people
from portal.extensions import db
from portal.orders.models import Order
from portal.sandbox.store import metadata as sandbox_metadata
from portal.timeutil import clock_at, utcnow

metadata = MetaData()
marker = Table("bench_api_seed", metadata, Column("name", String(40), primary_key=True), Column("value", Text))


@dataclass
class Shop:
    """What the benchmark needs to know about the seeded data."""

    reader_tokens: list[str]
    buyer_tokens: list[str]
    reader_orders: list[tuple[int, int]]  # (order id, index of its owner's token)
    course_ids: list[int]


def ensure(readers: int, orders_per_reader: int, buyers: int, reseed: bool = False) -> tuple[Shop, bool]:
    """The seeded shop, seeding (after emptying the database) when it is missing or seeded otherwise.
    Returns it and whether it was seeded now."""
    wanted = json.dumps({"readers": readers, "orders_per_reader": orders_per_reader, "buyers": buyers})
    metadata.create_all(db.engine)
    stored = db.session.execute(select(marker.c.value).where(marker.c.name == "parameters")).scalar()
    db.session.rollback()  # end the read's transaction: its lock on the marker would block dropping it
    seeded_now = reseed or stored != wanted
    if seeded_now:
        _seed_from_empty(readers, orders_per_reader, buyers)
        db.session.execute(marker.insert().values(name="parameters", value=wanted))
        db.session.commit()
    return _shop(readers, buyers), seeded_now


def _seed_from_empty(readers: int, orders_per_reader: int, buyers: int) -> None:
    # The in-process sandbox keeps its tables in the same scratch database (SANDBOX_DATABASE_URL).
    for schema in (db.metadata, sandbox_metadata, metadata):
        schema.drop_all(db.engine)
        schema.create_all(db.engine)
    rng = random.Random(20)
    ttl = timedelta(minutes=current_app.config["ORDER_PAYMENT_TTL_MINUTES"])
    plans = [plan_orders(rng, orders_per_reader, 365, ttl) for _ in range(readers)]
    oldest = max(ago for plan in plans for ago, _ in plan)
    with clock_at(utcnow() - oldest - DAY):  # the shop and its customers existed before the first order
        products = list(seed_catalogue())
        for product in products:  # the demo's stock is sized for 150 orders, not for a year of them
            product.stock = None if product.stock is None else 100_000
        people = seed_people(rng, readers + buyers)
    for person, plan in zip(people[:readers], plans, strict=True):
        seed_orders(rng, [person], products, plan)


def _shop(readers: int, buyers: int) -> Shop:
    """Customers in seeding order (the demo customer first), a fresh token each, and the readers' orders."""
    customers = list(db.session.scalars(select(User).where(User.role == Role.CUSTOMER).order_by(User.id)))
    tokens = [issue_token(person)[0] for person in customers[: readers + buyers]]
    owner = {person.id: n for n, person in enumerate(customers[:readers])}
    rows = db.session.execute(select(Order.id, Order.customer_id).where(Order.customer_id.in_(owner))).all()
    courses = seed_catalogue()[:12]  # the demo's first 12 products are courses (no stock to run out of)
    return Shop(tokens[:readers], tokens[readers:], [(oid, owner[cid]) for oid, cid in rows], [p.id for p in courses])
