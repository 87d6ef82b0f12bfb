"""What a revision does when a read model's stored form changes so that its rows cannot be read on: its tables are
dropped and its position reset (from the event log, and from Kafka), and its projector rebuilds it on the next start.
The log is the record; a read model is always rebuildable from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from alembic import op


def rebuild_from_the_log(tables_by_read_model: Mapping[str, Sequence[str]]) -> None:
    """`tables_by_read_model`: the tables each read model had at the revision before (frozen in the revision:
    later code may rename them)."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, tables in tables_by_read_model.items():
        for table in tables:
            if table in existing:
                op.drop_table(table)
        for bookkeeping in ("projection_tracking", "projection_versions"):  # from the log, or from Kafka
            if bookkeeping in existing:
                bind.execute(sa.text(f"DELETE FROM {bookkeeping} WHERE name = :name"), {"name": name})
