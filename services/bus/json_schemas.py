"""The JSON Schemas of the integration events, generated from the contracts and kept as files in the repository.

The files in services/bus/schemas/ are what other teams read; a test fails when they differ from what the
contracts generate, so they are regenerated on purpose: `python -m services.bus.json_schemas`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.bus.contracts import CONTRACTS
from services.bus.envelope import SCHEMA_URN

SCHEMA_DIR = Path(__file__).parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class EnvelopeV1(BaseModel):
    """The CloudEvents 1.0 envelope every message has; `data` follows the schema that `dataschema` names."""

    model_config = ConfigDict(extra="forbid")

    specversion: Literal["1.0"]
    id: str = Field(description="aggregate id and version: the same on a republish, so consumers dedupe on it")
    source: str
    type: str = Field(description="the integration event's type, e.g. siteledger.works_item.inspection_recorded.v1")
    dataschema: str
    subject: str = Field(description="the aggregate id (also the Kafka key: one aggregate, one partition)")
    time: str = Field(description="when the server recorded the event (ISO 8601 with zone)")
    datacontenttype: Literal["application/json"]
    position: int = Field(description="the event's position in SiteLedger's log (unique, increasing)")
    aggregateversion: int = Field(description="1, 2, 3 … within the aggregate, without gaps")
    requestid: str | None
    data: dict[str, Any]


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for the envelope and each integration event type."""
    out = {"envelope.v1.json": {"$schema": DIALECT, "$id": SCHEMA_URN + "envelope.v1",
                                **EnvelopeV1.model_json_schema()}}
    for contract in CONTRACTS:
        schema = contract.model_json_schema()
        schema["title"] = contract.TYPE
        out[f"{contract.TYPE}.json"] = {"$schema": DIALECT, "$id": SCHEMA_URN + contract.TYPE, **schema}
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
