"""A station inspector, with the log's verifier key and their witness state, catches each tampering from outside.

Real SQLite event store (edited behind the application's back, as someone with database access could), real
SeaweedFS S3, the real app; the witness talks HTTP to it and the verifier reads only the exported zip.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Container
from services.operations import export_item
from services.transparency.keys import SigningKey
from services.transparency.service import service_for
from services.transparency.witness import Alarm, Witness
from siteledger_verify.cli import main as verify_main
from siteledger_verify.note import Checkpoint, Note, VerifierKey
from siteledger_verify.pack import verify_pack
from tests import images
from tests.http_support import ApiWorld

pytestmark = pytest.mark.integration


class Scene:
    """A works item with photos, a station witnessing the log, and the database someone may tamper with."""

    def __init__(self, api: ApiWorld, client: TestClient, container: Container, tmp_path: Path) -> None:
        self.api, self.client, self.container, self.tmp = api, client, container, tmp_path
        self.item = api.item()
        api.pass_all(self.item, until="backfill_restoration")
        self.other = api.item()
        api.pass_all(self.other, until="pipe_laying")
        self.key = VerifierKey.parse(client.get("/api/v1/transparency/key", headers=_auth(api.station)).text)
        self.state = tmp_path / "station"
        self.events_db = container.settings.data_dir / "events.db"

    def witness(self, key: VerifierKey | None = None) -> Witness:
        return Witness("http://testserver", key or self.key, self.state, self.api.station,
                       "station.xuhui.example/witness", client=self.client)

    def cosigner(self) -> VerifierKey:
        return SigningKey.parse((self.state / "witness.key").read_text()).verifier

    def pack(self, name: str = "pack.zip") -> Path:
        path = self.tmp / name
        with path.open("wb") as out:
            export_item(self.container, UUID(self.item), out)
        return path

    def sql(self, statement: str, params: tuple[object, ...] = ()) -> None:
        with sqlite3.connect(self.events_db) as db:
            db.execute(statement, params)

    def stored_id(self, item: str) -> str:
        with sqlite3.connect(self.events_db) as db:
            for key in (UUID(item).hex, item):
                if db.execute("SELECT 1 FROM stored_events WHERE originator_id = ?", (key,)).fetchone():
                    return key
        raise AssertionError("item not in the store")

    def version(self) -> int:
        return int(self.api.ok("GET", f"/api/v1/works-items/{self.item}", self.api.admin)["version"])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def scene(api: ApiWorld, client: TestClient, container: Container, tmp_path: Path) -> Scene:
    return Scene(api, client, container, tmp_path)


def test_an_honest_pack_verifies_with_the_station_cosignature(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    photo = scene.api.photo("after")
    scene.api.ok("POST", f"/api/v1/works-items/{scene.item}/defects", scene.api.supervisor,
                 json={"severity": "minor", "description": "井盖松动", "photos": [photo]})
    station = scene.witness()
    done = station.run()
    assert done.posted and done.old_size == 0, station.post_answer
    pack = scene.pack()
    report = verify_pack(pack, scene.key, scene.cosigner(), scene.state)
    assert report.ok, report.broken
    assert verify_main(["pack", str(pack), "--key", scene.key.text(), "--cosigner", scene.cosigner().text(),
                        "--witness-state", str(scene.state)]) == 0
    out = capsys.readouterr().out
    assert "证据包核验通过" in out and "the pack verifies" in out and "照片" in out
    # a second run extends what the station holds, by a consistency proof
    scene.api.pass_all(scene.other, until="concealed_works")
    again = scene.witness().run()
    assert again.old_size == done.checkpoint.size < again.checkpoint.size


def test_an_event_edited_in_the_store(scene: Scene) -> None:
    scene.witness().run()
    with sqlite3.connect(scene.events_db) as db:
        key = scene.stored_id(scene.item)
        (state,) = db.execute("SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 2",
                              (key,)).fetchone()
        edited = bytes(state).replace("自来水".encode(), "煤气公".encode()).replace(
            b"\\u81ea\\u6765\\u6c34", b"\\u7164\\u6c14\\u516c")
        assert edited != bytes(state)
        db.execute("UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 2",
                   (edited, key))
    report = verify_pack(scene.pack(), scene.key, scene.cosigner())
    assert not report.ok
    assert any("第 2 个事件的内容与其哈希不符（被修改）" in line for line in report.broken), report.broken


def test_the_newest_three_events_of_an_item_deleted(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    scene.witness().run()  # the station witnessed the log with them
    last = scene.version()
    scene.sql("DELETE FROM stored_events WHERE originator_id = ? AND originator_version > ?",
              (scene.stored_id(scene.item), last - 3))
    pack = scene.pack()
    report = verify_pack(pack, scene.key, None, scene.state)
    assert not report.ok
    deleted = f"{last - 2}–{last}"
    assert any("最新的 3 个事件已从事件库删除" in line and deleted in line for line in report.broken), report.broken
    assert any("监督站见证过的日志" in line and deleted in line for line in report.broken), report.broken
    assert verify_main(["pack", str(pack), "--key", scene.key.text()]) == 1
    assert "证据包核验失败" in capsys.readouterr().out
    # hiding it by rebuilding the tree is the rewritten-log case: the server refuses, the station alarms
    service_for(scene.container).rebuild()
    refused = scene.client.get("/api/v1/transparency/checkpoint", headers=_auth(scene.api.admin))
    assert refused.status_code == 503 and refused.json()["code"] == "transparency_inconsistent"
    with pytest.raises(Alarm):
        scene.witness().run()
    assert not verify_pack(scene.pack("after-rebuild.zip"), scene.key).ok


def test_the_log_truncated(scene: Scene) -> None:
    held = scene.witness().run()
    with sqlite3.connect(scene.events_db) as db:
        (top,) = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
        db.execute("DELETE FROM stored_events WHERE rowid > ?", (top - 6,))
    service_for(scene.container).rebuild()  # the tree rebuilt from what is left
    with pytest.raises(Alarm, match=r"fewer than the .* a station witnessed|shrank"):
        scene.witness().run()
    status = scene.api.ok("GET", "/api/v1/transparency/status", scene.api.resident(9))
    assert status["state"] == "inconsistent" and "fewer than" in status["problem"]
    assert status["alarms"] and status["alarms"][0]["reported_by"]
    assert (scene.state / "alarm.txt").read_text().startswith("the server itself refuses")
    # an operator who signs the shorter tree anyway: the station's two checkpoints disagree
    truncated = _sign_anyway(scene)
    old, new = scene.tmp / "held.note", scene.tmp / "served.note"
    old.write_text(held.note)
    new.write_text(truncated)
    assert verify_main(["consistency", str(old), str(new), "--key", scene.key.text()]) == 1


def test_two_events_swapped_in_the_log(scene: Scene) -> None:
    scene.witness().run()
    with sqlite3.connect(scene.events_db) as db:  # two events of different items trade places in the log
        rows = db.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                          "WHERE topic NOT LIKE 'siteledger.receipt:%' ORDER BY rowid DESC LIMIT 40").fetchall()
        a = next(r for r in rows if r[1] == scene.stored_id(scene.other))
        b = next(r for r in rows if r[1] == scene.stored_id(scene.item) and r[0] < a[0])
        db.execute("UPDATE stored_events SET originator_id = 'x', originator_version = -1 WHERE rowid = ?", (a[0],))
        db.execute("UPDATE stored_events SET originator_id = ?, originator_version = ?, topic = ?, state = ? "
                   "WHERE rowid = ?", (a[1], a[2], a[3], a[4], b[0]))
        db.execute("UPDATE stored_events SET originator_id = ?, originator_version = ?, topic = ?, state = ? "
                   "WHERE rowid = ?", (b[1], b[2], b[3], b[4], a[0]))
    assert scene.client.get(f"/api/v1/works-items/{scene.item}/verify",
                            headers=_auth(scene.api.admin)).json()["valid"]  # every hash chain still holds
    service_for(scene.container).rebuild()
    with pytest.raises(Alarm):
        scene.witness().run()
    served = _sign_anyway(scene)  # signed anyway: the consistency proof itself fails
    with pytest.raises(Alarm, match="rewritten"):
        scene.witness().run()
    assert "rewritten" in (scene.state / "alarm.txt").read_text() and served in (scene.state / "alarm.txt").read_text()


def test_a_photo_replaced_in_s3(scene: Scene) -> None:
    photo = scene.api.photo("crack")
    scene.api.ok("POST", f"/api/v1/works-items/{scene.item}/defects", scene.api.supervisor,
                 json={"severity": "major", "description": "管沟塌方", "photos": [photo]})
    store = scene.container.photos.store
    forged = images.jpeg("a-different-photo")
    store.client.put_object(store.bucket, f"originals/{photo}", io.BytesIO(forged), len(forged),
                            content_type="image/jpeg")
    report = verify_pack(scene.pack(), scene.key)
    assert not report.ok
    assert any(f"照片 {photo[:12]}… 的内容与其 SHA-256 不符（被替换）" in line for line in report.broken), report.broken


def test_a_forged_checkpoint_signed_by_another_key(scene: Scene) -> None:
    pack = scene.pack()
    impostor = SigningKey.generate(scene.key.name)  # same name, another key
    with pytest.raises(Alarm, match="not signed by the pinned key"):
        scene.witness(impostor.verifier).run()
    report = verify_pack(pack, impostor.verifier)
    assert any("未经指定密钥签名" in line for line in report.broken), report.broken
    note = Note.parse(scene.client.get("/api/v1/transparency/checkpoint", headers=_auth(scene.api.admin)).text)
    forged = impostor.sign_note(note.text)
    path = scene.tmp / "forged.note"
    path.write_text(forged)
    assert verify_main(["consistency", str(path), str(path), "--key", scene.key.text()]) == 1


def test_a_checkpoint_whose_tree_was_rewritten_after_being_witnessed(scene: Scene) -> None:
    held = scene.witness().run()
    scene.sql("DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 3",
              (scene.stored_id(scene.item),))  # an event from the middle of the log, then a fresh tree
    scene.api.pass_all(scene.other, until="concealed_works")
    service_for(scene.container).rebuild()
    served = _sign_anyway(scene)
    with pytest.raises(Alarm, match="rewritten"):
        scene.witness().run()
    old, new = scene.tmp / "held.note", scene.tmp / "served.note"
    old.write_text(held.note)
    new.write_text(served)
    proof = scene.tmp / "proof.json"
    size_old, size_new = (Checkpoint.parse(Note.parse(t).text).size for t in (held.note, served))
    proof.write_text(scene.client.get("/api/v1/transparency/proof/consistency", headers=_auth(scene.api.admin),
                                      params={"from": size_old, "to": size_new}).text)
    assert verify_main(["consistency", str(old), str(new), "--key", scene.key.text(), "--proof", str(proof)]) == 1


def _sign_anyway(scene: Scene) -> str:
    """What a dishonest operator does: forget the stations' cosignatures and the old checkpoints, so the server
    signs the new tree."""
    with scene.container.db.transaction() as tx:
        tx.execute("DELETE FROM transparency_cosignatures")
        tx.execute("DELETE FROM transparency_checkpoints")
    note = scene.client.get("/api/v1/transparency/checkpoint?fresh=true", headers=_auth(scene.api.admin))
    assert note.status_code == 200, note.text
    return note.text
