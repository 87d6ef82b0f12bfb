"""The transparency log's costs: appending beside the event store, proofs in a large tree, verifying a pack.
Prints JSON.

* append: one SQLite store filled through the application (`World.run`: commands, their events and receipts);
  the same stored events appended raw into a fresh store, a command's events and receipt per transaction (the
  library's own append, as benchmarks/domain_commands measures it), and as the store's ceiling 1,000 records
  per transaction; then the log's own driver (`TransparencyService`) catches the tree up over the first store:
  leaves (domain events) per second. tree ÷ raw append must be ≥ 1.0, or the log would fall behind.
* inclusion: a tree of `--leaves` synthetic leaves written through the read model's own appender into a
  SQLite read-model database; an inclusion proof (read from stored nodes) for random leaves, p50/p99 in ms,
  and its verification.
* pack: an evidence pack in the export's format (`log.json`, `transparency.json`, `manifest.json`, photos)
  of `--pack-events` chained events and `--pack-photos` photos of `--photo-bytes` each, signed and proved
  against a tree of `--leaves` leaves; `verify_pack` wall time (the outsider's whole check).

    python -m benchmarks.transparency            # < 1 min: 2^17 leaves, 3,000 commands
    python -m benchmarks.transparency --full     # 10^6 leaves and 10,000 commands (the issue's sizes)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from projections.transparency_log import TransparencyLog, TreeAppender, TreeReader
from services.bootstrap import build
from services.db import Database
from services.settings import Settings
from services.transparency.keys import SigningKey
from services.transparency.service import service_for
from siteledger_verify import merkle
from siteledger_verify.events import GENESIS_HASH, event_hash
from siteledger_verify.note import Checkpoint, VerifierKey
from siteledger_verify.pack import verify_pack
from tests.support import World, inspection


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def append_rates(commands: int, workdir: Path) -> dict[str, Any]:
    container = build(Settings(data_dir=workdir / "append", s3_endpoint="127.0.0.1:9"))
    try:
        world = World(container.ledger)
        started, done = time.perf_counter(), 0
        while done < commands:
            item = world.new_item()
            for hold_point in ("survey_and_marking", "excavation", "pipe_laying", "pressure_test"):
                world.run(world.supervisor, inspection(item, hold_point))
            done += 5
        raw_s = time.perf_counter() - started
        notes = int(container.ledger.recorder.max_notification_id() or 0)
        raw_rate, batched = raw_rates(container, workdir)
        service = service_for(container)
        started = time.perf_counter()
        leaves = service.catch_up()
        tree_s = time.perf_counter() - started
    finally:
        container.close()
    app_rate, tree_rate = leaves / raw_s, leaves / tree_s
    return {"commands": done, "notifications": notes, "domain_events": leaves,
            "app_events_per_s": round(app_rate), "raw_append_events_per_s": round(raw_rate),
            "raw_batched_insert_events_per_s": round(batched), "tree_leaves_per_s": round(tree_rate),
            "tree_vs_raw_append": round(tree_rate / raw_rate, 2),
            "tree_vs_batched_insert": round(tree_rate / batched, 2)}


def raw_rates(container: Any, workdir: Path) -> tuple[float, float]:
    """The same stored events appended raw into fresh stores, in domain events per second: per command (the
    library's own append of a command's events and receipt, one transaction each, as `benchmarks/domain_commands`
    measures it) and, as the store's ceiling, 1,000 records per transaction with no domain at all."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    from domain.application import SiteLedger

    notes, start = [], 0
    while batch := container.ledger.recorder.select_notifications(start, 1000, inclusive_of_start=False):
        notes += batch
        start = batch[-1].id
    groups: list[list[Any]] = []
    for note in notes:  # each command wrote its events, then its receipt
        if not groups or groups[-1][-1].topic.startswith("siteledger.receipt:"):
            groups.append([])
        groups[-1].append(note)
    domain_events = sum(1 for n in notes if not n.topic.startswith("siteledger.receipt:"))
    raw = SiteLedger(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(workdir / "raw.db")})
    decoded = [[raw.mapper.to_domain_event(n) for n in group] for group in groups]
    started = time.perf_counter()
    for group in decoded:
        raw.events.put(group)
    per_command = domain_events / (time.perf_counter() - started)
    raw.close()
    recorder = SQLiteApplicationRecorder(SQLiteDatastore(str(workdir / "batched.db")))
    recorder.create_table()
    records = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notes]
    started = time.perf_counter()
    for chunk in range(0, len(records), 1000):
        recorder.insert_events(records[chunk:chunk + 1000])
    return per_command, domain_events / (time.perf_counter() - started)


def synthetic_tree(db: Database, leaves: int, extra: list[tuple[UUID, int, str]]) -> dict[tuple[str, int], int]:
    """`leaves` random leaves, with `extra` (an item's events) spread through them; where each extra one went."""
    model = TransparencyLog()
    with db.transaction() as tx:
        for statement in model.ddl:
            tx.execute(statement)
    spots = sorted(random.sample(range(leaves), len(extra)))
    where: dict[tuple[str, int], int] = {}
    position, chunk = 0, 50_000
    for start in range(0, leaves, chunk):
        with db.transaction() as tx:
            appender = TreeAppender.load(tx)
            for index in range(start, min(start + chunk, leaves)):
                position += 1
                if spots and spots[0] == index:
                    spots.pop(0)
                    aggregate, version, digest = extra[len(where)]
                    where[(str(aggregate), version)] = index
                    appender.append(position, aggregate, version, digest)
                else:
                    appender.append(position, uuid4(), 1, os.urandom(32).hex())
            appender.write(tx)
    return where


def inclusion_timings(tree: TreeReader, size: int, samples: int) -> dict[str, Any]:
    root = tree.root(size)
    proofs, checks = [], []
    for _ in range(samples):
        index = random.randrange(size)
        started = time.perf_counter()
        proof = tree.inclusion(index, size)
        proofs.append((time.perf_counter() - started) * 1000)
        leaf = tree.nodes([(0, index)])[(0, index)]
        started = time.perf_counter()
        merkle.verify_inclusion(leaf, index, size, proof, root)
        checks.append((time.perf_counter() - started) * 1000)
    proofs.sort()
    return {"leaves": size, "samples": samples, "proof_ms_p50": round(statistics.median(proofs), 3),
            "proof_ms_p99": round(proofs[int(len(proofs) * 0.99) - 1], 3),
            "verify_ms_p50": round(statistics.median(checks), 3)}


def item_events(count: int, photos: list[str]) -> tuple[UUID, list[dict[str, Any]]]:
    """`count` chained events of one item, each with the fields a stored event has, some citing photos."""
    item, head, entries = uuid4(), GENESIS_HASH, []
    for version in range(1, count + 1):
        cited = [photos[(version // 10) % len(photos)]] if photos and version % 10 == 0 else []  # each photo once
        fields = {"originator_id": str(item), "originator_version": version, "timestamp": "2026-11-23T08:00:00+00:00",
                  "actor_id": str(uuid4()), "actor_role": "supervisor", "device_id": "tablet-7",
                  "command_id": uuid4().hex, "device_time": None, "request_id": None, "prev_hash": head,
                  "hold_point": "pressure_test", "result": "pass", "photos": cited,
                  "measurements": {"test_pressure_mpa": "0.6", "hold_time_min": "10"}}
        head = event_hash(head, "siteledger:InspectionRecorded", fields)
        entries.append({"topic": "siteledger:InspectionRecorded", "event_hash": head, "fields": fields})
    return item, entries


def write_pack(path: Path, item: UUID, entries: list[dict[str, Any]], photos: dict[str, bytes], tree: TreeReader,
               where: dict[tuple[str, int], int], size: int, key: SigningKey) -> None:
    note = key.sign_note(Checkpoint(key.name, size, tree.root(size)).body())
    leaves = [{"version": e["fields"]["originator_version"], "event_hash": e["event_hash"],
               "leaf_index": where[(str(item), e["fields"]["originator_version"])],
               "proof": [base64.b64encode(h).decode() for h in tree.inclusion(
                   where[(str(item), e["fields"]["originator_version"])], size)]} for e in entries]
    documents = {"log.json": json.dumps(entries, ensure_ascii=False, indent=1).encode(),
                 "transparency.json": json.dumps({"checkpoint": note, "tree_size": size, "leaves": leaves}).encode()}
    files = [{"path": p, "sha256": hashlib.sha256(d).hexdigest()} for p, d in documents.items()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in documents.items():
            archive.writestr(name, data)
        for sha, data in photos.items():
            archive.writestr(f"photos/{sha}.jpg", data)
        archive.writestr("manifest.json", json.dumps({"works_item": str(item), "files": files}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the issue's sizes: 10^6 leaves, 10,000 commands")
    parser.add_argument("--leaves", type=int)
    parser.add_argument("--commands", type=int)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--pack-events", type=int, default=1000)
    parser.add_argument("--pack-photos", type=int, default=100)
    parser.add_argument("--photo-bytes", type=int, default=2_000_000)
    args = parser.parse_args(argv)
    leaves = args.leaves or (1_000_000 if args.full else 1 << 17)
    commands = args.commands or (10_000 if args.full else 3_000)
    random.seed(17)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        say(f"append: {commands} commands through the application, then the tree over the same log …")
        append = append_rates(commands, work)
        say(f"tree: {leaves} leaves …")
        photos = {hashlib.sha256(data).hexdigest(): data
                  for data in (os.urandom(args.photo_bytes) for _ in range(args.pack_photos))}
        item, entries = item_events(args.pack_events, sorted(photos))
        db = Database(f"sqlite:///{work / 'tree.db'}")
        started = time.perf_counter()
        where = synthetic_tree(db, leaves, [(item, e["fields"]["originator_version"], e["event_hash"])
                                            for e in entries])
        build_s = time.perf_counter() - started
        tree = TreeReader(db)
        inclusion = inclusion_timings(tree, leaves, args.samples) | {"tree_build_s": round(build_s, 1)}
        say("pack …")
        key = SigningKey.generate("siteledger.example/bench")
        pack = work / "pack.zip"
        write_pack(pack, item, entries, photos, tree, where, leaves, key)
        started = time.perf_counter()
        report = verify_pack(pack, VerifierKey.parse(key.verifier.text()))
        verify_s = time.perf_counter() - started
        pack_bytes = pack.stat().st_size
        db.close()
    assert report.ok, report.broken
    print(json.dumps({
        "append": append, "inclusion": inclusion,
        "pack": {"events": args.pack_events, "photos": args.pack_photos, "photo_bytes": args.photo_bytes,
                 "tree_leaves": leaves, "pack_bytes": pack_bytes,
                 "verify_s": round(verify_s, 3), "ok": report.ok},
        "targets": {"tree_vs_raw_append": ">= 1.0",
                    "proof_ms_at_1e6": "< 5", "verify_pack_1000_events_100_photos_s": "< 2"},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
