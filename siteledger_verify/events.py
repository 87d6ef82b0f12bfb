"""What a leaf of SiteLedger's log is, and how an event's hash is computed — restated from the outside.

The server's `domain/canonical.py` hashes an event as SHA-256(prev_hash ‖ "\\n" ‖ canonical JSON of
[topic, fields]) with sorted keys, no whitespace and UTF-8; the evidence pack carries each event's topic
and fields already reduced to JSON values, so the same bytes come out of `json.dumps` here.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any
from uuid import UUID

from siteledger_verify.merkle import leaf_hash

GENESIS_HASH = "0" * 64
LEAF_SIZE = 16 + 8 + 32


def leaf_data(aggregate_id: UUID, version: int, event_hash: str) -> bytes:
    """A leaf: the aggregate's 16-byte id, its version as 8 bytes big-endian, the event's 32-byte SHA-256."""
    return aggregate_id.bytes + struct.pack(">Q", version) + bytes.fromhex(event_hash)


def event_leaf_hash(aggregate_id: UUID, version: int, event_hash: str) -> bytes:
    return leaf_hash(leaf_data(aggregate_id, version, event_hash))


def parse_leaf(data: bytes) -> tuple[UUID, int, str]:
    if len(data) != LEAF_SIZE:
        raise ValueError(f"a leaf is {LEAF_SIZE} bytes, not {len(data)}")
    (version,) = struct.unpack(">Q", data[16:24])
    return UUID(bytes=data[:16]), version, data[24:].hex()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(prev_hash: str, topic: str, fields: dict[str, Any]) -> str:
    """The hash an event must carry, from its topic and its fields (every field but `event_hash`)."""
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical_json([topic, fields])).hexdigest()
