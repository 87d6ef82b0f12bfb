"""`siteledger keygen` and `siteledger witness` as a station runs them: over a real socket, then after tampering."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.bootstrap import Container
from services.cli import main
from services.transparency.keys import SigningKey
from services.transparency.service import service_for
from siteledger_verify.note import COSIGNATURE_V1, ED25519, VerifierKey
from tests.http_support import ApiWorld, live_server

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
