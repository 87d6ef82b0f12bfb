"""The station's witness: fetch the log's checkpoint, check it extends the one held, mirror the leaves, cosign.

It trusts nothing of the server but the pinned verifier key: the signature, the consistency proof and the
mirrored leaves (whose root must be the checkpoint's) are all checked here with `siteledger_verify`. A
checkpoint that does not extend the one held is an alarm: reported to the server, kept in the state
directory, and the run fails. State: `witness.key` (the station's cosigning key), `checkpoint` (the last
checkpoint held, cosigned), `checkpoints/` (every one), `leaves.db` (the mirror), `alarm.txt`.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from services.transparency.keys import SigningKey, load_or_create
from siteledger_verify import merkle
from siteledger_verify.events import event_leaf_hash
from siteledger_verify.note import COSIGNATURE_V1, Checkpoint, NoteError, VerifierKey, open_checkpoint

PAGE = 10_000


class Alarm(Exception):
    """The log the server shows now does not extend the log the station witnessed before."""


@dataclass(frozen=True)
class Witnessed:
    old_size: int
    checkpoint: Checkpoint
    note: str
    posted: bool


class Mirror:
    """The leaves the station has seen, and the right edge of their tree (to extend it without rereading)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS leaves (leaf_index INTEGER PRIMARY KEY, aggregate_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, event_hash TEXT NOT NULL);"
            "CREATE INDEX IF NOT EXISTS leaves_aggregate ON leaves (aggregate_id, version);"
            "CREATE TABLE IF NOT EXISTS edge (position INTEGER PRIMARY KEY, level INTEGER NOT NULL, "
            "hash TEXT NOT NULL);")

    def size(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM leaves").fetchone()[0])

    def edge(self) -> list[tuple[int, bytes]]:
        rows = self.db.execute("SELECT level, hash FROM edge ORDER BY position")
        return [(int(lv), bytes.fromhex(h)) for lv, h in rows]

    def extend(self, leaves: list[dict[str, Any]], expected_root: bytes, size: int) -> None:
        """Add leaves [self.size(), size); refuse (nothing kept) unless they give the checkpoint's root."""
        edge, start = self.edge(), self.size()
        for offset, leaf in enumerate(leaves):
            if leaf["leaf_index"] != start + offset:
                raise Alarm(f"the server skipped leaf {start + offset} / 服务器给出的叶子不连续")
            value, level = event_leaf_hash(UUID(leaf["aggregate_id"]), leaf["version"], leaf["event_hash"]), 0
            while edge and edge[-1][0] == level:
                value, level = merkle.node_hash(edge.pop()[1], value), level + 1
            edge.append((level, value))
        if start + len(leaves) != size:
            raise Alarm(f"the server gave {start + len(leaves)} leaves for a tree of {size} / 叶子数量与检查点不符")
        root = merkle.fold_parts([h for _, h in edge]) if edge else merkle.EMPTY_ROOT
        if root != expected_root:
            raise Alarm("the leaves the server gave do not make the checkpoint's root hash / 叶子与检查点根哈希不符")
        with self.db:
            self.db.executemany("INSERT INTO leaves VALUES (?, ?, ?, ?)",
                                [(x["leaf_index"], x["aggregate_id"], x["version"], x["event_hash"]) for x in leaves])
            self.db.execute("DELETE FROM edge")
            self.db.executemany("INSERT INTO edge VALUES (?, ?, ?)",
                                [(n, lv, h.hex()) for n, (lv, h) in enumerate(edge)])

    def close(self) -> None:
        self.db.close()


class Witness:
    def __init__(self, server: str, log_key: VerifierKey, state: Path, token: str, name: str,
                 client: httpx.Client | None = None) -> None:
        self.log_key, self.state = log_key, state
        state.mkdir(parents=True, exist_ok=True)
        self.key: SigningKey = load_or_create(state / "witness.key", name, COSIGNATURE_V1)
        self.http = client or httpx.Client(base_url=server.rstrip("/"), timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.post_answer = ""  # the server's answer to the last cosignature handed in (for the operator)

    def held(self) -> tuple[Checkpoint, str] | None:
        path = self.state / "checkpoint"
        if not path.exists():
            return None
        note = path.read_text()
        return open_checkpoint(note, self.log_key), note

    def _get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(f"/api/v1/transparency{path}", params=params, headers=self.headers)

    def run(self) -> Witnessed:
        held = self.held()
        response = self._get("/checkpoint", fresh="true")
        if response.status_code == 503 and "transparency_inconsistent" in response.text:
            raise self._alarm(f"the server itself refuses: {response.json().get('detail')}", held, None)
        response.raise_for_status()
        served = response.text
        try:
            checkpoint = open_checkpoint(served, self.log_key)
        except NoteError as error:
            raise self._alarm(str(error), held, served) from None
        old_size = held[0].size if held else 0
        if held is not None:
            self._check_extends(held[0], checkpoint, held[1], served)
        mirror = Mirror(self.state / "leaves.db")
        try:
            if mirror.size() != old_size:
                raise self._alarm(f"the mirror holds {mirror.size()} leaves, the held checkpoint {old_size}", held,
                                  served)
            leaves: list[dict[str, Any]] = []
            for start in range(old_size, checkpoint.size, PAGE):
                page = self._get("/leaves", start=start, end=min(start + PAGE, checkpoint.size))
                page.raise_for_status()
                leaves.extend(page.json()["items"])
            try:
                mirror.extend(leaves, checkpoint.root, checkpoint.size)
            except Alarm as error:
                raise self._alarm(str(error), held, served) from None
        finally:
            mirror.close()
        cosigned, _ = self.key.cosign(served)
        note = cosigned.format()
        (self.state / "checkpoints").mkdir(exist_ok=True)
        (self.state / "checkpoints" / f"{checkpoint.size}").write_text(note)
        (self.state / "checkpoint").write_text(note)
        posted = self.http.post("/api/v1/transparency/cosignatures", headers=self.headers,
                                json={"note": note, "key": self.key.verifier.text()})
        self.post_answer = posted.text
        return Witnessed(old_size, checkpoint, note, posted.status_code == 201)

    def _check_extends(self, old: Checkpoint, new: Checkpoint, held: str, served: str) -> None:
        if new.size < old.size:
            raise self._alarm(f"the log shrank from {old.size} to {new.size} leaves (truncated)", (old, held), served)
        proof: list[bytes] = []
        if old.size < new.size:
            response = self._get("/proof/consistency", **{"from": old.size, "to": new.size})
            response.raise_for_status()
            proof = [base64.b64decode(h) for h in response.json()["proof"]]
        try:
            merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
        except merkle.ProofError as error:
            raise self._alarm(str(error), (old, held), served) from None

    def _alarm(self, reason: str, held: tuple[Checkpoint, str] | None, served: str | None) -> Alarm:
        """Keep the evidence (both checkpoints), tell the server, and fail."""
        text = f"{reason}\n\n--- held ---\n{held[1] if held else '(none)'}\n--- served ---\n{served or '(none)'}\n"
        (self.state / "alarm.txt").write_text(text)
        with contextlib.suppress(httpx.HTTPError):  # the alarm stands anyway: in the state directory, the exit status
            self.http.post("/api/v1/transparency/alarms", headers=self.headers,
                           json={"reason": reason[:2000], "held_checkpoint": (held[1] if held else "")[:4000],
                                 "served_checkpoint": (served or "")[:4000] or None})
        return Alarm(reason)

    def close(self) -> None:
        self.http.close()

