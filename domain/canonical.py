"""The canonical encoding that event hashes and signatures are computed over."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64


def to_plain(value: Any) -> Any:
    """Reduce a value to JSON types the same way before and after a round trip through the store.

    Exact built-in types are recognised by `type(...) is` first (most of an event is strings and plain
    containers: this is on every command's path, twice); anything else, subclasses included, takes the
    general path below, which is what this function always did."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): to_plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [to_plain(v) for v in value]
    if kind is UUID:
        return str(value)
    if kind is datetime:
        return value.isoformat()
    return _to_plain_general(value)


def _to_plain_general(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


# What `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)` builds on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_bytes(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: two equal values always give the same bytes."""
    return _CANONICAL.encode(to_plain(value)).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def chain_hash(prev_hash: str, topic: str, fields: dict[str, Any]) -> str:
    """Hash of one event, bound to the hash of the event before it."""
    return sha256_hex(prev_hash.encode("ascii") + b"\n" + canonical_bytes([topic, fields]))
