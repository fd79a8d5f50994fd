"""Invoice and credit-note number series per vendor.

Revision ID: 0008_h1
Revises: 0007_h0
Create Date: 2026-12-01 17:40:00

A vendor's invoices are numbered in its own series (its invoice prefix, its own gap-free counter), so
(financial_year, sequence_no) is unique per series only. Existing documents are the house's ("invoice",
"credit_note").
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_h1"
down_revision = "0007_h0"
branch_labels = None
depends_on = None

NEVER_REUSE_IDS = {"sqlite_autoincrement": True}  # batch rebuilds keep AUTOINCREMENT (revision 0003)
TABLES = {"invoices": ("invoice", NEVER_REUSE_IDS), "credit_notes": ("credit_note", {})}


def upgrade():
    for table, (series, table_kwargs) in TABLES.items():
        with op.batch_alter_table(table, schema=None, table_kwargs=table_kwargs) as batch_op:
            batch_op.add_column(sa.Column("series", sa.String(length=20), server_default=series, nullable=False))
            batch_op.drop_constraint(f"uq_{table}_financial_year_sequence_no", type_="unique")
            batch_op.create_unique_constraint(
                f"uq_{table}_series_financial_year_sequence_no", ["series", "financial_year", "sequence_no"]
            )


def downgrade():
    for table, (_series, table_kwargs) in TABLES.items():
        with op.batch_alter_table(table, schema=None, table_kwargs=table_kwargs) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_series_financial_year_sequence_no", type_="unique")
            batch_op.create_unique_constraint(
                f"uq_{table}_financial_year_sequence_no", ["financial_year", "sequence_no"]
            )
            batch_op.drop_column("series")
