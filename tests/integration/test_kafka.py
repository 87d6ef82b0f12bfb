"""The relay and the Kafka projection driver against a real Kafka-protocol broker (Tansu) on loopback."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from domain import commands as c
from services.bootstrap import Container, build, build_kafka_driver, build_relay
from services.bus.relay import Relay
from services.settings import Settings
from services.tansu import TansuBroker
from tests.support import World, inspection

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    server = TansuBroker(tmp_path / "tansu.log").start()
    yield server
    server.stop()


def settings(tmp_path: Path, broker: TansuBroker, readmodels: str = "store", **extra: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9", kafka_bootstrap=broker.bootstrap,
                    kafka_partitions=3, readmodels_url=f"sqlite:///{tmp_path / readmodels}.db", **extra)


@pytest.fixture
def store(tmp_path: Path, broker: TansuBroker) -> Iterator[Container]:
    container = build(settings(tmp_path, broker))
    yield container
    container.close()


def scenario(world: World, items: int = 3) -> None:
    for n in range(items):
        item_id = world.new_item("pipe_relocation")
        world.pass_through(item_id, until="pressure_test")
        world.run(world.station, c.RaiseDefect(item_id=item_id, severity="minor", description=f"第{n}处"))


def stored_events(container: Container) -> set[tuple[str, int]]:
    notes = container.ledger.recorder.select_notifications(0, 100_000, inclusive_of_start=False)
    return {(str(n.originator_id), n.originator_version) for n in notes if not n.topic.startswith("siteledger.receipt")}


def consume_all(broker: TansuBroker, topics: list[str], expect: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=1000)
    partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(messages) < expect and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            messages.extend({**json.loads(r.value), "_partition": (r.topic, r.partition)} for r in batch)
    consumer.close()
    return messages


def relay_until_caught_up(relay: Relay) -> None:
    while relay.step():
        pass


def test_every_event_arrives_in_order_per_aggregate_with_a_valid_envelope(store: Container,
                                                                          broker: TansuBroker) -> None:
    world = World(store.ledger)
    scenario(world)
    relay_until_caught_up(build_relay(store))
    expected = stored_events(store)
    messages = consume_all(broker, ["siteledger.works-items", "siteledger.projects"], len(expected))
    assert {(m["subject"], m["aggregateversion"]) for m in messages} == expected
    by_aggregate: dict[str, list[int]] = {}
    for m in messages:
        by_aggregate.setdefault(m["subject"], []).append(m["aggregateversion"])
        assert m["specversion"] == "1.0" and m["datacontenttype"] == "application/json"
        assert m["id"] == f"{m['subject']}-{m['aggregateversion']}" and m["time"] and m["position"] > 0
        assert m["type"].startswith("siteledger.") and m["type"].endswith(".v1")
        assert m["source"].startswith("urn:siteledger/") and m["dataschema"].endswith(m["type"])
        assert "event_hash" in m["data"] and "actor_id" in m["data"]
    for versions in by_aggregate.values():
        assert versions == sorted(versions)  # one aggregate, one partition, in order
    partitions: dict[str, set[tuple[str, int]]] = {}
    for m in messages:
        partitions.setdefault(m["subject"], set()).add(m["_partition"])
    assert all(len(p) == 1 for p in partitions.values())
    assert not any("name" in m["data"] and "phone" in m["data"] for m in messages)  # no personal details


def test_a_broker_lost_mid_stream_is_noticed_and_republished_without_gaps(store: Container, broker: TansuBroker,
                                                                          tmp_path: Path) -> None:
    world = World(store.ledger)
    relay = build_relay(store)
    scenario(world, items=2)
    relay_until_caught_up(relay)
    broker.stop()
    stop = threading.Event()
    thread = threading.Thread(target=relay.run_forever, kwargs={"stop": stop.is_set}, daemon=True)
    thread.start()
    scenario(world, items=2)  # commands keep working while Kafka is down
    deadline = time.monotonic() + 60
    while relay.status()["state"] != "retrying" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert relay.status()["state"] == "retrying"
    reborn = TansuBroker(tmp_path / "tansu2.log", port=broker.port).start()  # a fresh memory broker: all lost
    try:
        deadline = time.monotonic() + 60
        while relay.status()["state"] != "broker_data_lost" and time.monotonic() < deadline:
            time.sleep(0.2)
        status = relay.status()
        assert status["state"] == "broker_data_lost" and "--from-position" in status["detail"]
        relay.restart_from(0)  # the operator's choice: everything
        deadline = time.monotonic() + 60
        while relay.status()["lag"] > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        thread.join(timeout=10)
        expected = stored_events(store)
        messages = consume_all(reborn, ["siteledger.works-items", "siteledger.projects"], len(expected))
        assert {(m["subject"], m["aggregateversion"]) for m in messages} == expected  # nothing missing
    finally:
        stop.set()
        reborn.stop()


def dump(container: Container) -> dict[str, list[tuple[str, ...]]]:
    out = {}
    for driver in container.projections.drivers.values():
        for table in driver.model.tables:
            out[table] = sorted(tuple(str(v) for v in row) for row in container.db.query(f"SELECT * FROM {table}"))
    return out


def rebuilt(tmp_path: Path, broker: TansuBroker) -> dict[str, list[tuple[str, ...]]]:
    fresh = build(settings(tmp_path, broker, readmodels="rebuilt"))
    try:
        for driver in fresh.projections.drivers.values():
            driver.rebuild()
        return dump(fresh)
    finally:
        fresh.close()


def consume_into(worker: Container, group: str, until: dict[str, list[tuple[str, ...]]], workers: int = 1) -> None:
    drivers = [build_kafka_driver(worker, group) for _ in range(workers)]
    stop = threading.Event()
    threads = [threading.Thread(target=d.run_forever, kwargs={"stop": stop.is_set}, daemon=True) for d in drivers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 90
    try:
        while dump(worker) != until and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        for driver in drivers:
            driver.close()


class Killed(Exception):
    pass


def test_relay_killed_between_send_and_commit_duplicates_only(store: Container, broker: TansuBroker,
                                                              tmp_path: Path) -> None:
    world = World(store.ledger)
    scenario(world)
    first = build_relay(store)

    def kill() -> None:
        raise Killed()

    with pytest.raises(Killed):
        first.step(after_send=kill)
    assert first.position() == 0  # the broker has the batch, the relay's position does not
    relay_until_caught_up(build_relay(store))  # the restarted relay sends it again
    expected = stored_events(store)
    messages = consume_all(broker, ["siteledger.works-items", "siteledger.projects"], 2 * len(expected))
    assert len(messages) == 2 * len(expected) and {(m["subject"], m["aggregateversion"]) for m in messages} == expected
    worker = build(settings(tmp_path, broker, readmodels="kafka"))
    try:
        target = rebuilt(tmp_path, broker)
        consume_into(worker, f"g-{uuid.uuid4().hex[:6]}", target)
        assert dump(worker) == target
    finally:
        worker.close()


def test_two_workers_in_one_group_build_what_a_rebuild_builds(store: Container, broker: TansuBroker,
                                                              tmp_path: Path) -> None:
    world = World(store.ledger)
    scenario(world, items=4)
    round_item = world.completed_item("flying_wire_burial")
    round_no, subject = world.open_round(round_item)
    world.sign(world.residents[0], round_item, round_no, subject)
    world.run(world.supervisor, inspection(round_item, "route_survey"))
    relay_until_caught_up(build_relay(store))
    worker = build(settings(tmp_path, broker, readmodels="kafka2"))
    try:
        target = rebuilt(tmp_path, broker)
        consume_into(worker, f"g-{uuid.uuid4().hex[:6]}", target, workers=2)
        assert dump(worker) == target
    finally:
        worker.close()
