"""Per-item state for a read model: `domain.item_state.ItemState`, folded by the events' own `apply`, stored as
its named plain fields (one row per item) with each frozen template stored once by digest.

Each read model that needs it (dashboard, timeline, deadlines) keeps its own table because each is tracked and
fails on its own: the timeline judges an event against the item as it was at that event, so it cannot read
states another read model has already moved past (or not yet reached).
"""

from __future__ import annotations

import json
from uuid import UUID

from domain.item_state import ItemState, fold, from_plain, to_plain
from domain.templates.frozen import FrozenTemplate
from domain.works_item_events import Registered, WorksItemEvent
from projections.driver import Batch

# One encoder for every state saved: `json.dumps` with options builds a new one per call, and a state is a tree of
# plain dicts and lists made by `to_plain`, never circular (a rebuild saves tens of thousands)
_ENCODE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def first_in_rebuild(batch: Batch, event: WorksItemEvent) -> bool:
    """An item's registration in a rebuild: nothing of the item is stored yet (`Batch.rebuilding`), so there is
    nothing to look up, which is one SELECT per item saved per read model."""
    return batch.rebuilding and isinstance(event, Registered) and event.originator_version == 1


class ItemStates:
    def __init__(self, table: str) -> None:
        self.table = table
        self.templates = f"{table}_templates"
        self.ddl = (
            f"CREATE TABLE IF NOT EXISTS {table} (item_id TEXT PRIMARY KEY, state TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.templates} (digest TEXT PRIMARY KEY, data TEXT NOT NULL)",
        )
        self._known: dict[str, FrozenTemplate] = {}  # parsed once per process; a handful serve every item

    def _template(self, batch: Batch, digest: str) -> FrozenTemplate:
        if digest not in self._known:
            row = batch.tx.execute(f"SELECT data FROM {self.templates} WHERE digest = ?", (digest,)).fetchone()
            self._known[digest] = FrozenTemplate.of(json.loads(row[0]))
        return self._known[digest]

    def get(self, batch: Batch, item_id: UUID) -> ItemState | None:
        key = (self.table, item_id)
        if key in batch.cache:
            return batch.cache[key]
        row = batch.tx.execute(f"SELECT state FROM {self.table} WHERE item_id = ?", (str(item_id),)).fetchone()
        state = None
        if row is not None:
            plain = json.loads(row[0])
            state = from_plain(plain, self._template(batch, plain["template"]))
        batch.cache[key] = state
        return state

    def fold(self, batch: Batch, event: WorksItemEvent) -> ItemState | None:
        """The item after the event. An event changes only what it is about, so a rule about other
        hold points (order) or standing orders (stop-work) reads the same before and after it.

        In one pass over the log every read model that keeps item states is at the same position, so the first
        to fold an event hands the state to the others (`batch.shared`): each stores it in its own table."""
        memo = ("item state after", event.originator_id, event.originator_version)
        if batch.shared is not None and memo in batch.shared:
            state = batch.shared[memo]
            self._changed(batch, state, event)
            return state
        before = self.before(batch, event)
        version = before.version if before is not None else None
        state = fold(before, event)
        if state is not None and state.version != version:
            self._changed(batch, state, event)
            if batch.shared is not None:
                batch.shared[memo] = state
        return state

    def before(self, batch: Batch, event: WorksItemEvent) -> ItemState | None:
        """The item as stored before `event`; nothing to look up for its registration in a rebuild."""
        return None if first_in_rebuild(batch, event) else self.get(batch, event.originator_id)

    def _changed(self, batch: Batch, state: ItemState, event: WorksItemEvent) -> None:
        batch.cache[(self.table, event.originator_id)] = state
        batch.cache.setdefault(("dirty", self.table), set()).add(event.originator_id)
        if first_in_rebuild(batch, event):
            batch.cache.setdefault(("new", self.table), set()).add(event.originator_id)

    def is_new(self, batch: Batch, item_id: UUID) -> bool:
        """First seen in this rebuild batch, so no row of this read model can hold it yet (no DELETE needed)."""
        return item_id in batch.cache.get(("new", self.table), ())

    def save(self, batch: Batch) -> list[ItemState]:
        saved = []
        written = batch.cache.setdefault(("templates written", self.table), set())
        rows = []
        for item_id in batch.cache.get(("dirty", self.table), set()):
            state: ItemState = batch.cache[(self.table, item_id)]
            template = state.template
            if template.digest not in written:  # once per batch: this database may not have it yet
                batch.tx.execute(f"INSERT INTO {self.templates} VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
                                 (template.digest, json.dumps(template.data, ensure_ascii=False)))
                written.add(template.digest)
                self._known.setdefault(template.digest, template)
            rows.append((str(item_id), self._encoded(batch, state)))
            saved.append(state)
        batch.tx.executemany(f"INSERT INTO {self.table} VALUES (?, ?) ON CONFLICT (item_id) DO UPDATE "
                             "SET state = excluded.state", rows)
        batch.cache.pop(("dirty", self.table), None)
        return saved

    @staticmethod
    def _encoded(batch: Batch, state: ItemState) -> str:
        """The stored text of a state; in one pass the read models at one position hold the same states, so the
        first to save one encodes it for all (encoding was a third of what saving the three tables cost)."""
        if batch.shared is None:
            return _ENCODE(to_plain(state))
        key = ("item state text", state.id, state.version)
        text = batch.shared.get(key)
        if text is None:
            text = batch.shared[key] = _ENCODE(to_plain(state))
        return str(text)
