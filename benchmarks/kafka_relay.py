"""Relay throughput to Kafka beside a bare producer's, and the end-to-end lag from a command to a read model
fed through Kafka. Prints JSON.

A Tansu broker (memory storage) on loopback and one SQLite store, as `build(Settings(...))` makes it, are filled
through the application (`World.run`, so every command also stores its receipt, which the relay skips) with
pipe-relocation items, each registered, inspected through its hold points, and given a defect (raised, rectified,
closed) and a stop-work order (ordered, lifted), until the store holds about `--events` domain events. Then:

* relay: `build_relay(store)`, connected, its topics created, their metadata fetched and its encoder process
  started (unless `--relay-encoder inline`: it then encodes in-process) before the clock starts, publishes the
  whole log from position 0 with `relay.publish_available()`, as `run_forever` does (the next batch is read and
  encoded while the producer sends the one before). Events counts the non-receipt notifications (checked by
  reading both topics back from the start, untimed). Beside it:
  - encode_only: what the relay does without Kafka, in one process (read the log in pages of 1000,
    `relay.stored.encode(note)`, the domain path for what that cannot read), which is also how the raw producer's
    messages are made (untimed there); encode_domain_path: the same through `mapper.to_domain_event` and
    `encode_event`, for comparison;
  - raw_streaming: a bare producer from the same factory (`kafka_clients.producer(settings)`: acks=all,
    idempotent, the same linger, batch size and compression) sends the very same topics' share, keys and values,
    in the same order, to two scratch topics with as many partitions (one per relay topic), then one flush;
  - raw_batched: the same, but flushing and waiting for every ack at the relay's batch boundaries (each 1000
    notifications of the log, receipts included), as `relay.step` does.
  The report says which CRC-32C kafka-python uses (its pure-Python one unless the `crc32c` package is installed:
  it is most of a producer's CPU then) and the load average before and after, since the machine may be shared.
* lag: the relay (`relay.run_forever`) and a Kafka projection worker (`build_kafka_driver(worker, group)
  .run_forever`, own read-model DB) in threads of this process. The worker first consumes the whole backlog
  (reported as worker_catch_up). Then `c.RaiseDefect` commands at `--rate` per second for `--seconds`, round-robin
  over the last 500 items; for each, the time from the command's return until its row is in the worker's
  `dash_defects` (polled every 2 ms), and until its message can be fetched from the broker (a tail consumer,
  assigned to every partition: the relay's share of the lag).

    python -m benchmarks.kafka_relay [--events 100000] [--rate 50] [--seconds 20] [--partitions 6]
                                     [--relay-encoder process|inline]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic

from domain import commands as c
from domain.chain import ChainedEvent
from services.bootstrap import Container, build, build_kafka_driver, build_relay
from services.bus import kafka_clients
from services.bus.encoder_process import read_batch
from services.bus.envelope import encode_event
from services.bus.relay import Relay
from services.settings import Settings
from services.tansu import TansuBroker
from tests.support import World, inspection, photo

RECEIPT = "siteledger.receipt"
PAGE = 1000  # the relay's batch
LAG_ITEMS = 500


def say(message: str, end: str = "\n") -> None:
    print(message, end=end, file=sys.stderr, flush=True)


def progress(label: str) -> Callable[[int, int], None]:
    shown = [-1]

    def show(done: int, total: int) -> None:
        step = total // 20 or 1
        if done // step != shown[0] or done >= total:
            shown[0] = done // step
            say(f"\r{label}: {done}/{total} ({100 * done // max(total, 1)}%)", end="\n" if done >= total else "")

    return show


def percentiles(timings: list[float]) -> dict[str, float]:
    timings = sorted(timings)
    if not timings:
        return {}
    return {"p50_ms": round(statistics.median(timings), 1),
            "p99_ms": round(timings[max(0, math.ceil(len(timings) * 0.99) - 1)], 1),
            "max_ms": round(timings[-1], 1)}


# --- the data -----------------------------------------------------------------------------------------------


def populate(world: World, events: int) -> list[UUID]:
    """Items with a short, complete story each, until the store holds `events` domain events."""
    w, items, done = world, list[UUID](), 0
    show = progress("filling (domain events)")

    def story(item_id: UUID) -> Iterator[tuple[Any, c.Command]]:
        for hp in w.app.get_item(item_id).parsed_template.hold_points:
            if hp.linked is not None:
                break
            yield w.supervisor, inspection(item_id, hp.code)
        defect_id = f"d-{item_id.hex[:8]}"
        yield w.station, c.RaiseDefect(item_id=item_id, defect_id=defect_id, severity="major",
                                       description="回填不密实", photos=[photo(f"defect-{item_id}")])
        yield w.contractor, c.ReportRectification(item_id=item_id, defect_id=defect_id, description="已整改",
                                                  photos=[photo(f"fix-{item_id}")])
        # the station raised it, so only the station may sign it off (domain/works_item.py `close_defect`)
        yield w.station, c.CloseDefect(item_id=item_id, defect_id=defect_id, notes="复查合格")
        yield w.station, c.OrderStopWork(item_id=item_id, reason="未设围挡")
        yield w.station, c.LiftStopWork(item_id=item_id, notes="已设围挡")

    while done < events:
        n = len(items)
        out = w.run(w.admin, c.RegisterWorksItem(project_id=w.project_id, kind="pipe_relocation",
                                                 location=f"{n % 12 + 1}号楼北侧"))
        items.append(UUID(out.aggregate_id))
        done += len(out.events)
        for actor, command in story(items[-1]):
            if done >= events:
                break
            done += len(w.run(actor, command).events)
        show(min(done, events), events)
    return items


def domain_events(store: Container) -> tuple[int, int]:
    """(notifications, non-receipt notifications) in the whole log."""
    recorder, start, total, events = store.ledger.recorder, 0, 0, 0
    while notes := recorder.select_notifications(start, 10_000, inclusive_of_start=False):
        total += len(notes)
        events += sum(1 for n in notes if not n.topic.startswith(RECEIPT))
        start = notes[-1].id
    return total, events


# --- relay throughput ---------------------------------------------------------------------------------------


Message = tuple[str, bytes, bytes]  # the relay's topic, key, value


def encode_all(store: Container, relay: Relay) -> tuple[list[Message], list[int], float]:
    """The relay's work without Kafka, in this process: `read_batch` over the log in pages of 1000, as the relay
    does in its child (or in-process with `--relay-encoder inline`). The messages, how many each page of the log
    gave, and the seconds it took."""
    start, messages, pages = 0, list[Message](), list[int]()
    started = time.perf_counter()
    while batch := read_batch(store.ledger, relay.stored, start, PAGE):
        messages += batch.messages
        pages.append(len(batch.messages))
        start = batch.end
    return messages, pages, time.perf_counter() - started


def encode_domain_path(store: Container, relay: Relay) -> tuple[list[Message], float]:
    """The same through the domain events (the relay's path before it read stored states): for comparison."""
    app, start, messages = store.ledger, 0, list[Message]()
    started = time.perf_counter()
    while notes := app.recorder.select_notifications(start, PAGE, inclusive_of_start=False):
        for note in notes:
            if note.topic.startswith(RECEIPT):
                continue
            event = cast(ChainedEvent, app.mapper.to_domain_event(note))
            topic = relay._topic_for(event)
            if topic is not None:
                messages.append((topic, str(event.originator_id).encode(), encode_event(event, note.id, relay.source)))
        start = notes[-1].id
    return messages, time.perf_counter() - started


def on_broker(bootstrap: str, topics: list[str], expect: int, timeout_s: float = 120) -> tuple[int, int]:
    """(messages, distinct event ids) on the topics, read from the start. Not from the end offsets: Tansu's
    ListOffsets(latest) answers the base offset of a partition's last record batch, short of the real end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        count, ids, idle = 0, set[str](), 0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (count < expect or idle < 2):
            batches = consumer.poll(timeout_ms=500, max_records=10_000)
            idle = 0 if batches else idle + 1
            for batch in batches.values():
                count += len(batch)
                ids.update(json.loads(r.value)["id"] for r in batch)
        return count, len(ids)
    finally:
        consumer.close()


def raw_send(settings: Settings, messages: list[Message], pages: list[int] | None) -> float:
    """A bare producer with the relay's settings: every message to a scratch twin of its topic, acks awaited (at
    the relay's page boundaries if `pages`, else once at the end); the seconds it took."""
    run = uuid.uuid4().hex[:6]
    twins = {topic: f"bench-raw-{run}-{topic}" for topic in {t for t, _, _ in messages}}
    admin = kafka_clients.admin(settings)
    try:
        admin.create_topics([NewTopic(t, num_partitions=settings.kafka_partitions, replication_factor=1)
                             for t in twins.values()])
    finally:
        admin.close()
    producer = kafka_clients.producer(settings)
    try:
        deadline = time.monotonic() + 30
        for twin in twins.values():  # metadata before the clock
            while not producer.partitions_for(twin) and time.monotonic() < deadline:
                time.sleep(0.1)
        flush_after, n = set(itertools.accumulate(pages)) if pages else set(), 0
        started = time.perf_counter()
        futures = []
        for n, (topic, key, value) in enumerate(messages, start=1):
            futures.append(producer.send(twins[topic], key=key, value=value))
            if n in flush_after:
                producer.flush(timeout=30)
                for future in futures:
                    future.get(timeout=30)
                futures = []
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
        return time.perf_counter() - started
    finally:
        producer.close(timeout=5)


def crc32c_implementation() -> str:
    from kafka.record import util

    return "crc32c package (C)" if getattr(util, "crc32c_c", None) is not None else "kafka-python's pure Python"


def relay_throughput(store: Container, relay: Relay, broker: TansuBroker) -> dict[str, Any]:
    load_before = os.getloadavg()
    notifications, events = domain_events(store)
    messages, pages, encode_s = encode_all(store, relay)
    assert len(messages) == events, (len(messages), events)
    reference, domain_s = encode_domain_path(store, relay)
    assert reference == messages, "the stored-state path must publish what the domain path does"
    sizes = [len(v) for _, _, v in messages]
    say(f"relay: {events} events in {notifications} notifications, mean message {statistics.mean(sizes):.0f} B")
    relay._prepare()  # connect and create the topics before the clock starts, as for the raw producer
    for topic in relay.topics.values():
        relay.producer.partitions_for(topic)  # and fetch their metadata, as raw_send does
    started = time.perf_counter()
    relay.publish_available()
    relay_s = time.perf_counter() - started
    say("counting the messages on the broker ...")
    messages_on_broker, distinct = on_broker(broker.bootstrap, list(relay.topics.values()), events)
    assert relay.position() == (store.ledger.recorder.max_notification_id() or 0)
    say("raw producer, streaming ...")
    streaming_s = raw_send(store.settings, messages, None)
    say("raw producer, flushing at the relay's batch boundaries ...")
    batched_s = raw_send(store.settings, messages, pages)
    relay_rate = events / relay_s
    return {
        "notifications": notifications, "events": events, "messages_on_broker": messages_on_broker,
        "distinct_ids_on_broker": distinct,
        "mean_message_bytes": round(statistics.mean(sizes)), "max_message_bytes": max(sizes),
        "crc32c": crc32c_implementation(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "relay": {"seconds": round(relay_s, 2), "events_per_s": round(relay_rate, 1)},
        "encode_only": {"seconds": round(encode_s, 2), "events_per_s": round(events / encode_s, 1),
                        "us_per_event": round(encode_s / events * 1e6, 1)},
        "encode_domain_path": {"seconds": round(domain_s, 2), "us_per_event": round(domain_s / events * 1e6, 1)},
        "raw_streaming": {"seconds": round(streaming_s, 2), "events_per_s": round(events / streaming_s, 1)},
        "raw_batched": {"seconds": round(batched_s, 2), "events_per_s": round(events / batched_s, 1)},
        "ratio_relay_to_raw_streaming": round(relay_rate / (events / streaming_s), 3),
        "ratio_relay_to_raw_batched": round(relay_rate / (events / batched_s), 3),
    }


# --- end-to-end lag -----------------------------------------------------------------------------------------


class Watch:
    """Commands issued (item, defect id) → when they returned, when their message reached the broker, and
    when their row showed up in the worker's read model."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.returned: dict[str, float] = {}
        self.pending: dict[str, str] = {}  # defect id → item id, not yet in the worker's read model
        self.on_broker: dict[str, float] = {}
        self.in_model: dict[str, float] = {}
        self.partition_of: dict[str, int] = {}

    def issued(self, item_id: UUID, defect_id: str, at: float) -> None:
        with self.lock:
            self.returned[defect_id] = at
            self.pending[defect_id] = str(item_id)

    def poll_model(self, worker: Container, stop: threading.Event) -> None:
        while not stop.is_set():
            with self.lock:
                pending = dict(self.pending)
            if pending:
                items = sorted(set(pending.values()))
                marks = ",".join("?" * len(items))
                rows = worker.db.query(f"SELECT defect_id FROM dash_defects WHERE item_id IN ({marks})", items)
                now = time.perf_counter()
                with self.lock:
                    for (defect_id,) in rows:
                        if self.pending.pop(defect_id, None) is not None:
                            self.in_model[defect_id] = now
            time.sleep(0.002)

    def tail_broker(self, consumer: KafkaConsumer, stop: threading.Event) -> None:
        while not stop.is_set():
            for batch in consumer.poll(timeout_ms=50).values():
                now = time.perf_counter()
                for record in batch:
                    message = json.loads(record.value)
                    defect_id = message["data"].get("defect_id", "")
                    if message["type"] == "siteledger.works_item.defect_raised.v1" and defect_id.startswith("lag-"):
                        self.on_broker.setdefault(defect_id, now)
                        self.partition_of[defect_id] = record.partition


class Polls:
    """The worker's polls, timed from outside: how long `consumer.poll` waited, and how long applying took."""

    def __init__(self, driver: Any) -> None:
        self.rows: list[tuple[int, float, float]] = []  # (records, poll wait, whole poll_once)
        self.recording = False
        consumer_poll, poll_once, waited = driver.consumer.poll, driver.poll_once, [0.0]

        def timed_poll(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return consumer_poll(*args, **kwargs)
            finally:
                waited[0] = time.perf_counter() - t

        def timed_poll_once(*args: Any, **kwargs: Any) -> int:
            t = time.perf_counter()
            records = poll_once(*args, **kwargs)
            if self.recording:
                self.rows.append((records, waited[0], time.perf_counter() - t))
            return records

        driver.consumer.poll, driver.poll_once = timed_poll, timed_poll_once

    def summary(self) -> dict[str, Any]:
        busy = [r for r in self.rows if r[0]]
        if not busy:
            return {"polls": len(self.rows), "with_records": 0}
        return {"polls": len(self.rows), "with_records": len(busy),
                "records_per_poll_mean": round(statistics.mean(r[0] for r in busy), 1),
                "fetch_wait_p50_ms": round(statistics.median(r[1] for r in busy) * 1000, 1),
                "apply_and_commit_p50_ms": round(statistics.median(r[2] - r[1] for r in busy) * 1000, 1),
                "apply_and_commit_max_ms": round(max(r[2] - r[1] for r in busy) * 1000, 1)}


def tail_consumer(bootstrap: str, topics: list[str]) -> KafkaConsumer:
    """Assigned to every partition at its end: sees each new message as soon as a fetch can return it."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10)
    partitions = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or [])]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for tp in partitions:
        consumer.position(tp)  # resolve the end offsets now, not at the first poll
    return consumer


def mark_every_partition(world: World, items: list[UUID], watch: Watch, relay: Relay) -> list[str]:
    """Defects on distinct items until the broker holds one in every works-items partition; their ids."""
    markers: list[str] = []
    for n, item_id in enumerate(reversed(items[-LAG_ITEMS:])):
        defect_id = f"lag-ready-{n}"
        world.run(world.station, c.RaiseDefect(item_id=item_id, defect_id=defect_id, severity="minor",
                                               description="开始"))
        watch.issued(item_id, defect_id, time.perf_counter())
        markers.append(defect_id)
        deadline = time.monotonic() + 30
        while defect_id not in watch.partition_of and time.monotonic() < deadline:
            time.sleep(0.01)
        with watch.lock:
            if len({watch.partition_of.get(k) for k in markers} - {None}) >= relay.partitions:
                return markers
    raise RuntimeError(f"{len(markers)} defects did not reach every partition")


def wait_for(watch: Watch, keys: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with watch.lock:
            if all(k in watch.in_model for k in keys):
                return
        time.sleep(0.05)


def lag(store: Container, worker: Container, world: World, relay: Relay, items: list[UUID], rate: float,
        seconds: float, threads: list[threading.Thread], stop: threading.Event) -> dict[str, Any]:
    driver = build_kafka_driver(worker, f"bench-{uuid.uuid4().hex[:6]}")
    tail = tail_consumer(store.settings.kafka_bootstrap, list(relay.topics.values()))
    watch, polls = Watch(), Polls(driver)
    try:
        for name, target, kwargs in (("relay", relay.run_forever, {"stop": stop.is_set}),
                                     ("worker", driver.run_forever, {"stop": stop.is_set}),
                                     ("model-watch", watch.poll_model, {"worker": worker, "stop": stop}),
                                     ("broker-watch", watch.tail_broker, {"consumer": tail, "stop": stop})):
            thread = threading.Thread(target=target, kwargs=kwargs, name=name, daemon=True)
            threads.append(thread)
            thread.start()

        # The worker joins its group and consumes the backlog first. Partitions are consumed at their own pace,
        # so the end of the backlog is marked by a defect in every partition of the works-items topic.
        _, events = domain_events(store)
        head = store.ledger.recorder.max_notification_id() or 0
        started = time.perf_counter()
        markers = mark_every_partition(world, items, watch, relay)
        show = progress("worker catching up (timeline rows)")
        deadline = time.monotonic() + 1800
        while not all(k in watch.in_model for k in markers) and time.monotonic() < deadline:
            rows = worker.db.query("SELECT COUNT(*) FROM timeline_events")
            show(min(int(rows[0][0]), events), events)
            time.sleep(1)
        if not all(k in watch.in_model for k in markers):
            raise RuntimeError("the Kafka worker did not catch up within 30 minutes")
        catch_up_s = time.perf_counter() - started
        say(f"\nworker caught up on {events} events ({head} notifications) in {catch_up_s:.1f} s")
        with watch.lock:
            watch.returned.clear()
            watch.on_broker.clear()
            watch.in_model.clear()
        polls.recording = True

        # The steady load: one command each 1/rate seconds, on schedule (late commands go at once).
        total = int(rate * seconds)
        targets = items[-LAG_ITEMS:]
        command_ms, behind_ms, keys = [], [], []
        show = progress("steady load (commands)")
        started = time.perf_counter()
        for n in range(total):
            due = started + n / rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            behind_ms.append(max(0.0, time.perf_counter() - due) * 1000)
            item_id, defect_id = targets[n % len(targets)], f"lag-{n}"
            t = time.perf_counter()
            world.run(world.station, c.RaiseDefect(item_id=item_id, defect_id=defect_id, severity="minor",
                                                   description=f"第{n}处"))
            returned = time.perf_counter()
            command_ms.append((returned - t) * 1000)
            watch.issued(item_id, defect_id, returned)
            keys.append(defect_id)
            show(n + 1, total)
        issued_s = time.perf_counter() - started
        wait_for(watch, keys, 60)
        polls.recording = False
        with watch.lock:
            to_model = [(watch.in_model[k] - watch.returned[k]) * 1000 for k in keys if k in watch.in_model]
            to_broker = [(watch.on_broker[k] - watch.returned[k]) * 1000 for k in keys if k in watch.on_broker]
            broker_to_model = [(watch.in_model[k] - watch.on_broker[k]) * 1000 for k in keys
                               if k in watch.in_model and k in watch.on_broker]
        return {
            "worker_catch_up": {"events": events, "notifications": head, "seconds": round(catch_up_s, 1),
                                "events_per_s": round(events / catch_up_s, 1),
                                "note": "includes joining the consumer group"},
            "commands": total, "target_rate_per_s": rate, "achieved_rate_per_s": round(total / issued_s, 1),
            "command": percentiles(command_ms), "behind_schedule": percentiles(behind_ms),
            "lag_command_to_read_model": {"seen": len(to_model), "not_seen_after_60s": total - len(to_model),
                                          **percentiles(to_model)},
            "lag_command_to_broker": {"seen": len(to_broker), **percentiles(to_broker)},
            "lag_broker_to_read_model": percentiles(broker_to_model),
            "lag_to_read_model_p50_by_fifth_ms": [
                round(statistics.median(part), 1) for part in (to_model[k * len(to_model) // 5:
                                                                        (k + 1) * len(to_model) // 5] for k in range(5))
                if part],
            "worker_polls": polls.summary(),
        }
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        driver.close()
        tail.close()


# --- main ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="domain events in the store (receipts apart)")
    parser.add_argument("--rate", type=float, default=50, help="commands per second during the lag measurement")
    parser.add_argument("--seconds", type=float, default=20, help="how long the steady load lasts")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--relay-encoder", choices=("process", "inline"), default="process",
                        help="SITELEDGER_RELAY_ENCODER_PROCESS: encode in a child process (default) or in the relay's")
    args = parser.parse_args()
    report: dict[str, Any] = {"benchmark": "kafka_relay", "events": args.events, "partitions": args.partitions,
                              "relay_encoder": args.relay_encoder}
    stop = threading.Event()
    threads: list[threading.Thread] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        broker = TansuBroker(Path(tmp) / "tansu.log").start()
        stack.callback(broker.stop)
        say(f"Tansu on {broker.bootstrap}")

        def settings(readmodels: str) -> Settings:
            return Settings(data_dir=Path(tmp) / "data", s3_endpoint="127.0.0.1:9", kafka_bootstrap=broker.bootstrap,
                            kafka_partitions=args.partitions, readmodels_url=f"sqlite:///{tmp}/{readmodels}.db",
                            relay_encoder_process=args.relay_encoder == "process")

        store = build(settings("store"))
        stack.callback(store.close)
        relay = build_relay(store)

        def close_producer() -> None:
            if relay.producer is not None:
                relay.producer.close(timeout=5)

        def stop_threads() -> None:
            stop.set()
            for thread in threads:
                thread.join(timeout=20)

        stack.callback(close_producer)
        stack.callback(stop_threads)  # callbacks run last-in first-out: the threads stop before anything closes

        world = World(store.ledger)
        started = time.perf_counter()
        items = populate(world, args.events)
        fill_s = time.perf_counter() - started
        report["fill"] = {"items": len(items), "seconds": round(fill_s, 1)}
        report["throughput"] = relay_throughput(store, relay, broker)
        say(json.dumps(report["throughput"]))
        worker = build(settings("worker"))
        stack.callback(worker.close)
        report["lag"] = lag(store, worker, world, relay, items, args.rate, args.seconds, threads, stop)
        alive = [t.name for t in threads if t.is_alive()]
        if alive:
            report["threads_still_running"] = alive
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
