"""The job-run log: one row per background task run (portal/jobs/recorder.py).

Revision ID: 0006_h1
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_h1"
down_revision = "0005"
branch_labels = None
depends_on = None

STATUSES = "'running', 'complete', 'error', 'retrying', 'locked', 'expired', 'revoked', 'canceled', 'interrupted'"


def upgrade():
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_name", sa.String(length=120), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=True),
        sa.Column("kwargs", sa.JSON(), nullable=True),
        sa.Column("periodic", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("retries_left", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("retried_at", sa.DateTime(), nullable=True),
        sa.Column("retried_by", sa.String(length=255), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_job_runs_status_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_runs_task_id"), ["task_id"], unique=False)
        batch_op.create_index("ix_job_runs_status_started", ["status", "started_at"], unique=False)
        batch_op.create_index("ix_job_runs_task_started", ["task_name", "started_at"], unique=False)


def downgrade():
    op.drop_table("job_runs")
