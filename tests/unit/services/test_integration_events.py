"""The published contract: golden messages, JSON Schemas in the repository, and a lossless way back to the domain.

A golden file is the exact message the relay publishes for a fixed event of each type. Renaming a field of a
domain event fails here (the contract can no longer be built from it, nor the domain event from the contract);
renaming a field of a contract changes the message and fails the golden comparison. Regenerate on purpose:
`SITELEDGER_UPDATE_GOLDEN=1 pytest tests/unit/services/test_integration_events.py` and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import jsonschema_rs
import pytest

from domain.chain import EVENT_METADATA, ChainedEvent, event_digest
from domain.project import ProjectEvent
from domain.works_item_events import WorksItemEvent
from services.bus.contracts import BY_DOMAIN, CONTRACTS, IntegrationEvent
from services.bus.envelope import decode, encode, encode_event, envelope
from services.bus.json_schemas import SCHEMA_DIR, render, schemas

GOLDEN = Path(__file__).parents[2] / "golden" / "integration_events"
UPDATE = os.environ.get("SITELEDGER_UPDATE_GOLDEN") == "1"
AGGREGATE = UUID("0b9e2d8c-5a55-4c1e-9a63-2f1f7c4e8a10")
WHEN = datetime(2026, 11, 1, 0, 30, tzinfo=UTC)

# One example value per contract field name; every contract draws from these.
EXAMPLES: dict[str, Any] = {
    "actor_id": UUID("6f1c2a5e-8d0b-4d7e-b3a9-1c2d3e4f5a6b"), "actor_role": "supervisor", "device_id": "tablet-01",
    "device_time": datetime(2026, 11, 1, 8, 20, tzinfo=timezone(timedelta(hours=8))), "command_id": "c-0001",
    "project_id": UUID("3a7d9e1f-2b4c-4d6e-8f0a-1b2c3d4e5f60"), "kind": "pipe_relocation",
    "template": {"code": "pipe_relocation", "version": 1, "hold_points": [{"code": "excavation", "after": []}]},
    "title": "给水管改迁", "location": "3号楼北侧", "contractor_id": None, "planned_start": "2026-11-02",
    "planned_end": None, "links": {"drawing": "DWG-7"}, "inspection_id": "i-0001", "hold_point": "excavation",
    "result": "pass", "checklist": {"shoring_in_place": True}, "measurements": {"depth_m": Decimal("1.20"),
                                                                              "utility_owner": "自来水公司"},
    "notes": "合格", "photos": ["ab" * 32], "gps": {"lat": 31.18, "lon": 121.43}, "spot_check": False,
    "defect_id": "d-0001", "severity": "minor", "description": "回填不密实", "due_date": "2026-11-15",
    "source": "inspection", "reason": "未设围挡", "order_id": "s-0001", "round_no": 1,
    "electorate": ["m-1", "m-2"], "rule": {"min_signed": "2/3", "min_accept": "3/4"}, "subject_version": 9,
    "subject_hash": "cd" * 32, "member_id": "m-1", "decision": "accept", "comment": "", "signature_digest": "ef" * 32,
    "tally": {"electorate": 2, "signed": 2, "accepts": 2, "rejects": 0}, "basis": "all_signed",
    "name": "田林十二村", "district": "徐汇区", "street_office": "田林街道", "address": "田林路 100 弄",
    "year_built": 1986, "buildings": 12, "households": 480, "categories": ["basic"],
    "user_id": UUID("9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a"), "role": "contractor", "building": "3", "unit": "2",
    "min_signed": "2/3", "min_accept": "3/4",
    "item_id": UUID("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"), "threshold": "4/5", "notice_date": "2026-11-02",
    "surveyed_on": "2026-11-03", "sample": 50, "satisfied": 45, "share": "9/10", "held_on": "2026-11-12",
    "parties": ["建设单位", "施工单位"], "resident_representatives": ["m-1"],
    "checked_against": {"notice_date": "2026-11-02", "earliest": "2026-11-11", "survey_share": "9/10"},
    "category": "basic", "funding_sources": ["central_budget", "resident_contributions"],
    "filing_no": "徐建竣备 2026-001", "filed_on": "2026-11-20", "late": False, "days_after_acceptance": 8,
}


def sample(contract: type[IntegrationEvent]) -> ChainedEvent:
    """A fixed domain event of the contract's type, with a hash that verifies."""
    fields = {name: EXAMPLES[name] for name in contract.model_fields if name not in ("prev_hash", "event_hash")}
    draft = contract.model_validate({**fields, "prev_hash": "0" * 64, "event_hash": ""})
    unsigned = draft.to_domain(AGGREGATE, 2, WHEN, "req-0001")
    return type(unsigned)(**{**vars(unsigned), "event_hash": event_digest(unsigned)})


def message(contract: type[IntegrationEvent]) -> str:
    return json.dumps(envelope(sample(contract), 4711, "urn:siteledger"), ensure_ascii=False, indent=2,
                      sort_keys=True) + "\n"


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.TYPE)
def test_the_published_message_equals_its_golden_file(contract: type[IntegrationEvent]) -> None:
    path = GOLDEN / f"{contract.TYPE}.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message(contract), encoding="utf-8")
    assert message(contract) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.TYPE)
def test_a_golden_message_gives_back_the_domain_event_and_matches_its_schema(
        contract: type[IntegrationEvent]) -> None:
    golden = json.loads((GOLDEN / f"{contract.TYPE}.json").read_text(encoding="utf-8"))
    jsonschema_rs.validate(json.loads((SCHEMA_DIR / "envelope.v1.json").read_text()), golden)
    jsonschema_rs.validate(json.loads((SCHEMA_DIR / f"{contract.TYPE}.json").read_text()), golden["data"])
    received = decode(encode(golden))
    assert vars(received.event) == vars(sample(contract))
    assert event_digest(received.event) == received.event.event_hash  # the chain verifies from the message alone
    assert (received.position, received.version, received.type) == (4711, 2, contract.TYPE)


def test_every_domain_event_has_a_contract_that_names_each_of_its_fields() -> None:
    """A new or renamed domain field must be a decision about the contract, not an accident."""
    carried_by_envelope = {"originator_id", "originator_version", "originator_topic", "timestamp", "request_id"}
    domain_events = {cls for base in (WorksItemEvent, ProjectEvent) for cls in _subclasses(base)}
    assert domain_events == set(BY_DOMAIN)
    for event_class, contract in BY_DOMAIN.items():
        domain_fields = {f.name for f in dataclasses.fields(event_class)} - carried_by_envelope
        assert domain_fields == set(contract.model_fields), contract.TYPE
        assert EVENT_METADATA - carried_by_envelope <= set(contract.model_fields)


def test_the_schema_files_in_the_repository_are_the_generated_ones() -> None:
    generated = schemas()
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.json")) == sorted(generated)
    for name, schema in generated.items():
        assert (SCHEMA_DIR / name).read_text(encoding="utf-8") == render(schema), \
            f"{name} is stale: python -m services.bus.json_schemas"


def test_measurements_keep_number_and_text_apart() -> None:
    golden = json.loads((GOLDEN / "siteledger.works_item.inspection_recorded.v1.json").read_text())
    assert golden["data"]["measurements"] == {"depth_m": {"number": "1.20"}, "utility_owner": {"text": "自来水公司"}}


def _subclasses(base: type) -> set[type]:
    out: set[type] = set()
    subs: list[type] = base.__subclasses__()
    for sub in subs:
        out |= {sub} | _subclasses(sub)
    return out


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.TYPE)
def test_the_relays_fast_encoding_is_the_same_message(contract: type[IntegrationEvent]) -> None:
    event = sample(contract)
    assert json.loads(encode_event(event, 4711, "urn:siteledger")) == envelope(event, 4711, "urn:siteledger")
