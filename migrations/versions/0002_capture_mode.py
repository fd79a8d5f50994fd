"""orders.capture_mode: auto (the gateway or we capture at once) or manual (finance captures)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite cannot add a CHECK constraint to an existing table without rebuilding it.
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("capture_mode", sa.String(length=10), server_default="auto", nullable=False))
        batch.create_check_constraint(op.f("ck_orders_capture_mode_valid"), "capture_mode IN ('auto', 'manual')")


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint(op.f("ck_orders_capture_mode_valid"), type_="check")
        batch.drop_column("capture_mode")
