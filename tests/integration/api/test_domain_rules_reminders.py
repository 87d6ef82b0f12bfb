"""Issue 18 §3: reminders on a real Kafka-protocol broker (Tansu), exactly once per state change of a deadline,
across a restart of the publisher, with a frozen clock."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from services.bootstrap import Container
from services.reminders import TOPIC, Reminders, ensure_topic, serve
from services.tansu import TansuBroker
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    server = TansuBroker(tmp_path / "tansu.log").start()
    yield server
    server.stop()


def publisher(container: Container, broker: TansuBroker, today: date) -> tuple[Reminders, Any]:
    """A new publisher process, as after a restart: its own producer, the same database."""
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    return Reminders(container, producer, clock=lambda: today), producer


def received(broker: TansuBroker) -> list[tuple[str, dict[str, Any]]]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    partitions = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or []]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    messages = [(m.key.decode(), json.loads(m.value)) for m in consumer]
    consumer.close()
    return messages


def test_a_lifts_registration_clock_reminds_once_per_state_across_a_restart(
        api: ApiWorld, container: Container, broker: TansuBroker) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    ensure_topic(admin)
    ensure_topic(admin)  # a second start finds it
    pipe = api.item()
    api.pass_all(pipe)
    lift = api.item("elevator_installation", links={"pipe_relocation_cleared": pipe})
    api.pass_all(lift, until="usage_registration")
    day0 = datetime.fromisoformat(container.ledger.get_item(lift).hold_points["trial_run"]["at"]).date()

    first, producer = publisher(container, broker, day0 + timedelta(days=28))
    assert first.run_once() == 1  # approaching
    assert first.run_once() == 0
    producer.close()

    restarted, producer = publisher(container, broker, day0 + timedelta(days=28))
    assert restarted.run_once() == 0  # nothing repeated after a restart
    restarted.clock = lambda: day0 + timedelta(days=31)
    assert restarted.run_once() == 1  # breached
    assert api.inspect(lift, "usage_registration").status_code == 201
    assert restarted.run_once() == 1  # met
    producer.close()

    again, producer = publisher(container, broker, day0 + timedelta(days=40))
    assert again.run_once() == 0
    producer.close()
    messages = received(broker)
    assert [(key, m["data"]["state"]) for key, m in messages] == [
        (lift, "approaching"), (lift, "breached"), (lift, "met")]
    assert [m["type"] for _, m in messages] == ["siteledger.reminder.approaching.v1",
                                                "siteledger.reminder.breached.v1", "siteledger.reminder.met.v1"]
    assert messages[1][1]["data"]["days_overdue"] == 1 and messages[1][1]["specversion"] == "1.0"
    admin.close()


def test_the_reminders_loop_sends_and_stops(api: ApiWorld, container: Container, broker: TansuBroker) -> None:
    ensure_topic(KafkaAdminClient(bootstrap_servers=broker.bootstrap))
    item_id = api.item()
    api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
           json={"severity": "minor", "description": "围挡缺口", "due_date": "2026-01-10"})
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    stop = threading.Event()
    loop = threading.Thread(target=serve, args=(container, producer, stop, 0.05, lambda: date(2026, 1, 12)))
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while not received(broker) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        loop.join(timeout=10)
        producer.close()
    assert not loop.is_alive()
    assert [(key, m["data"]["kind"], m["data"]["state"]) for key, m in received(broker)] == [
        (item_id, "defect_due", "breached")]
