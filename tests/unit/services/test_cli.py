"""The operator's commands: a first admin, and a rebuild that shows progress and its rate."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import main


def test_create_user_prints_the_token_last_and_rebuild_reports_its_rate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "127.0.0.1:9")
    assert main(["admin", "create-user", "--name", "王芳", "--role", "admin"]) == 0
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1].startswith("slt_")
    assert main(["projections", "rebuild", "dashboard"]) == 0
    err = capsys.readouterr().err
    assert "dashboard" in err and "events/s" in err
    assert main(["projections", "rebuild", "nonsense"]) == 2
