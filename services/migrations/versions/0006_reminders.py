"""What the reminders have already sent: one row per deadline, its last state sent to the broker.

The deadlines themselves are judged from the log on each run; which of their changes already left the system
exists nowhere else, and a restart must not send them again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "reminder_states" not in set(sa.inspect(op.get_bind()).get_table_names()):
        op.create_table("reminder_states", sa.Column("deadline", sa.Text(), primary_key=True),
                        sa.Column("state", sa.Text(), nullable=False), sa.Column("sent_at", sa.Text(), nullable=False))


def downgrade() -> None:
    op.drop_table("reminder_states")
