"""The timeline no longer copies each event's own fields (`data`): its readers take them from the log
(`projections.timeline.payloads`). The column is dropped in place; every other column keeps its rows, so nothing
is rebuilt. SQLite drops a column since 3.35 (Debian 12 has 3.40). The index of flagged entries becomes partial
(`timeline_flagged_only`, created by the read model on start): the old one is dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.migrations.read_models import rebuild_from_the_log

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    inspector = sa.inspect(op.get_bind())
    if "timeline_events" not in inspector.get_table_names():
        return set()  # the read model creates its table on start, already without the column
    return {column["name"] for column in inspector.get_columns("timeline_events")}


def upgrade() -> None:
    if "data" in _columns():
        op.execute("DROP INDEX IF EXISTS timeline_flagged")
        op.execute("ALTER TABLE timeline_events DROP COLUMN data")


def downgrade() -> None:
    """The old code reads and writes the copy: its rows are gone, so the old timeline rebuilds from the log."""
    if "data" in _columns():
        return
    if "timeline_events" in sa.inspect(op.get_bind()).get_table_names():
        rebuild_from_the_log({"timeline": ("timeline_events", "timeline_photos", "timeline_item_states",
                                           "timeline_item_states_templates")})
