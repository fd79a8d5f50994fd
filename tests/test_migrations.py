"""The migration builds the schema from nothing, on SQLite and PostgreSQL, and matches the models exactly.

The rest of the suite uses create_all(); this is the check that `flask --app wsgi db upgrade` (what
deployments run) produces the same schema. After a model change it stays red until the migration is
regenerated — on purpose.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.config import TestingConfig
from portal.extensions import db
from portal.search import include_object


def upgrade(url: str):
    """Run `flask db upgrade` through the CLI of an app bound to `url`; return that app."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    # The CLI runs in the current app context when there is one (the session app's): push this app's.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output + repr(result.exception)
    return app


def schema_drift(app) -> list:
    """What `flask db migrate` would generate now: the differences between the models and the database."""
    with app.app_context(), db.engine.connect() as conn:
        # The models' PostgreSQL-only indexes (ddl_if) are left out on SQLite, as create_all leaves them out.
        include = include_object(conn.dialect.name)
        opts = {"compare_type": True, "compare_server_default": False, "include_object": include}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, db.metadata)


def assert_fully_migrated(app):
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        drift = schema_drift(app)
        db.engine.dispose()
    assert drift == [], "models and migration disagree; regenerate the migration:\n" + "\n".join(map(str, drift))


def test_upgrade_on_an_empty_sqlite_file_matches_the_models(tmp_path):
    app = upgrade(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert_fully_migrated(app)


def test_upgrade_twice_is_a_no_op(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    upgrade(url)
    assert_fully_migrated(upgrade(url))


@contextmanager
def scratch_postgres_database(server_url: str):
    """A brand-new database on the test server, dropped afterwards."""
    name = f"portal_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_on_an_empty_postgres_database_matches_the_models(postgres):
    with scratch_postgres_database(postgres.config["SQLALCHEMY_DATABASE_URI"]) as url:
        assert_fully_migrated(upgrade(url))


def test_the_never_reuse_ids_revision_keeps_every_row_on_a_populated_sqlite_database(tmp_path):
    """0003 rebuilds tables that other rows point at (order items at orders): nothing may cascade away,
    and no later rebuild may drop AUTOINCREMENT again."""
    from portal.orders.models import Order, OrderItem
    from tests import factories

    url = f"sqlite:///{tmp_path / 'populated.sqlite'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["db", "upgrade", "0002"]).exit_code == 0
        orders = _orders_at_0002(count=3)
        items = db.session.execute(text("SELECT count(*) FROM order_items")).scalar()  # 0002's columns, not the model's
        db.session.remove()
        assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        assert [o.id for o in db.session.query(Order).order_by(Order.id)] == orders
        assert db.session.query(OrderItem).count() == items > 0
        with db.engine.connect() as conn:
            # A later revision that rebuilds one of these tables in batch mode must keep AUTOINCREMENT.
            for table in ("orders", "payments", "refunds", "invoices", "webhook_events"):
                ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
                assert "AUTOINCREMENT" in ddl, table
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.session.execute(text("DELETE FROM order_items WHERE order_id = :id"), {"id": orders[-1]})
        db.session.execute(text("DELETE FROM orders WHERE id = :id"), {"id": orders[-1]})
        db.session.commit()
        assert factories.order().id > orders[-1]
        db.session.remove()
        db.engine.dispose()


def _orders_at_0002(count: int) -> list[int]:
    """Orders with two lines each, written in plain SQL: the models (and the services' side effects, such as
    outbox messages) describe the newest schema, not revision 0002's."""
    now = {"now": "2026-01-01 00:00:00"}
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (email, name, password_hash, role, active, created_at, updated_at)"
                " VALUES ('c@example.test', 'C', 'x', 'customer', 1, :now, :now)"
            ),
            now,
        )
        ids = []
        for n in range(count):
            row = conn.execute(
                text(
                    "INSERT INTO orders (number, customer_id, currency, subtotal, discount, tax, total, status,"
                    " fulfilment_status, needs_refund, created_at, updated_at) VALUES (:number, 1, 'INR', 200, 0, 0,"
                    " 200, 'pending', 'not_required', 0, :now, :now) RETURNING id"
                ),
                {**now, "number": f"ORD-MIG{n}"},
            )
            ids.append(row.scalar())
            for _ in range(2):
                conn.execute(
                    text(
                        "INSERT INTO order_items (order_id, sku, title, kind, hsn_sac, unit_price, quantity,"
                        " tax_rate_bp, taxable_amount, tax_amount) VALUES (:id, 'S', 'T', 'course', '9992', 100, 1, 0,"
                        " 100, 0)"
                    ),
                    {"id": ids[-1]},
                )
    return ids
