"""The notification outbox: outbox_messages (one row per message, written in the transaction of the change
it is about; see docs/notifications.md).

AUTOINCREMENT on SQLite (NEVER_REUSE_IDS): a purged message's id is never handed out again, so a bookmarked
/admin/outbox/<id> never shows another message.

Revision ID: 0006_h3
Revises: 0006_h1
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_h3"
down_revision = "0006_h1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sending_until", sa.DateTime(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'not_sent')", name=op.f("ck_outbox_messages_status_valid")
        ),
        sa.CheckConstraint("audience IN ('customer', 'staff')", name=op.f("ck_outbox_messages_audience_valid")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_outbox_messages_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_outbox_messages_payment_id_payments"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_outbox_messages_refund_id_refunds"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["users.id"], name=op.f("fk_outbox_messages_customer_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_recipient"), ["recipient"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_refund_id"), ["refund_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_outbox_messages_status_next", ["status", "next_attempt_at", "id"], unique=False)
        batch_op.create_index("ix_outbox_messages_created", ["created_at", "id"], unique=False)


def downgrade():
    op.drop_table("outbox_messages")
