"""`siteledger keygen` and `siteledger witness` as a station runs them: over a real socket, then after tampering."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from services.bootstrap import Container, build
from services.cli import main
from services.seaweed import SeaweedS3
from services.transparency.keys import SigningKey
from services.transparency.service import service_for
from siteledger_verify.note import COSIGNATURE_V1, ED25519, VerifierKey
from tests.http_support import ApiWorld, live_server
from tests.integration.api.conftest import settings_for
from tests.support import World

pytestmark = pytest.mark.integration


def test_keygen_prints_a_secret_and_its_verifier_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["keygen", "--name", "siteledger.example/上海"]) == 0
    secret, verifier = capsys.readouterr().out.split()
    key = SigningKey.parse(secret)
    assert key.kind == ED25519 and key.verifier == VerifierKey.parse(verifier)
    assert verifier.startswith("siteledger.example/上海+")
    assert main(["keygen", "--witness", "--name", "station.example/w", "--out", str(tmp_path / "w.key")]) == 0
    assert SigningKey.parse((tmp_path / "w.key").read_text()).kind == COSIGNATURE_V1
    assert "SITELEDGER_TRANSPARENCY_SIGNING_KEY" in capsys.readouterr().err


def test_keygen_works_in_a_production_shell_that_has_no_key_yet(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_ENV", "production")
    monkeypatch.setenv("SITELEDGER_TRANSPARENCY_ORIGIN", "siteledger.example/北京")
    for name, value in (("EVENT_STORE", "postgres"), ("POSTGRES_PASSWORD", "pg-s3cret"), ("S3_ENDPOINT", "minio:9000"),
                        ("S3_SECRET_KEY", "s3-s3cret")):  # everything else production needs is there
        monkeypatch.setenv(f"SITELEDGER_{name}", value)
    with pytest.raises(ValueError, match="SITELEDGER_TRANSPARENCY_SIGNING_KEY"):
        main(["check"])  # every server command refuses to start without one
    assert main(["keygen"]) == 0
    assert capsys.readouterr().out.split()[1].startswith("siteledger.example/北京+")


def test_the_station_witnesses_then_raises_the_alarm(api: ApiWorld, container: Container, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    api.pass_all(api.item(), until="pressure_test")
    key = service_for(container).key.verifier.text()
    state = tmp_path / "station"
    with live_server(container) as url:
        run = ["witness", "--server", url, "--key", key, "--state", str(state), "--token", api.station]
        assert main(run) == 0
        assert "已见证" in capsys.readouterr().out
        api.pass_all(api.item(), until="excavation")
        assert main(run) == 0
        with sqlite3.connect(container.settings.data_dir / "events.db") as db:
            (top,) = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
            db.execute("DELETE FROM stored_events WHERE rowid > ?", (top - 4,))
        service_for(container).rebuild()
        assert main(run) == 1
        assert "告警" in capsys.readouterr().err and (state / "alarm.txt").exists()
        assert main([*run[:-1], "not-a-token"]) == 2  # an unreadable answer is no alarm, and no success either


def test_an_exported_pack_checks_out_with_the_standalone_verifier(tmp_path: Path, s3_server: SeaweedS3,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`siteledger export works-item`, then `siteledger-verify` as its own program, as a court would run it."""
    settings = settings_for(tmp_path, s3_server)
    for name, value in (("DATA_DIR", str(settings.data_dir)), ("S3_ENDPOINT", settings.s3_endpoint),
                        ("S3_BUCKET", settings.s3_bucket)):
        monkeypatch.setenv(f"SITELEDGER_{name}", value)
    with build(settings) as container:
        world = World(container.ledger)
        item = world.new_item()
        world.pass_through(item, until="excavation")  # the World's photos are made-up hashes: none cited here
        key = service_for(container).key.verifier.text()
    pack = tmp_path / "pack.zip"
    assert main(["export", "works-item", str(item), "--out", str(pack)]) == 0
    verifier = Path(sys.executable).with_name("siteledger-verify")
    done = subprocess.run([str(verifier), "pack", str(pack), "--key", key], capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "证据包核验通过 / the pack verifies" in done.stdout
    impostor = SigningKey.generate("x.example").verifier.text()
    wrong = subprocess.run([str(verifier), "pack", str(pack), "--key", impostor], capture_output=True, text=True,
                           timeout=60)
    assert wrong.returncode == 1 and "未经指定密钥签名" in wrong.stdout


def test_the_operator_sees_rebuilds_and_signs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "127.0.0.1:9")
    with build() as container:
        World(container.ledger).new_item()
        events = sum(1 for n in container.ledger.recorder.select_notifications(0, 1000)
                     if not n.topic.startswith("siteledger.receipt:"))
    assert main(["transparency", "checkpoint"]) == 0
    assert capsys.readouterr().out.startswith(f"siteledger.example/dev\n{events}\n")  # every event, no receipt
    assert main(["transparency", "rebuild"]) == 0
    out = capsys.readouterr()
    assert f"rebuilt: {events} leaves" in out.err and '"state": "ok"' in out.out
