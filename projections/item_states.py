"""A works item as the read side folds it: the domain's own aggregate, mutated by each event in turn.

Read models keep one row of state per item (the snapshot encoding), so they judge "passed",
"open defects" or "in order" with the domain's rules instead of copies of them.
"""

from __future__ import annotations

import json
from uuid import UUID

from domain.templates.frozen import FrozenTemplate
from domain.works_item import WorksItem
from domain.works_item_events import Registered, WorksItemEvent
from projections.driver import Batch


class ItemStates:
    def __init__(self, table: str) -> None:
        self.table = table
        self.templates = f"{table}_templates"
        self.ddl = (
            f"CREATE TABLE IF NOT EXISTS {table} (item_id TEXT PRIMARY KEY, template TEXT NOT NULL, "
            "state TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.templates} (digest TEXT PRIMARY KEY, data TEXT NOT NULL)",
        )
        self._known: dict[str, FrozenTemplate] = {}  # parsed once per process; a handful serve every item

    def _template(self, batch: Batch, digest: str) -> FrozenTemplate:
        if digest not in self._known:
            row = batch.tx.execute(f"SELECT data FROM {self.templates} WHERE digest = ?", (digest,)).fetchone()
            self._known[digest] = FrozenTemplate(json.loads(row[0]))
        return self._known[digest]

    def get(self, batch: Batch, item_id: UUID) -> WorksItem | None:
        key = (self.table, item_id)
        if key in batch.cache:
            return batch.cache[key]
        row = batch.tx.execute(f"SELECT template, state FROM {self.table} WHERE item_id = ?",
                               (str(item_id),)).fetchone()
        item = None
        if row is not None:
            item = object.__new__(WorksItem)
            item.__dict__.update(batch.app.mapper.transcoder.decode(row[1].encode()))
            item.__dict__["template"] = self._template(batch, row[0])
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
            template: FrozenTemplate = item.template
            written = batch.cache.setdefault(("templates written", self.table), set())
            if template.digest not in written:  # once per batch: this database may not have it yet
                batch.tx.execute(f"DELETE FROM {self.templates} WHERE digest = ?", (template.digest,))
                batch.tx.execute(f"INSERT INTO {self.templates} VALUES (?, ?)",
                                 (template.digest, json.dumps(template.data, ensure_ascii=False)))
                written.add(template.digest)
                self._known.setdefault(template.digest, template)
            state = {k: v for k, v in item.__dict__.items() if k not in ("_pending_events", "template")}
            encoded = batch.app.mapper.transcoder.encode(state).decode()
            batch.tx.execute(f"DELETE FROM {self.table} WHERE item_id = ?", (str(item_id),))
            batch.tx.execute(f"INSERT INTO {self.table} VALUES (?, ?, ?)", (str(item_id), template.digest, encoded))
            saved.append(item)
        return saved

