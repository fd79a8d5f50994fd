"""Customers' opt-out of non-transactional messages: users.updates_opted_out_at (NULL = receives them).

Revision ID: 0006_h4
Revises: 0006_h3
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_h4"
down_revision = "0006_h3"
branch_labels = None
depends_on = None


def upgrade():
    # A plain add_column (a nullable column): SQLite adds it in place, no batch rebuild of users.
    op.add_column("users", sa.Column("updates_opted_out_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("updates_opted_out_at")
