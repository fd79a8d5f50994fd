"""The ceiling: a bare Flask endpoint that inserts one row per POST and commits, nothing else.

Served by the same gunicorn settings as the portal, against the same PostgreSQL, so the gap between this
and `/webhooks/razorpay` is what verification, de-duplication and processing cost.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, insert

from portal.config import normalise_database_url

metadata = MetaData()
bare_events = Table(
    "bench_bare_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(80)),
    Column("payload", Text),
)
engine = create_engine(normalise_database_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
app = Flask(__name__)


@app.post("/bare")
def bare():
    body = request.get_data()
    with engine.begin() as conn:
        conn.execute(
            insert(bare_events).values(event_id=request.headers.get("X-Razorpay-Event-Id"), payload=body.decode())
        )
    return jsonify(status="stored")
