"""A refund of a checkout's payment that never became orders: refunds.order_id nullable, refunds.checkout_id.

Revision ID: 0008_h2
Revises: 0007_h0
Create Date: 2026-12-01 17:30:00

When money arrives for a checkout whose orders cannot be created (expired, stock gone, a vendor deactivated),
the payment is refunded in full with no order to hang the refund on: the refund names the checkout instead.
Every refund names one or the other.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_h2"
down_revision = "0007_h0"
branch_labels = None
depends_on = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}  # batch rebuilds keep AUTOINCREMENT (revision 0003)


def upgrade():
    with op.batch_alter_table("refunds", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.add_column(sa.Column("checkout_id", sa.Integer(), nullable=True))
        batch_op.alter_column("order_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_refunds_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_refunds_checkout_id_checkouts"), "checkouts", ["checkout_id"], ["id"], ondelete="RESTRICT"
        )
        batch_op.create_check_constraint(
            op.f("ck_refunds_refunds_an_order_or_a_checkout"), "order_id IS NOT NULL OR checkout_id IS NOT NULL"
        )


def downgrade():
    with op.batch_alter_table("refunds", schema=None, table_kwargs=NEVER_REUSE_IDS) as batch_op:
        batch_op.drop_constraint(op.f("ck_refunds_refunds_an_order_or_a_checkout"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_refunds_checkout_id_checkouts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_refunds_checkout_id"))
        batch_op.alter_column("order_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("checkout_id")
