"""The integration event: a stable CloudEvents 1.0 JSON envelope, never the stored state."""

from __future__ import annotations

import json
from typing import Any

from domain.canonical import to_plain
from domain.chain import ChainedEvent

HIDDEN = {"originator_id", "originator_version", "timestamp", "originator_topic", "template"}


def aggregate_kind(event: ChainedEvent) -> str:
    """'works_item' or 'project', from the event's explicit topic (siteledger.works_item:InspectionRecorded)."""
    return type(event).TOPIC.split(":")[0].removeprefix("siteledger.")  # type: ignore[attr-defined, no-any-return]


def envelope(event: ChainedEvent, position: int, source: str) -> dict[str, Any]:
    kind, name = aggregate_kind(event), type(event).__name__
    return {
        "specversion": "1.0",
        "id": f"{event.originator_id}-{event.originator_version}",  # the same on a republish: dedupe on it
        "source": f"{source}/{kind}",
        "type": f"cn.siteledger.{kind}.{name}.v1",
        "subject": str(event.originator_id),
        "time": event.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "position": position,
        "aggregateversion": event.originator_version,
        "requestid": event.request_id,  # the HTTP request that caused it, for following a command end to end
        "data": to_plain({k: v for k, v in vars(event).items() if k not in HIDDEN}),
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
