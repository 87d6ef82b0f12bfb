"""The transparency log: an RFC 9162 Merkle tree over every stored domain event, in log order, as a read model.

A leaf is (aggregate id, version, event hash) (`siteledger_verify.events.leaf_data`). The tree keeps every
perfect subtree's hash (`tlog_nodes`, level and index), so appending a leaf writes it and the parents it
completes — O(log n), amortised two rows — and any proof at any size reads O(log² n) stored nodes, never
the leaves. Fed and rebuilt like the other read models; its rebuild must give the same nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.application import Application

from domain.canonical import GENESIS_HASH, chain_hash
from domain.chain import ChainedEvent
from projections.driver import INTERNAL, Batch, EventStoreDriver, PositionMoved
from projections.sql import Database, Transaction
from siteledger_verify import merkle
from siteledger_verify.events import event_leaf_hash
from siteledger_verify.merkle import Node


class OutOfOrder(Exception):
    """The log is a sequence: feeding it out of log order (e.g. from Kafka partitions) would make another tree."""


def event_hash_of(event: Any) -> str:
    """A chained event carries its hash; a photo's facts (not chained) are hashed the same way, from genesis."""
    if isinstance(event, ChainedEvent):
        return event.event_hash
    fields = {k: v for k, v in vars(event).items() if k != "event_hash"}
    return chain_hash(GENESIS_HASH, type(event).TOPIC, fields)


class TransparencyLog:
    name = "transparency_log"
    topics: tuple[str, ...] = ()
    tables = ("tlog_leaves", "tlog_nodes")
    ddl = (
        "CREATE TABLE IF NOT EXISTS tlog_leaves (leaf_index BIGINT PRIMARY KEY, position BIGINT NOT NULL, "
        "aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, event_hash TEXT NOT NULL)",
        "CREATE UNIQUE INDEX IF NOT EXISTS tlog_leaves_event ON tlog_leaves (aggregate_id, version)",
        "CREATE TABLE IF NOT EXISTS tlog_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash TEXT NOT NULL, "
        "PRIMARY KEY (level, idx))",
    )

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        state = batch.cache.get(self.name)
        if state is None:
            state = batch.cache[self.name] = TreeAppender.load(batch.tx)
        state.append(position, event.originator_id, event.originator_version, event_hash_of(event))

    def flush(self, batch: Batch) -> None:
        state = batch.cache.get(self.name)
        if state is not None:
            state.write(batch.tx)


STORED_HASH = re.compile(rb'"event_hash":"([0-9a-f]{64})"')


def stored_leaf(note: Any) -> tuple[Any, int, str] | None:
    """(aggregate id, version, event hash) read straight from a stored record, when its state names exactly one
    `event_hash` (every chained event's does); None: decode it (a photo's facts, anything unusual)."""
    found = STORED_HASH.findall(note.state) if isinstance(note.state, bytes) else []
    return (note.originator_id, int(note.originator_version), found[0].decode()) if len(found) == 1 else None


class TransparencyDriver(EventStoreDriver):
    """The event-store driver, but a leaf needs no decoded event: reading its hash from the record is what lets
    the tree keep up with the store (decoding an item's registration, template and all, costs more than the
    leaf). Same position tracking (compare-and-set) and rebuild as every read model."""

    def __init__(self, model: TransparencyLog, app: Application, db: Database, batch: int = 1000) -> None:
        super().__init__(model, app, db, batch)
        self.log = model

    def _commit(self, start: int, notes: Sequence[Any]) -> None:
        with self.db.transaction() as tx:
            claimed = tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ? AND position = ?",
                                 (start, self.name, start))
            if claimed.rowcount != 1:
                raise PositionMoved(self.name)
            appender = TreeAppender.load(tx)
            for note in notes:
                if note.topic.startswith(INTERNAL):
                    continue
                leaf = stored_leaf(note)
                if leaf is None:
                    event = self.app.mapper.to_domain_event(note)
                    leaf = (event.originator_id, event.originator_version, event_hash_of(event))
                appender.append(int(note.id), *leaf)
            appender.write(tx)
            tx.execute("UPDATE projection_tracking SET position = ? WHERE name = ?", (notes[-1].id, self.name))


class TreeAppender:
    """The right edge of the tree (its perfect subtrees' hashes) and the rows a batch adds."""

    def __init__(self, size: int, last_position: int, edge: list[tuple[int, bytes]]) -> None:
        self.size, self.last_position, self.edge = size, last_position, edge  # edge: (level, hash), left to right
        self.leaves: list[tuple[int, int, str, int, str]] = []
        self.nodes: list[tuple[int, int, str]] = []

    @classmethod
    def load(cls, tx: Transaction) -> TreeAppender:
        row = tx.execute("SELECT leaf_index, position FROM tlog_leaves ORDER BY leaf_index DESC LIMIT 1").fetchone()
        size, last = (int(row[0]) + 1, int(row[1])) if row else (0, 0)
        parts = merkle.perfect_parts(0, size)
        stored = _read_nodes(lambda sql, params: list(tx.execute(sql, params).fetchall()), parts)
        return cls(size, last, [(level, stored[(level, idx)]) for level, idx in parts])

    def append(self, position: int, aggregate_id: Any, version: int, event_hash: str) -> None:
        if position <= self.last_position:
            raise OutOfOrder(f"position {position} after {self.last_position}: the transparency log follows the "
                             "event store in log order")
        index, value = self.size, event_leaf_hash(aggregate_id, version, event_hash)
        self.leaves.append((index, position, str(aggregate_id), version, event_hash))
        self.nodes.append((0, index, value.hex()))
        level, idx = 0, index
        while self.edge and self.edge[-1][0] == level:  # the new subtree completes its left neighbour's parent
            value = merkle.node_hash(self.edge.pop()[1], value)
            level, idx = level + 1, idx >> 1
            self.nodes.append((level, idx, value.hex()))
        self.edge.append((level, value))
        self.size, self.last_position = index + 1, position

    def write(self, tx: Transaction) -> None:
        tx.executemany("INSERT INTO tlog_leaves (leaf_index, position, aggregate_id, version, event_hash) "
                       "VALUES (?, ?, ?, ?, ?)", self.leaves)
        tx.executemany("INSERT INTO tlog_nodes (level, idx, hash) VALUES (?, ?, ?)", self.nodes)
        self.leaves, self.nodes = [], []


def _read_nodes(query: Callable[[str, list[Any]], list[Any]], wanted: Sequence[Node]) -> dict[Node, bytes]:
    """A query per level (an index range each; SQLite does not use the key for row values `IN (VALUES …)`)."""
    found: dict[Node, bytes] = {}
    for level in sorted({lv for lv, _ in wanted}):
        idxs = [i for lv, i in wanted if lv == level]
        for chunk in range(0, len(idxs), 500):
            part = idxs[chunk:chunk + 500]
            rows = query(f"SELECT idx, hash FROM tlog_nodes WHERE level = ? AND idx IN ({','.join('?' * len(part))})",
                         [level, *part])
            found.update({(level, int(i)): bytes.fromhex(h) for i, h in rows})
    missing = [n for n in wanted if n not in found]
    if missing:
        raise LookupError(f"the transparency log lacks nodes {missing[:3]}: it must be rebuilt")
    return found


class TreeReader:
    """Sizes, roots and proofs from the stored nodes (one read model database, any tree size up to the current)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def size(self) -> int:
        rows = self.db.query("SELECT MAX(leaf_index) FROM tlog_leaves")
        return int(rows[0][0]) + 1 if rows and rows[0][0] is not None else 0

    def nodes(self, wanted: Sequence[Node]) -> dict[Node, bytes]:
        return _read_nodes(self.db.query, wanted)

    def root(self, size: int) -> bytes:
        if size == 0:
            return merkle.EMPTY_ROOT
        parts = merkle.perfect_parts(0, size)
        stored = self.nodes(parts)
        return merkle.fold_parts([stored[p] for p in parts])

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return merkle.range_hashes(merkle.inclusion_ranges(index, size), self.nodes)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return merkle.range_hashes(merkle.consistency_ranges(old, new), self.nodes)

    def leaf(self, aggregate_id: str, version: int) -> tuple[int, str] | None:
        """(leaf index, event hash) of an event, if the log has it."""
        rows = self.db.query("SELECT leaf_index, event_hash FROM tlog_leaves WHERE aggregate_id = ? AND version = ?",
                             (aggregate_id, version))
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def leaves_of(self, aggregate_id: str, below: int) -> list[tuple[int, int, str]]:
        """(leaf index, version, event hash) of every event of an aggregate in the tree of `below` leaves."""
        rows = self.db.query("SELECT leaf_index, version, event_hash FROM tlog_leaves WHERE aggregate_id = ? "
                             "AND leaf_index < ? ORDER BY version", (aggregate_id, below))
        return [(int(i), int(v), str(h)) for i, v, h in rows]

    def leaves(self, start: int, end: int) -> list[tuple[int, str, int, str]]:
        """(leaf index, aggregate id, version, event hash) of leaves [start, end): what a mirroring witness needs."""
        rows = self.db.query("SELECT leaf_index, aggregate_id, version, event_hash FROM tlog_leaves "
                             "WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index", (start, end))
        return [(int(i), str(a), int(v), str(h)) for i, a, v, h in rows]
