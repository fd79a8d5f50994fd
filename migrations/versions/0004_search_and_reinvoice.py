"""Search indexes (name and email prefixes, GSTIN, invoice total) and a new invoice after a void.

An order had at most one invoice (unique order_id), so a voided invoice could never be replaced. Now at
most one invoice per order is not void (a partial unique index); voided ones stay, numbers and all.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NOT_VOID = "status <> 'void'"


# SQLite rebuilds the invoices table to drop the constraint: keep AUTOINCREMENT (revision 0003).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


def upgrade():
    with op.batch_alter_table("invoices", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_constraint("uq_invoices_order_id", type_="unique")
        batch_op.create_index("ix_invoices_order_id", ["order_id"], unique=False)
        batch_op.create_index(
            "uq_invoices_order_current",
            ["order_id"],
            unique=True,
            postgresql_where=sa.text(NOT_VOID),
            sqlite_where=sa.text(NOT_VOID),
        )
        batch_op.create_index("ix_invoices_total", ["total"], unique=False)
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_email_prefix", ["email"], unique=False, postgresql_ops={"email": "varchar_pattern_ops"}
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_billing_email_prefix",
            ["billing_email"],
            unique=False,
            postgresql_ops={"billing_email": "varchar_pattern_ops"},
        )
        batch_op.create_index("ix_orders_billing_gstin", ["billing_gstin"], unique=False)
        batch_op.create_index(
            "ix_orders_billing_name_lower",
            [sa.text("lower(billing_name) varchar_pattern_ops")]
            if op.get_bind().dialect.name == "postgresql"
            else [sa.text("lower(billing_name)")],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_billing_name_lower")
        batch_op.drop_index("ix_orders_billing_gstin")
        batch_op.drop_index("ix_orders_billing_email_prefix")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_email_prefix")
    with op.batch_alter_table("invoices", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_index("ix_invoices_total")
        batch_op.drop_index("uq_invoices_order_current")
        batch_op.drop_index("ix_invoices_order_id")
        batch_op.create_unique_constraint("uq_invoices_order_id", ["order_id"])
