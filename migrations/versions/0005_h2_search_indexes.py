"""Search that stays flat as the tables grow: pg_trgm indexes for "contains" matches, a status tab index
for invoices.

On PostgreSQL: the pg_trgm extension, GIN trigram indexes on lower(orders.billing_name),
orders.billing_email, payments.email, invoices.number and credit_notes.number (portal.search matches free
text with `LIKE '%text%'`, which they serve under any collation), and larger statistics for those columns so
the planner estimates a trigram match well enough to choose between the index and walking the list's date
index. On every database: invoices (status, issued_at, id) for a status tab in the list's order.

CREATE EXTENSION needs a role allowed to create it (a superuser, or the database owner on PostgreSQL 13+
where pg_trgm is a trusted extension).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (  # name, table, indexed expression
    ("ix_orders_billing_name_trgm", "orders", "lower(billing_name)"),
    ("ix_orders_billing_email_trgm", "orders", "billing_email"),
    ("ix_payments_email_trgm", "payments", "email"),
    ("ix_invoices_number_trgm", "invoices", "number"),
    ("ix_credit_notes_number_trgm", "credit_notes", "number"),
)
STATISTICS = (  # the same as portal.search.POSTGRES_STATISTICS
    "ALTER INDEX ix_orders_billing_name_trgm ALTER COLUMN 1 SET STATISTICS 1000",
    "ALTER TABLE orders ALTER COLUMN billing_email SET STATISTICS 1000",
    "ALTER TABLE payments ALTER COLUMN email SET STATISTICS 1000",
)


def upgrade():
    # A plain create_index: no batch rebuild of invoices on SQLite (which would drop its expression indexes).
    op.create_index("ix_invoices_status_issued", "invoices", ["status", "issued_at", "id"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in TRIGRAM_INDEXES:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")
    for statement in STATISTICS:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _expression in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("ALTER TABLE orders ALTER COLUMN billing_email SET STATISTICS -1")
        op.execute("ALTER TABLE payments ALTER COLUMN email SET STATISTICS -1")
    op.drop_index("ix_invoices_status_issued", table_name="invoices")
