"""Operator commands and the signals an operator watches: check, verify --all, export, metrics, request ids."""

from __future__ import annotations

import hashlib
import json
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.bootstrap import build
from services.cli import main
from services.operations import export_item
from services.seaweed import SeaweedS3
from services.settings import Settings
from tests import images
from tests.http_support import ApiWorld
from tests.integration.api.conftest import settings_for
from tests.integration.test_event_store import _tamper
from tests.support import World

pytestmark = pytest.mark.integration


def test_verify_all_finds_a_tampered_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "127.0.0.1:9")
    container = build(Settings())
    world = World(container.ledger)
    items = [world.new_item() for _ in range(3)]
    for item_id in items:
        world.pass_through(item_id, until="pipe_laying")
    container.close()
    assert main(["verify", "--all"]) == 0
    _tamper({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "data" / "events.db")},
            items[1], version=2)
    assert main(["verify", "--all"]) == 1
    out = capsys.readouterr()
    assert str(items[1]) in out.out and "hash_mismatch" in out.out
    assert str(items[0]) not in out.out and "verifying" in out.err


def test_check_reports_each_part(tmp_path: Path, s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", s3_server.endpoint)
    monkeypatch.setenv("SITELEDGER_S3_BUCKET", "siteledger-test")
    assert main(["check"]) == 0
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "127.0.0.1:9")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "✗ photo store (S3)" in out and "✓ event store" in out


def test_export_round_trips_with_a_manifest_of_sha256s(tmp_path: Path, s3_server: SeaweedS3) -> None:
    container = build(settings_for(tmp_path, s3_server))
    with TestClient(create_app(container)) as client:
        api = ApiWorld(client, container)
        item_id = api.item()
        api.pass_all(item_id, until="pipe_laying")
        uploaded = client.post("/api/v1/photos", headers={"Authorization": f"Bearer {api.supervisor}"},
                               files={"file": ("big.jpg", images.noise_jpeg((2400, 1800), quality=97), "image/jpeg")},
                               data={"project_id": api.project_id})
        assert uploaded.status_code in (200, 201), uploaded.text
        big = uploaded.json()["id"]
        api.ok("POST", f"/api/v1/works-items/{item_id}/defects", api.supervisor,
               json={"severity": "minor", "description": "管道接口渗水", "photos": [big]})
        spool = tempfile.SpooledTemporaryFile(max_size=64 * 1024)  # noqa: SIM115 (read after the app closes)
        tracemalloc.start()
        written = export_item(container, __import__("uuid").UUID(item_id), spool)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    container.close()
    assert written == spool.tell() > 0
    spool.seek(0)
    archive = zipfile.ZipFile(spool)
    original = archive.getinfo(next(n for n in archive.namelist() if big in n)).file_size
    assert original > 1_000_000 and peak < original / 2  # streamed through, never held whole
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["works_item"] == item_id
    paths = {f["path"] for f in manifest["files"]}
    assert {"events.json", "item.json", "verification.json"} <= paths
    assert any(p.startswith("photos/") for p in paths)
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    for photo in (p for p in paths if p.startswith("photos/")):
        assert hashlib.sha256(archive.read(photo)).hexdigest() == Path(photo).stem  # the original, unchanged
    events = json.loads(archive.read("events.json"))
    assert len(events) == manifest["version"] and json.loads(archive.read("verification.json"))["valid"]
