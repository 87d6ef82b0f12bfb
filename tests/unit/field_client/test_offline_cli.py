"""The tablet with no network at all: forms, recording, photos copied in, the queue; sync says so and loses nothing."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from field_client.cli import main
from field_client.queue import Queue
from field_client.store import Store
from tests import images
from tests.unit.field_client.conftest import fill, item_view


@pytest.fixture
def home(tmp_path: Path) -> Path:
    item = item_view()
    item["id"] = "a1b2c3d4-0000-4000-8000-000000000001"
    resident_item = item_view(state="awaiting_acceptance", acceptance_rounds=[
        {"round_no": 2, "status": "open", "subject_hash": "ab" * 32}])
    resident_item["id"] = "e5f6a7b8-0000-4000-8000-000000000002"
    with Store(tmp_path / "home") as store:
        fill(store, [item, resident_item])
    return tmp_path / "home"


def run(home: Path, *argv: str) -> int:
    return main(["--home", str(home), *argv])


def photo(tmp_path: Path, label: str) -> str:
    path = tmp_path / f"{label}.jpg"
    path.write_bytes(images.jpeg(label))
    return str(path)


def test_an_inspection_is_queued_with_its_key_device_time_and_photos_copied_in(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picture = photo(tmp_path, "trench")
    assert run(home, "inspect", "a1b2", "excavation", "--result", "pass", "--measure", "depth_m=1.2",
               "--measure", "width_m=0.8", "--check", "shoring_in_place", "--check", "fencing_in_place",
               "--photo", picture, "--gps", "31.17,121.43") == 0
    assert "已保存在本机" in capsys.readouterr().out
    Path(picture).unlink()  # the gallery forgets it; the tablet has its own copy
    with Store(home) as store:
        [cmd] = Queue(store).all()
        sha = hashlib.sha256(images.jpeg("trench")).hexdigest()
        assert store.photo_path(sha).read_bytes() == images.jpeg("trench")
        assert [dict(p)["state"] for p in store.photos()] == ["queued"]
    assert uuid.UUID(cmd.id) and cmd.state == "queued"
    assert cmd.path == "/api/v1/works-items/a1b2c3d4-0000-4000-8000-000000000001/inspections"
    assert cmd.body["photos"] == [sha] and cmd.body["measurements"] == {"depth_m": "1.2", "width_m": "0.8"}
    assert cmd.body["gps"] == {"lat": 31.17, "lon": 121.43}
    assert datetime.fromisoformat(cmd.body["recorded_at"]).utcoffset() is not None


@pytest.mark.parametrize(("argv", "zh", "en"), [
    (["excavation", "--result", "pass", "--measure", "depth_m=1", "--measure", "width_m=1"],
     "至少需要 1 张照片", "needs at least 1 photo"),
    (["pipe_laying", "--result", "pass", "--measure", "length_laid_m=4", "--check", "bedding_ok"],
     "缺少必填测量值：材料合格证编号", "Missing required measurements: material_certificate"),
    (["survey_and_marking", "--result", "fail"], "必须同时开具至少一项整改", "must raise at least one defect"),
    (["trench", "--result", "fail", "--defect", "major:未支护"], "没有检查点 trench", "has no hold point trench"),
    (["survey_and_marking", "--result", "fail", "--defect", "huge:未支护"], "严重程度", "Severity"),
])
def test_mistakes_are_caught_on_site_and_nothing_is_queued(
        home: Path, argv: list[str], zh: str, en: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(home, "inspect", "a1b2", *argv) == 1
    err = capsys.readouterr().err
    assert zh in err and en in err
    with Store(home) as store:
        assert Queue(store).all() == []


def test_a_file_that_is_not_a_photo_is_refused(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a photo")
    assert run(home, "defect", "a1b2", "--severity", "minor", "--description", "围挡缺失",
               "--photo", str(tmp_path / "notes.txt")) == 1
    assert "不是照片文件" in capsys.readouterr().err


def test_a_failed_inspection_raises_its_defect_and_a_rectification_can_cite_it_before_any_sync(
        home: Path, tmp_path: Path) -> None:
    assert run(home, "inspect", "a1b2", "survey_and_marking", "--result", "fail", "--notes", "未通知专营单位",
               "--defect", "major:未通知自来水公司:2026-05-01", "--defect-photo", photo(tmp_path, "d")) == 0
    with Store(home) as store:
        [cmd] = Queue(store).all()
        [draft] = cmd.body["defects"]
        assert draft["severity"] == "major" and draft["due_date"] == "2026-05-01" and len(draft["photos"]) == 1
        assert run(home, "close-defect", "a1b2", draft["defect_id"][:6]) == 0
        store.put(user=json.dumps({"id": "c0000000-0000-4000-8000-000000000000", "role": "contractor"}))
    assert run(home, "rectify", "a1b2", draft["defect_id"][:6], "--description", "已通知") == 1  # no after-photo
    assert run(home, "rectify", "a1b2", draft["defect_id"][:6], "--description", "已通知",
               "--photo", photo(tmp_path, "after")) == 0
    with Store(home) as store:
        rectified = Queue(store).all()[-1]
    assert rectified.path.endswith(f"/defects/{draft['defect_id']}/rectifications")


def test_the_wrong_role_is_told_so(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(home, "sign", "e5f6", "--decision", "accept") == 1
    assert "needs: resident" in capsys.readouterr().err


def test_a_residents_signature_binds_the_cached_rounds_subject_hash(home: Path) -> None:
    with Store(home) as store:
        store.put(user=json.dumps({"id": "r0000000-0000-4000-8000-000000000000", "role": "resident"}))
    assert run(home, "sign", "e5f6", "--decision", "reject") == 1
    assert run(home, "sign", "e5f6", "--decision", "reject", "--reason", "候梯厅地面未恢复") == 0
    with Store(home) as store:
        [cmd] = Queue(store).all()
    assert cmd.path.endswith("/acceptance-rounds/2/signatures") and cmd.body["subject_hash"] == "ab" * 32


def test_forms_items_and_queue_work_offline_and_sync_keeps_everything(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(home, "form", "a1b2", "pressure_test") == 0
    out = capsys.readouterr().out
    assert "--measure test_pressure_mpa" in out and "试验压力≥0.6 MPa" in out
    assert run(home, "items") == 0 and "a1b2c3d4" in capsys.readouterr().out
    assert run(home, "defect", "a1b2", "--severity", "minor", "--description", "围挡缺失") == 0
    assert run(home, "sync", "--retries", "2", "--backoff", "0.01") == 3  # nothing listens on port 9
    assert "稍后再同步" in capsys.readouterr().err
    assert run(home, "queue", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["counts"]["queued"] == 1 and listed["commands"][0]["action"] == "defect"


def test_a_queued_defect_that_un_passes_a_hold_point_warns_at_once_about_passes_that_stand_on_it(
        home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    survey = ["inspect", "a1b2", "survey_and_marking", "--result", "pass", "--measure", "utility_owner=自来水公司",
              "--check", "utilities_located", "--check", "owner_notified"]
    excavation = ["inspect", "a1b2", "excavation", "--result", "pass", "--measure", "depth_m=1.2",
                  "--measure", "width_m=0.8", "--check", "shoring_in_place", "--check", "fencing_in_place",
                  "--photo", photo(tmp_path, "trench")]
    assert run(home, *survey) == 0 and run(home, *excavation) == 0
    assert "⚠" not in capsys.readouterr().out
    assert run(home, "defect", "a1b2", "--severity", "major", "--description", "放线偏差",
               "--hold-point", "survey_and_marking") == 0
    out = capsys.readouterr().out
    with Store(home) as store:
        excavation_id = Queue(store).all()[1].id
    assert "⚠" in out and "excavation" in out and excavation_id[:8] in out, out
    assert run(home, *excavation) == 0
    out = capsys.readouterr().out
    assert "不再通过" in out and "survey_and_marking" in out, out
