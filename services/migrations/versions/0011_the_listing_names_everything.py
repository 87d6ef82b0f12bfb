"""The catalogue and the works register are gone: their rows were subsets of the listing's (a project's name,
district and households; an item's project, kind, title, location and stop-work; each defect and acceptance round),
which their readers now use. Their tables and positions are dropped, and nothing rebuilds them. The listing gains
an item's stop-work reason and two partial indexes (stopped items, open defects by due date), so it is dropped
too and rebuilt from the log on the next start.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

from services.migrations.read_models import rebuild_from_the_log

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The tables at revision 0010 (frozen here: later code may rename them).
DROPPED = {"catalog": ("catalog_projects", "catalog_items"),
           "works_register": ("reg_projects", "reg_items", "reg_defects", "reg_rounds")}
REBUILT = {"listing": ("lst_projects", "lst_assignments", "lst_members", "lst_items", "lst_defects", "lst_stops",
                       "lst_rounds", "lst_text", "lst_short")}


def upgrade() -> None:
    rebuild_from_the_log({**DROPPED, **REBUILT})  # no read model is left to rebuild the dropped ones


def downgrade() -> None:
    rebuild_from_the_log(REBUILT)  # the old code makes the others again and rebuilds them all from the log
