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


def test_a_first_admin_with_a_phone_gets_a_set_password_link_that_works_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from urllib.parse import parse_qs, urlparse

    from services.api.authentication import credentials
    from services.bootstrap import build
    from services.credentials import LinkRefused
    from services.settings import Settings

    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITELEDGER_S3_ENDPOINT", "127.0.0.1:9")
    assert main(["admin", "create-user", "--name", "王芳", "--role", "admin", "--phone", "13800000001"]) == 0
    err = capsys.readouterr().err
    url = next(word for word in err.split() if "/set-password?token=" in word)
    token = parse_qs(urlparse(url).query)["token"][0]
    with build(Settings()) as container:
        person = credentials(container).set_password(token, "楼道里的灯终于亮了-2026")
        assert person.name == "王芳"
        assert credentials(container).verify("13800000001", "楼道里的灯终于亮了-2026") is not None
        with pytest.raises(LinkRefused):
            credentials(container).set_password(token, "another-long-password-1")


def test_reminders_say_what_they_need_without_a_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SITELEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SITELEDGER_KAFKA_BOOTSTRAP", raising=False)
    assert main(["reminders", "--interval", "1"]) == 2
    assert "SITELEDGER_KAFKA_BOOTSTRAP" in capsys.readouterr().err
