"""A works item as the read side folds it: the domain's own aggregate, mutated by each event in turn.

Read models keep one row of state per item (the snapshot encoding), so they judge "passed",
"open defects" or "in order" with the domain's rules instead of copies of them.
"""

from __future__ import annotations

from uuid import UUID

from domain.works_item import WorksItem
from domain.works_item_events import Registered, WorksItemEvent
from projections.driver import Batch


class ItemStates:
    def __init__(self, table: str) -> None:
        self.table = table
        self.ddl = (f"CREATE TABLE IF NOT EXISTS {table} (item_id TEXT PRIMARY KEY, state TEXT NOT NULL)",)

    def get(self, batch: Batch, item_id: UUID) -> WorksItem | None:
        key = (self.table, item_id)
        if key in batch.cache:
            return batch.cache[key]  # type: ignore[no-any-return]
        row = batch.tx.execute(f"SELECT state FROM {self.table} WHERE item_id = ?", (str(item_id),)).fetchone()
        item = None
        if row is not None:
            item = object.__new__(WorksItem)
            item.__dict__.update(batch.app.mapper.transcoder.decode(row[0].encode()))
            item.__dict__["_pending_events"] = []
        batch.cache[key] = item
        return item

    def fold(self, batch: Batch, event: WorksItemEvent) -> WorksItem | None:
        """The item after the event. An event changes only what it is about, so a rule about other
        hold points (order) or standing orders (stop-work) reads the same before and after it."""
        if isinstance(event, Registered):
            item = event.mutate(None)
        else:
            item = self.get(batch, event.originator_id)
            if item is None or event.originator_version != item.version + 1:
                return item  # already applied (a replayed batch) or an item registered before tracking began
            event.mutate(item)
        batch.cache[(self.table, event.originator_id)] = item
        batch.cache.setdefault(("dirty", self.table), set()).add(event.originator_id)
        return item

    def save(self, batch: Batch) -> list[WorksItem]:
        saved = []
        for item_id in batch.cache.get(("dirty", self.table), set()):
            item = batch.cache[(self.table, item_id)]
            state = {k: v for k, v in item.__dict__.items() if k != "_pending_events"}
            encoded = batch.app.mapper.transcoder.encode(state).decode()
            batch.tx.execute(f"DELETE FROM {self.table} WHERE item_id = ?", (str(item_id),))
            batch.tx.execute(f"INSERT INTO {self.table} (item_id, state) VALUES (?, ?)", (str(item_id), encoded))
            saved.append(item)
        return saved

