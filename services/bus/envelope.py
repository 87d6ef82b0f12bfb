"""The message on the wire: a CloudEvents 1.0 JSON envelope around one versioned integration event.

`type` names the contract (`siteledger.works_item.inspection_recorded.v1`), `dataschema` its JSON Schema
(the files in services/bus/schemas/), `data` is that contract — never the stored event's own fields.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.chain import ChainedEvent
from services.bus.contracts import BY_DOMAIN, BY_TYPE, IntegrationEvent

SCHEMA_URN = "urn:siteledger:schema:"


class UnknownEventType(ValueError):
    """A message whose `type` this version of SiteLedger has no contract for."""


def aggregate_kind(event: ChainedEvent | type[ChainedEvent]) -> str:
    """'works_item' or 'project', from the event's explicit topic (siteledger.works_item:InspectionRecorded)."""
    topic: str = (event if isinstance(event, type) else type(event)).TOPIC  # set on every subclass by ChainedEvent
    return topic.split(":")[0].removeprefix("siteledger.")


def contract_for(event: ChainedEvent) -> type[IntegrationEvent]:
    return BY_DOMAIN[type(event)]


def envelope(event: ChainedEvent, position: int, source: str) -> dict[str, Any]:
    contract = contract_for(event)
    return {
        "specversion": "1.0",
        "id": f"{event.originator_id}-{event.originator_version}",  # the same on a republish: dedupe on it
        "source": f"{source}/{aggregate_kind(event)}",
        "type": contract.TYPE,
        "dataschema": SCHEMA_URN + contract.TYPE,
        "subject": str(event.originator_id),
        "time": event.timestamp.isoformat(),
        "datacontenttype": "application/json",
        "position": position,
        "aggregateversion": event.originator_version,
        "requestid": event.request_id,  # the HTTP request that caused it, for following a command end to end
        "data": contract.from_domain(event).model_dump(mode="json"),
    }


def encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def encode_event(event: ChainedEvent, position: int, source: str) -> bytes:
    """`encode(envelope(...))`, faster: the contract serialises itself (pydantic-core), the envelope around it."""
    contract = contract_for(event)
    data = contract.from_domain(event).model_dump_json()
    return (head(contract.TYPE, f"{source}/{aggregate_kind(event)}", str(event.originator_id),
                 event.originator_version, event.timestamp.isoformat(), position, event.request_id)
            + data + "}").encode()


@functools.cache
def _constants(type_: str, source: str) -> str:
    """The envelope's fields that are fixed for a contract and a source, JSON-encoded once."""
    return f'"source":{encode_str(source)},"type":{encode_str(type_)},"dataschema":{encode_str(SCHEMA_URN + type_)}'


def encode_str(value: str | None) -> str:
    return json.dumps(value, ensure_ascii=False)


def head(type_: str, source: str, subject: str, version: int, time: str, position: int,
         request_id: str | None) -> str:
    """`encode(envelope(...))` up to its `data`, in the same key order, without json.dumps' cost on the relay's
    path (a quarter of an event's encoding). Only values that need no escaping are put in as they are: `subject`
    is a UUID's text, `time` an isoformat, the numbers ints; the rest goes through json.dumps (cached)."""
    request = "null" if request_id is None else encode_str(request_id)
    return (f'{{"specversion":"1.0","id":"{subject}-{int(version)}",{_constants(type_, source)},'
            f'"subject":"{subject}","time":"{time}","datacontenttype":"application/json",'
            f'"position":{int(position)},"aggregateversion":{int(version)},"requestid":{request},"data":')


@dataclass(frozen=True)
class Received:
    """One message as a consumer needs it: the domain event rebuilt from the contract, and where it stood."""

    event: ChainedEvent
    type: str
    position: int
    aggregate_id: str
    version: int


def decode(value: bytes) -> Received:
    """The envelope alone gives back the domain event: a consumer needs no access to the event store."""
    message = json.loads(value)
    contract = BY_TYPE.get(message["type"])
    if contract is None:
        raise UnknownEventType(message["type"])
    data = contract.model_validate(message["data"])
    version = int(message["aggregateversion"])
    event = data.to_domain(UUID(message["subject"]), version, datetime.fromisoformat(message["time"]),
                           message.get("requestid"))
    return Received(event, contract.TYPE, int(message["position"]), message["subject"], version)
