"""The sandbox's own storage: an engine and tables apart from the portal's, because it stands in for
an external service (Razorpay keeps its own books).

Entities are stored as the JSON documents the API returns, keyed by their Razorpay-style id. Writes
are serialised with one process-wide lock, so the SQLite file never sees two writers from here, and at the
database across processes (several portal workers running the in-process sandbox over one database): a write
transaction takes SQLite's write lock before its first read (`BEGIN IMMEDIATE`), and on PostgreSQL reads the
rows it changes `FOR UPDATE`, so a refund re-reads the amount already refunded only once it holds the payment.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from contextlib import contextmanager

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)

from portal.timeutil import unix_now

metadata = MetaData()

entities = Table(
    "sandbox_entities",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("kind", String(20), nullable=False, index=True),
    Column("parent_id", String(40), index=True),
    Column("reference", String(80)),
    Column("data", Text, nullable=False),
    UniqueConstraint("kind", "reference", name="uq_sandbox_entities_kind_reference"),
)

refund_keys = Table(
    "sandbox_refund_keys",
    metadata,
    Column("key", String(80), primary_key=True),
    Column("payment_id", String(40), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("refund_id", String(40), nullable=False),
)

deliveries = Table(
    "sandbox_webhook_deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(20), nullable=False, index=True),
    Column("event", String(60), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", String(20), nullable=False, index=True),  # pending, delivered, failed, dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", Float),
)

attempts = Table(
    "sandbox_webhook_attempts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("delivery_seq", Integer, nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)

settings = Table(
    "sandbox_settings",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

ID_ALPHABET = string.ascii_letters + string.digits
# Connections: a portal reconciling with a pool of threads sends that many requests at once (SQLAlchemy's
# default, 5 + 10, would make the 16th wait for a connection).
POOL_SIZE, OVERFLOW = 8, 32


def new_id(prefix: str = "") -> str:
    """Razorpay ids: a prefix and 14 case-sensitive alphanumerics (`pay_29QQoUBi66xm2f`)."""
    body = "".join(secrets.choice(ID_ALPHABET) for _ in range(14))
    return f"{prefix}_{body}" if prefix else body


class Store:
    """Tiny document store over SQLAlchemy Core; every public method is its own transaction
    unless called inside `transaction()`."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _make_engine(url)
        self.lock = threading.RLock()
        metadata.create_all(self.engine)

    @contextmanager
    def transaction(self):
        """One serialised write transaction; yields the connection."""
        with self.lock, self.engine.connect() as conn:
            conn = conn.execution_options(sandbox_write=True)
            with conn.begin():
                yield conn

    # documents -------------------------------------------------------------------------------
    def add(self, conn, kind: str, doc: dict, *, parent_id: str | None = None, reference: str | None = None) -> None:
        conn.execute(
            insert(entities).values(
                id=doc["id"], kind=kind, parent_id=parent_id, reference=reference, data=json.dumps(doc)
            )
        )

    def save(self, conn, doc: dict) -> None:
        conn.execute(update(entities).where(entities.c.id == doc["id"]).values(data=json.dumps(doc)))

    def get(self, conn, kind: str, entity_id: str, *, lock: bool = False) -> dict | None:
        """The document; with `lock`, its row stays locked until the transaction ends (PostgreSQL; SQLite's
        write transactions hold the whole database already)."""
        query = select(entities.c.data).where(entities.c.id == entity_id, entities.c.kind == kind)
        row = conn.execute(query.with_for_update() if lock else query).first()
        return json.loads(row.data) if row else None

    def children(self, conn, kind: str, parent_id: str) -> list[dict]:
        rows = conn.execute(
            select(entities.c.data)
            .where(entities.c.kind == kind, entities.c.parent_id == parent_id)
            .order_by(entities.c.seq.desc())
        )
        return [json.loads(r.data) for r in rows]

    def find_reference(self, conn, kind: str, reference: str) -> dict | None:
        row = conn.execute(
            select(entities.c.data).where(entities.c.kind == kind, entities.c.reference == reference)
        ).first()
        return json.loads(row.data) if row else None

    def latest(self, kind: str, limit: int = 50) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(entities.c.data).where(entities.c.kind == kind).order_by(entities.c.seq.desc()).limit(limit)
            )
            return [json.loads(r.data) for r in rows]

    def every(self, kind: str) -> list[dict]:
        """Every document of a kind, newest first (list endpoints filter and page these)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(entities.c.data).where(entities.c.kind == kind).order_by(entities.c.seq.desc()))
            return [json.loads(r.data) for r in rows]

    def read(self, kind: str, entity_id: str) -> dict | None:
        with self.engine.connect() as conn:
            return self.get(conn, kind, entity_id)

    def refund_key(self, conn, key: str) -> dict | None:
        row = conn.execute(select(refund_keys).where(refund_keys.c.key == key)).first()
        return dict(row._mapping) if row else None

    def remember_refund_key(self, conn, key: str, payment_id: str, request_hash: str, refund_id: str) -> None:
        conn.execute(
            insert(refund_keys).values(key=key, payment_id=payment_id, request_hash=request_hash, refund_id=refund_id)
        )

    # settings ----------------------------------------------------------------------------------
    def get_settings(self) -> dict:
        with self.engine.connect() as conn:
            return {r.name: json.loads(r.value) for r in conn.execute(select(settings))}

    def put_settings(self, values: dict) -> None:
        with self.transaction() as conn:
            for name, value in values.items():
                conn.execute(delete(settings).where(settings.c.name == name))
                conn.execute(insert(settings).values(name=name, value=json.dumps(value)))

    def count(self, table: Table) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    def reset(self) -> None:
        """Forget everything (tests and `flask sandbox reset`)."""
        with self.transaction() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str):
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=POOL_SIZE, max_overflow=OVERFLOW
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # pysqlite would only BEGIN at the first write, after the reads it depends on; we BEGIN ourselves.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # A writer takes the write lock up front: another process's writer waits (busy_timeout) instead of
            # both reading the same amount_refunded and both refunding it.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sandbox_write") else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=OVERFLOW)


def now() -> float:
    return unix_now()  # the portal's clock (see portal/timeutil.py)
