"""The tree as a read model on each store (SQLite, PostgreSQL): fed from the log, proofs, rebuild equals live."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.application import SiteLedger
from projections.driver import INTERNAL
from projections.transparency_log import TreeAppender, event_hash_of
from services.db import Database
from services.transparency.keys import SigningKey
from services.transparency.service import Inconsistent, TransparencyService
from siteledger_verify import merkle
from siteledger_verify.events import event_leaf_hash
from siteledger_verify.note import open_checkpoint
from tests.support import World

pytestmark = pytest.mark.integration


def test_the_tree_follows_the_log_and_its_rebuild_is_the_same(store_env: dict[str, str], db: Database) -> None:
    ledger = SiteLedger(env=store_env)
    try:
        world = World(ledger)
        for _ in range(4):
            world.pass_through(world.new_item(), until="pressure_test")
        ledger.record_photo("ab" * 32, None, "someone")  # a photo's facts: a stored event without a chain
        key = SigningKey.generate("siteledger.example/test")
        service = TransparencyService(ledger, db, key, interval_s=600)
        size = service.catch_up()
        decoded = [ledger.mapper.to_domain_event(n) for n in ledger.recorder.select_notifications(0, 10_000)
                   if not n.topic.startswith(INTERNAL)]
        assert size == len(decoded)  # every stored domain event, no receipt
        expected = [event_leaf_hash(e.originator_id, e.originator_version, event_hash_of(e)) for e in decoded]
        assert service.tree.root(size) == merkle.root_of(expected)  # the fast path reads what decoding gives
        checkpoint = open_checkpoint(service.checkpoint(), key.verifier)
        for index in (0, size // 2, size - 1):
            merkle.verify_inclusion(expected[index], index, size, service.tree.inclusion(index, size), checkpoint.root)
        for old in (1, size // 3, size - 1):
            merkle.verify_consistency(old, size, merkle.root_of(expected[:old]), checkpoint.root,
                                      service.tree.consistency(old, size))
        nodes = db.query("SELECT level, idx, hash FROM tlog_nodes ORDER BY level, idx")
        assert service.rebuild() == size
        assert db.query("SELECT level, idx, hash FROM tlog_nodes ORDER BY level, idx") == nodes

        # a cosigned checkpoint pins the tree: a rewritten one is refused, not signed
        station = SigningKey.generate("station.example/w", 0x04)
        cosigned, _ = station.cosign(service.checkpoint())
        service.accept_cosignature(cosigned.format(), station.verifier)
        swapped = [decoded[1], decoded[0], *decoded[2:]]  # the same events, two in another order
        with db.transaction() as tx:
            tx.execute("DELETE FROM tlog_leaves")
            tx.execute("DELETE FROM tlog_nodes")
            appender = TreeAppender.load(tx)
            for position, event in enumerate(swapped, start=1):
                appender.append(position, event.originator_id, event.originator_version, event_hash_of(event))
            appender.write(tx)
        with pytest.raises(Inconsistent, match="rewritten"):
            service.checkpoint(fresh=True)
        assert service.status()["state"] == "inconsistent"
    finally:
        ledger.close()


def test_the_checkpointer_signs_when_the_tree_grew_and_not_otherwise(tmp_path: Path) -> None:
    import time

    from services.bootstrap import build
    from services.settings import Settings
    from services.transparency.checkpointer import Checkpointer
    from services.transparency.service import service_for

    with build(Settings(data_dir=tmp_path / "data", s3_endpoint="127.0.0.1:9")) as container:
        world = World(container.ledger)
        world.new_item()
        checkpointer = Checkpointer(container, interval_s=0.05).start()
        try:
            deadline = time.monotonic() + 5
            while service_for(container).latest() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            first = service_for(container).latest()
            assert first is not None and first[0] == service_for(container).tree.size()
            time.sleep(0.3)  # nothing new: no new checkpoint
            assert service_for(container).latest() == first
            world.new_item()
            deadline = time.monotonic() + 5
            while service_for(container).latest() == first and time.monotonic() < deadline:
                time.sleep(0.02)
            latest = service_for(container).latest()
            assert latest is not None and latest[0] > first[0]
        finally:
            checkpointer.stop()
