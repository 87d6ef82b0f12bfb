"""The canonical encoding's fast path gives the very bytes of the original, for any value: a stored event's hash
and a receipt's fingerprint were computed with the original and must still verify."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.canonical import canonical_bytes, chain_hash


def reference_to_plain(value: Any) -> Any:
    """`domain.canonical.to_plain` as it was when the first events were hashed."""
    if isinstance(value, dict):
        return {str(k): reference_to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [reference_to_plain(v) for v in value]
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


def reference_bytes(value: Any) -> bytes:
    return json.dumps(reference_to_plain(value), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


class Colour(StrEnum):
    RED = "red"
    BLUE = "蓝"


class Tagged(dict[str, Any]):
    pass


class Items(list[Any]):
    pass


leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), st.floats(allow_nan=False), st.uuids(),
    st.dates(), st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=8))])),
    st.decimals(allow_nan=False, allow_infinity=False), st.sampled_from(list(Colour)),
)
keys = st.one_of(st.text(), st.integers(), st.booleans(), st.uuids(), st.sampled_from(list(Colour)), st.none())
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple), st.lists(inner, max_size=3).map(Items),
    st.dictionaries(keys, inner, max_size=4), st.dictionaries(st.text(), inner, max_size=3).map(Tagged),
), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_same_bytes_as_the_original_encoding(value: Any) -> None:
    assert canonical_bytes(value) == reference_bytes(value)


def test_a_known_event_hash_is_unchanged() -> None:
    fields = {"actor_id": UUID(int=7), "actor_role": "supervisor", "timestamp": datetime(2026, 5, 1, 8, 30, tzinfo=UTC),
              "measurements": {"depth_m": Decimal("1.20"), "count": 3, "ok": True, "ratio": 0.5},
              "photos": ("a", "b"), "notes": "北侧管沟", "gps": None}
    expected = reference_bytes(["siteledger:InspectionRecorded", fields])
    assert canonical_bytes(["siteledger:InspectionRecorded", fields]) == expected


def test_the_chain_hash_covers_the_canonical_bytes() -> None:
    fields = {"b": [1, 2.5, Decimal("3.0")], "a": {"k": UUID(int=1)}}
    expected = hashlib.sha256(b"0" * 64 + b"\n" + reference_bytes(["t", fields])).hexdigest()
    assert chain_hash("0" * 64, "t", fields) == expected
