"""Check an evidence pack (`siteledger export works-item`) trusting nothing of the server but its pinned key.

Every event's hash is recomputed from its content and chained; every event is found, with that hash, in a
checkpoint signed by the pinned key (and cosigned by the station if asked); a leaf of the item with no
event in the pack means the store lost events; every cited photo's bytes hash to its id. A witness's
mirror of the log, if given, says whether the log holds later versions of the item than the pack.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from siteledger_verify import merkle
from siteledger_verify.events import GENESIS_HASH, event_hash, event_leaf_hash
from siteledger_verify.note import Checkpoint, NoteError, VerifierKey, open_checkpoint


@dataclass
class Report:
    """What held and what broke, each line in Chinese and English."""

    checked: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken


def verify_pack(path: Path, key: VerifierKey, cosigner: VerifierKey | None = None,
                witness_state: Path | None = None) -> Report:
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        report.broken.append(f"证据包无法打开 / cannot open the pack: {error}")
        return report
    with archive:
        names = set(archive.namelist())
        missing = {"manifest.json", "log.json", "transparency.json"} - names
        if missing:
            report.broken.append(f"证据包缺少文件 / the pack lacks {', '.join(sorted(missing))}")
            return report
        manifest = json.loads(archive.read("manifest.json"))
        log = json.loads(archive.read("log.json"))
        transparency = json.loads(archive.read("transparency.json"))
        item = UUID(manifest["works_item"])
        hashes = _check_chain(item, log, report)
        checkpoint = _check_checkpoint(transparency, key, cosigner, report)
        if checkpoint is not None:
            _check_inclusion(item, hashes, transparency, checkpoint, report)
            if witness_state is not None:
                _check_against_witness(item, hashes, checkpoint, witness_state, report)
        _check_photos(archive, names, log, manifest, report)
    return report


def _check_chain(item: UUID, log: list[dict[str, Any]], report: Report) -> dict[int, str]:
    """Recompute each hash from the event's content; versions 1..n, each chained to the one before."""
    hashes: dict[int, str] = {}
    head = GENESIS_HASH
    for expected, entry in enumerate(log, start=1):
        fields = entry["fields"]
        version = fields.get("originator_version")
        if fields.get("originator_id") != str(item):
            report.broken.append(f"第 {expected} 个事件不属于该事项 / event {expected} is not the item's")
            return hashes
        if version != expected:
            report.broken.append(f"事件版本不连续：应为 {expected}，实为 {version} / version gap at {expected}")
            return hashes
        if fields.get("prev_hash") != head:
            report.broken.append(f"第 {version} 个事件未链接到前一事件（被删除、插入或调换）/ event {version} does not "
                                 "chain to the one before (deleted, inserted or swapped)")
            return hashes
        recomputed = event_hash(head, entry["topic"], fields)
        if recomputed != entry["event_hash"]:
            report.broken.append(f"第 {version} 个事件的内容与其哈希不符（被修改）/ event {version} was edited: its "
                                 "content does not give its hash")
            return hashes
        hashes[version] = head = recomputed
    report.checked.append(f"{len(hashes)} 个事件的哈希与链条 / events' hashes and chain: {len(hashes)}")
    return hashes


def _check_checkpoint(transparency: dict[str, Any], key: VerifierKey, cosigner: VerifierKey | None,
                      report: Report) -> Checkpoint | None:
    if "checkpoint" not in transparency:
        report.broken.append(f"证据包没有检查点 / the pack has no checkpoint: {transparency.get('error', '')}")
        return None
    try:
        checkpoint = open_checkpoint(transparency["checkpoint"], key, cosigner)
    except NoteError as error:
        report.broken.append(str(error))
        return None
    witness = f"，监督站 {cosigner.name} 已见证 / cosigned by {cosigner.name}" if cosigner else ""
    report.checked.append(f"检查点 {checkpoint.origin} 树大小 {checkpoint.size}，签名有效{witness} / "
                          f"checkpoint signed by the pinned key")
    return checkpoint


def _check_inclusion(item: UUID, hashes: dict[int, str], transparency: dict[str, Any], checkpoint: Checkpoint,
                     report: Report) -> None:
    leaves = {leaf["version"]: leaf for leaf in transparency.get("leaves", [])}
    for version, leaf in sorted(leaves.items()):
        proof = [base64.b64decode(h) for h in leaf["proof"]]
        own = hashes.get(version, leaf["event_hash"])
        try:
            merkle.verify_inclusion(event_leaf_hash(item, version, own), leaf["leaf_index"], checkpoint.size, proof,
                                    checkpoint.root)
        except merkle.ProofError as error:
            changed = version in hashes and hashes[version] != leaf["event_hash"]
            why = "与日志记录的哈希不同（事后改写）/ differs from the hash the log recorded" if changed else str(error)
            report.broken.append(f"第 {version} 个事件不在签名的检查点中 / event {version} is not in the signed "
                                 f"checkpoint: {why}")
    absent = sorted(v for v in hashes if v not in leaves)
    if absent:
        report.broken.append(f"事件 {_versions(absent)} 不在检查点中 / events {_versions(absent)} are not in the "
                             "checkpoint")
    last = max(hashes, default=0)
    later = sorted(v for v in leaves if v > last)
    if later:
        report.broken.append(f"日志中有该事项的第 {_versions(later)} 个事件，证据包里却没有：最新的 {len(later)} 个事件"
                             f"已从事件库删除 / the log holds versions {_versions(later)} of the item that the pack "
                             f"lacks: its newest {len(later)} events were deleted")
    if not absent and not later and all(v in leaves for v in hashes):
        report.checked.append(f"每个事件都在检查点中，且包内最后一个事件（第 {last} 个）是该事项在检查点中的最后一个 / "
                              "every event is in the checkpoint, the last one is the item's last")


def _check_against_witness(item: UUID, hashes: dict[int, str], checkpoint: Checkpoint, state: Path,
                           report: Report) -> None:
    """The station's own mirror of the leaves: later versions of the item, or other hashes, are tampering."""
    mirror = state / "leaves.db"
    if not mirror.exists():
        report.broken.append(f"见证状态中没有日志镜像 / no mirror of the log in {state}")
        return
    with sqlite3.connect(mirror) as db:
        rows = db.execute("SELECT leaf_index, version, event_hash FROM leaves WHERE aggregate_id = ? "
                          "ORDER BY version", (str(item),)).fetchall()
        (mirrored,) = db.execute("SELECT COUNT(*) FROM leaves").fetchone()
    last = max(hashes, default=0)
    later = [v for i, v, _ in rows if v > last]
    differ = [v for _, v, h in rows if v in hashes and hashes[v] != h]
    if later:
        report.broken.append(f"监督站见证过的日志（{mirrored} 个叶子）有该事项的第 {_versions(later)} 个事件，证据包里"
                             f"没有：已被删除，或证据包早于该检查点 / the log the station witnessed holds versions "
                             f"{_versions(later)} the pack lacks: deleted, or the pack predates that checkpoint")
    if differ:
        report.broken.append(f"第 {_versions(differ)} 个事件与监督站镜像中的哈希不同（被改写）/ events "
                             f"{_versions(differ)} differ from the station's mirror (rewritten)")
    if not later and not differ:
        report.checked.append(f"与监督站的日志镜像一致（{mirrored} 个叶子）/ agrees with the station's mirror "
                              f"of {mirrored} leaves")


def _check_photos(archive: zipfile.ZipFile, names: set[str], log: list[dict[str, Any]], manifest: dict[str, Any],
                  report: Report) -> None:
    files = {Path(n).stem: n for n in names if n.startswith("photos/")}
    cited = sorted({p for entry in log for p in _cited(entry["fields"])})
    bad = []
    for photo_id in cited:
        name = files.get(photo_id)
        if name is None:
            bad.append(f"照片 {photo_id[:12]}… 不在证据包中 / photo missing from the pack")
            continue
        digest = hashlib.sha256()
        with archive.open(name) as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != photo_id:
            bad.append(f"照片 {photo_id[:12]}… 的内容与其 SHA-256 不符（被替换）/ photo {photo_id[:12]}… was "
                       "replaced: its bytes do not hash to its id")
    listed = {e["path"]: e["sha256"] for e in manifest.get("files", [])}
    for path, sha in listed.items():
        documents = ("log.json", "events.json", "transparency.json")  # photos are checked by their ids
        if path in names and path in documents and hashlib.sha256(archive.read(path)).hexdigest() != sha:
            bad.append(f"{path} 与清单中的 SHA-256 不符 / {path} does not match the manifest")
    report.broken.extend(bad)
    if not bad:
        report.checked.append(f"{len(cited)} 张照片的 SHA-256 / photos' SHA-256: {len(cited)}")


def _cited(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "photos" and isinstance(value, list):
                yield from (p for p in value if isinstance(p, str))
            else:
                yield from _cited(value)
    elif isinstance(data, list):
        for value in data:
            yield from _cited(value)


def _versions(versions: list[int]) -> str:
    return f"{versions[0]}–{versions[-1]}" if len(versions) > 2 else "、".join(map(str, versions))
