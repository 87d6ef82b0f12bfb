"""The relay builds each message from the stored state, not from the domain event: it must be the same message.

Compared byte for byte with `encode(envelope(event))` — the function the golden files are made with — for every
contract, and for values that tempt a shortcut: device times in any zone or none, numeric and text measurements,
a contractor or none, request ids that need JSON escaping.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import Notification
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.application import SiteLedger
from domain.chain import ChainedEvent, event_digest
from services.bus.contracts import CONTRACTS, InspectionRecordedV1, IntegrationEvent, WorksItemRegisteredV1
from services.bus.envelope import encode, envelope
from services.bus.stored_messages import StoredMessages
from tests.unit.services.test_integration_events import sample

TOPICS = {"works_item": "siteledger.works-items", "project": "siteledger.projects"}
SOURCE = "urn:siteledger"


@pytest.fixture(scope="module")
def app() -> SiteLedger:
    return SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def stored(app: SiteLedger, event: ChainedEvent, position: int) -> Notification:
    record = app.mapper.to_stored_event(event)
    return Notification(id=position, originator_id=record.originator_id,
                        originator_version=record.originator_version, topic=record.topic, state=record.state)


def changed(event: ChainedEvent, **fields: Any) -> ChainedEvent:
    unsigned = type(event)(**{**vars(event), **fields})
    return type(event)(**{**vars(unsigned), "event_hash": event_digest(unsigned)})


def assert_same_message(app: SiteLedger, event: ChainedEvent, position: int = 4711) -> None:
    message = StoredMessages(app.mapper, TOPICS, SOURCE).encode(stored(app, event, position))
    assert message is not None
    assert message.value == encode(envelope(event, position, SOURCE))
    assert message.key == str(event.originator_id).encode()
    assert message.request_id == event.request_id


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.TYPE)
def test_the_message_from_the_stored_state_is_the_domain_events_message(
        app: SiteLedger, contract: type[IntegrationEvent]) -> None:
    event = sample(contract)
    assert_same_message(app, event)
    topic = StoredMessages(app.mapper, TOPICS, SOURCE).encode(stored(app, event, 1))
    assert topic is not None and topic.topic == TOPICS["works_item" if ".works_item." in contract.TYPE else "project"]


zones = st.one_of(st.none(), st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))))
device_times = st.one_of(st.none(), st.builds(lambda moment, zone: moment.replace(tzinfo=zone),
                                              st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)), zones))
texts = st.text(st.characters(codec="utf-8"), max_size=12)
measurements = st.dictionaries(texts, st.one_of(texts, st.decimals(allow_nan=False, allow_infinity=False, places=3)),
                               max_size=4)


@settings(max_examples=150, deadline=None)
@given(device_time=device_times, request_id=st.one_of(st.none(), texts), measured=measurements, notes=texts)
def test_an_inspection_with_any_times_measurements_and_request_id(
        app: SiteLedger, device_time: datetime | None, request_id: str | None, measured: dict[str, Any],
        notes: str) -> None:
    event = changed(sample(InspectionRecordedV1), device_time=device_time, request_id=request_id,
                    measurements=measured, notes=notes)
    assert_same_message(app, event)


@settings(max_examples=30, deadline=None)
@given(contractor=st.one_of(st.none(), st.uuids()), links=st.dictionaries(texts, texts, max_size=3))
def test_a_registration_with_or_without_a_contractor(app: SiteLedger, contractor: UUID | None,
                                                     links: dict[str, str]) -> None:
    assert_same_message(app, changed(sample(WorksItemRegisteredV1), contractor_id=contractor, links=links))


def test_a_number_measurement_stays_a_number(app: SiteLedger) -> None:
    event = changed(sample(InspectionRecordedV1), measurements={"depth_m": Decimal("1.20"), "owner": "1.20"})
    message = StoredMessages(app.mapper, TOPICS, SOURCE).encode(stored(app, event, 1))
    assert message is not None
    assert b'"measurements":{"depth_m":{"number":"1.20"},"owner":{"text":"1.20"}}' in message.value


def test_what_it_cannot_read_exactly_goes_the_domain_way(app: SiteLedger) -> None:
    """An encrypted store, or a topic without a contract: None, so the relay decodes the domain event instead."""
    event = sample(InspectionRecordedV1)
    note = stored(app, event, 1)
    key = AESCipher.create_key(16)
    encrypted = SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo",
                                "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": key})
    assert StoredMessages(encrypted.mapper, TOPICS, SOURCE).encode(stored(encrypted, event, 1)) is None
    receipt = dataclasses.replace(note, topic="siteledger.receipt:Issued")
    assert StoredMessages(app.mapper, TOPICS, SOURCE).encode(receipt) is None
