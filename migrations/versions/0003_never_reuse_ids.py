"""SQLite: never reuse the ids of deletable entities (orders, payments, refunds, invoices, webhook events)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:45:00

SQLite hands the highest rowid out again after its row is deleted, so a new refund took a deleted one's
number and its history. AUTOINCREMENT is part of the table definition, so each table is rebuilt (batch
mode copies the rows; sqlite_sequence starts from the highest id kept). PostgreSQL's sequences never
reuse an id: nothing to do there. migrations/env.py turns SQLite's foreign keys off around the
migrations, so dropping the old copy of a table neither cascades into nor is refused by its children.
A later revision that rebuilds one of these tables in batch mode must pass
`table_kwargs={"sqlite_autoincrement": True}` (see 0004), or the rebuild drops AUTOINCREMENT again.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("orders", "payments", "refunds", "invoices", "webhook_events")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade():
    _rebuild(True)


def downgrade():
    _rebuild(False)
