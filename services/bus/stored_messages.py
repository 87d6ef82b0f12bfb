"""The relay's publish path: a stored event's state straight to its message, without making the domain event.

Publishing is the relay's whole job, and its Python work shares the GIL with the producer's own. The domain path
(eventsourcing's JSON decoding, the domain dataclass, pydantic validating that object, json.dumps for the
envelope) cost about 45 µs an event. Here pydantic-core parses the stored JSON, only the values eventsourcing
tagged (`{"_type_": …, "_data_": …}`) are decoded, each by the very transcoding that wrote it, and the contract is
validated from that; the envelope comes from `envelope.head`. The message is the same, byte for byte, as
`encode_event` makes from the domain event (tests/unit/services/test_relay_stored_messages.py compares them for
every contract). Whatever this path cannot read exactly as the domain path would (a topic without a contract, an
event class with upcasting, a cipher or a compressor) answers None, and the relay goes the domain way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic_core
from eventsourcing.persistence import Mapper, Notification, Transcoding
from eventsourcing.utils import resolve_topic

from domain.project import ProjectEvent
from domain.works_item_events import WorksItemEvent
from services.bus.contracts import BY_DOMAIN, IntegrationEvent
from services.bus.envelope import aggregate_kind, head


@dataclass(frozen=True)
class Plan:
    """How the events of one stored topic become messages."""

    contract: type[IntegrationEvent]
    kafka_topic: str
    source: str  # the envelope's source: the relay's and the aggregate's kind
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes
    request_id: str | None


class StoredMessages:
    """Notifications to messages; `encode` answers None for one that must go the domain way."""

    def __init__(self, mapper: Mapper[Any], topics: dict[str, str], source: str) -> None:
        self.mapper, self.topics, self.source = mapper, topics, source
        names: dict[str, Transcoding] | None = getattr(mapper.transcoder, "names", None)
        self.transcodings = names
        self._plans: dict[str, Plan | None] = {}

    def plan(self, stored_topic: str) -> Plan | None:
        if stored_topic not in self._plans:
            self._plans[stored_topic] = self._make_plan(stored_topic)
        return self._plans[stored_topic]

    def _make_plan(self, stored_topic: str) -> Plan | None:
        if self.transcodings is None or self.mapper.cipher is not None or self.mapper.compressor is not None:
            return None
        try:
            domain_class = resolve_topic(stored_topic)
        except Exception:  # the domain path raises the real error for it
            return None
        contract = BY_DOMAIN.get(domain_class)
        if contract is None or getattr(domain_class, "class_version", 1) != 1:
            return None  # no contract (the domain path fails loudly), or stored states to upcast first
        if issubclass(domain_class, WorksItemEvent):
            kafka_topic = self.topics["works_item"]
        elif issubclass(domain_class, ProjectEvent):
            kafka_topic = self.topics["project"]
        else:
            return None
        return Plan(contract, kafka_topic, f"{self.source}/{aggregate_kind(domain_class)}",
                    tuple(contract.model_fields))

    def encode(self, note: Notification) -> Message | None:
        plan = self.plan(note.topic)
        if plan is None:
            return None
        state = pydantic_core.from_json(note.state)
        if "class_version" in state:
            return None
        fields = {name: state[name] for name in plan.fields}
        timestamp = self._decode(state["timestamp"])
        tagged = [name for name, value in fields.items() if type(value) is dict and _is_tagged(value)]
        for name in tagged:
            fields[name] = self._decode(fields[name])
        if note.state.count(b'"_type_"') > len(tagged) + 1:  # + the timestamp; more are nested deeper
            fields = {name: self._decode(value) for name, value in fields.items()}
        data = plan.contract.model_validate(fields)
        request_id = state.get("request_id")
        subject = str(note.originator_id)
        value = (head(plan.contract.TYPE, plan.source, subject, note.originator_version, timestamp.isoformat(),
                      note.id, request_id)
                 + data.model_dump_json() + "}").encode()
        return Message(plan.kafka_topic, subject.encode(), value, request_id)

    def _decode(self, value: Any) -> Any:
        """What eventsourcing's JSONTranscoder makes of this JSON value: an object of exactly `_type_` and
        `_data_` is decoded by the transcoding registered under that name, at any depth."""
        if isinstance(value, dict):
            if _is_tagged(value):
                assert self.transcodings is not None
                return self.transcodings[value["_type_"]].decode(self._decode(value["_data_"]))
            return {k: self._decode(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
        if isinstance(value, list):
            return [self._decode(v) if isinstance(v, (dict, list)) else v for v in value]
        return value


def _is_tagged(value: dict[str, Any]) -> bool:
    return len(value) == 2 and "_type_" in value and "_data_" in value
