"""The read models that keep per-item state store it as named plain fields (domain/item_state.py), not the
aggregate's encoded `__dict__`, and the listing has a new text index: their old rows cannot be read on, so their
tables are dropped and their positions reset, and each is rebuilt from the event log by its runner on the next
start (the log is the record; a read model is always rebuildable from it).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from services.migrations.read_models import rebuild_from_the_log

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The tables these read models had at revision 0006, by read model (frozen here: later code may rename them).
REBUILT = {
    "dashboard": ("dash_projects", "dash_items", "dash_defects", "dash_rounds", "dash_quantities",
                  "dash_item_states", "dash_item_states_templates",
                  # its running totals (added with this revision): a rebuild must not add to totals left behind
                  "dash_roll_items", "dash_roll_defects", "dash_roll_due", "dash_roll_rounds", "dash_roll_quantities"),
    "timeline": ("timeline_events", "timeline_photos", "timeline_item_states", "timeline_item_states_templates"),
    "deadlines": ("dl_deadlines", "dl_projects", "dl_item_states", "dl_item_states_templates"),
    # the lists' text indexes gained one for one- and two-letter search (lst_short / short_grams)
    "listing": ("lst_projects", "lst_assignments", "lst_members", "lst_items", "lst_defects", "lst_stops",
                "lst_rounds", "lst_text", "lst_short"),
}


def upgrade() -> None:
    rebuild_from_the_log(REBUILT)


def downgrade() -> None:
    upgrade()  # the old code rebuilds the same way from an empty read model
