"""The transparency log as the routes, the export and the CLI use it: fed from the event store, signed, witnessed.

The tree is a read model (`projections/transparency_log.py`) with its own event-store driver: it follows the
log in log order, never Kafka (whose partitions have no global order). Checkpoints are signed on demand and
when one is asked for and the newest is older than the interval; none is signed, nor served, while the tree
disagrees with the last checkpoint a station witnessed.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.application import SiteLedger
from projections.sql import Database
from projections.transparency_log import TransparencyDriver, TransparencyLog, TreeReader
from services.settings import Settings
from services.transparency.keys import SigningKey, load_or_create
from siteledger_verify.note import Checkpoint, Note, NoteError, VerifierKey


class Inconsistent(Exception):
    """The tree no longer extends the checkpoint a station witnessed: rewritten, truncated or reordered."""


@dataclass(frozen=True)
class Witnessed:
    size: int
    root: bytes
    cosigner: str
    cosigned_at: str


def signing_key(settings: Settings) -> SigningKey:
    """The configured key; in development, one kept under the data directory (production refuses none)."""
    if settings.transparency_signing_key.strip():
        return SigningKey.parse(settings.transparency_signing_key)
    if settings.env != "development":
        raise RuntimeError("SITELEDGER_TRANSPARENCY_SIGNING_KEY is required outside development")
    return load_or_create(settings.data_dir / "transparency-signing.key", settings.transparency_origin)


class TransparencyService:
    def __init__(self, ledger: SiteLedger, db: Database, key: SigningKey, interval_s: float) -> None:
        self.db, self.key, self.interval_s = db, key, interval_s
        self.driver = TransparencyDriver(TransparencyLog(), ledger, db)
        self.tree = TreeReader(db)
        self._signing = threading.Lock()

    @property
    def origin(self) -> str:
        return self.key.name

    def catch_up(self) -> int:
        """Bring the tree up to the log's head; its size after."""
        self.driver.catch_up()
        return self.tree.size()

    def rebuild(self) -> int:
        self.driver.rebuild()
        return self.tree.size()

    # --- checkpoints ---------------------------------------------------------------------------------------

    def latest(self) -> tuple[int, str, str] | None:
        """(tree size, signed note, signed at) of the newest checkpoint, if any."""
        rows = self.db.query("SELECT tree_size, note, signed_at FROM transparency_checkpoints "
                             "ORDER BY tree_size DESC LIMIT 1")
        return (int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    def checkpoint(self, fresh: bool = False) -> str:
        """The newest signed checkpoint: a new one first if asked (`fresh`), if none exists, or if the newest is
        older than the interval and the tree grew. Refused while the tree disagrees with what was witnessed."""
        size = self.catch_up()
        with self._signing:
            self.check_witnessed()
            latest = self.latest()
            stale = latest is None or time.time() - _epoch(latest[2]) >= self.interval_s
            if latest is None or (size > latest[0] and (fresh or stale)):
                return self._sign(size)
            self._check_matches_tree(latest[0], latest[1])
            return latest[1]

    def _sign(self, size: int) -> str:
        root = self.tree.root(size)
        note = self.key.sign_note(Checkpoint(self.origin, size, root).body())
        with self.db.transaction() as tx:
            if not tx.execute("SELECT 1 FROM transparency_checkpoints WHERE tree_size = ?", (size,)).fetchone():
                tx.execute("INSERT INTO transparency_checkpoints (tree_size, root_hash, note, signed_at) "
                           "VALUES (?, ?, ?, ?)", (size, root.hex(), note, _now()))
        return note

    def _check_matches_tree(self, size: int, note: str) -> None:
        """A checkpoint is served only while the tree still has its root: else proofs against it would fail."""
        signed = Checkpoint.parse(Note.parse(note).text)
        if self._root_or_none(size) != signed.root:
            raise Inconsistent(f"the tree of {size} leaves no longer has the root hash signed in its checkpoint")

    def last_witnessed(self) -> Witnessed | None:
        rows = self.db.query("SELECT tree_size, root_hash, cosigner, cosigned_at FROM transparency_cosignatures "
                             "ORDER BY tree_size DESC, cosigned_at DESC LIMIT 1")
        if not rows:
            return None
        size, root, cosigner, at = rows[0]
        return Witnessed(int(size), bytes.fromhex(root), str(cosigner), str(at))

    def check_witnessed(self) -> None:
        witnessed = self.last_witnessed()
        if witnessed is None:
            return
        if self.tree.size() < witnessed.size:
            raise Inconsistent(f"the tree has {self.tree.size()} leaves, fewer than the {witnessed.size} a station "
                               f"witnessed ({witnessed.cosigner})")
        if self._root_or_none(witnessed.size) != witnessed.root:
            raise Inconsistent(f"the first {witnessed.size} leaves no longer have the root hash {witnessed.cosigner} "
                               "witnessed: the log was rewritten")

    def _root_or_none(self, size: int) -> bytes | None:
        try:
            return self.tree.root(size)
        except LookupError:
            return None

    # --- proofs --------------------------------------------------------------------------------------------

    def inclusion(self, aggregate_id: str, version: int, size: int | None) -> dict[str, Any] | None:
        """The proof that an event is leaf i of the tree of `size` (default: the newest checkpoint's size)."""
        self.catch_up()
        found = self.tree.leaf(aggregate_id, version)
        if found is None:
            return None
        index, event_hash = found
        if size is None:
            latest = self.latest()
            size = latest[0] if latest else 0
        if index >= size:
            return {"leaf_index": index, "tree_size": size, "event_hash": event_hash, "included": False, "proof": []}
        return {"leaf_index": index, "tree_size": size, "event_hash": event_hash, "included": True,
                "proof": [_b64(h) for h in self.tree.inclusion(index, size)]}

    def receipt(self, aggregate_id: str, version: int) -> dict[str, Any] | None:
        """An event's receipt (存证): where it is in the log and, once a checkpoint holds it, the signed checkpoint
        and its inclusion proof — all a resident needs to check it offline with `siteledger-verify receipt`."""
        self.catch_up()
        rows = self.db.query("SELECT leaf_index, position, event_hash FROM tlog_leaves WHERE aggregate_id = ? "
                             "AND version = ?", (aggregate_id, version))
        if not rows:
            return None
        index, position, event_hash = int(rows[0][0]), int(rows[0][1]), str(rows[0][2])
        receipt: dict[str, Any] = {"aggregate_id": aggregate_id, "version": version, "event_hash": event_hash,
                                   "log_position": position, "leaf_index": index, "checkpoint": None,
                                   "tree_size": None, "proof": []}
        latest = self.latest()
        if latest is not None and latest[0] > index:
            receipt |= {"checkpoint": self.cosigned(latest[0]) or latest[1], "tree_size": latest[0],
                        "proof": [_b64(h) for h in self.tree.inclusion(index, latest[0])]}
        return receipt

    def consistency(self, old: int, new: int) -> list[str]:
        return [_b64(h) for h in self.tree.consistency(old, new)]

    # --- the stations -------------------------------------------------------------------------------------

    def accept_cosignature(self, note_text: str, cosigner: VerifierKey) -> Witnessed:
        """Keep a station's cosignature of one of our checkpoints (verified here: a bad one is refused)."""
        note = Note.parse(note_text)
        at = note.cosigned_at(cosigner)
        if at is None:
            raise NoteError("no valid cosignature by that key / 没有该监督站密钥的有效见证签名")
        checkpoint = Checkpoint.parse(note.text)
        rows = self.db.query("SELECT note FROM transparency_checkpoints WHERE tree_size = ?", (checkpoint.size,))
        if checkpoint.origin != self.origin or not rows or Note.parse(str(rows[0][0])).text != note.text:
            raise NoteError("not a checkpoint this log signed / 不是本日志签发的检查点")
        cosigned_at = datetime.fromtimestamp(at, UTC).isoformat()
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM transparency_cosignatures WHERE tree_size = ? AND cosigner = ?",
                       (checkpoint.size, cosigner.text()))
            tx.execute("INSERT INTO transparency_cosignatures (tree_size, cosigner, root_hash, note, cosigned_at, "
                       "received_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (checkpoint.size, cosigner.text(), checkpoint.root.hex(), note.format(), cosigned_at, _now()))
        return Witnessed(checkpoint.size, checkpoint.root, cosigner.text(), cosigned_at)

    def cosigned(self, size: int) -> str | None:
        """The checkpoint of this size with every station's cosignature line added."""
        rows = self.db.query("SELECT note FROM transparency_cosignatures WHERE tree_size = ? ORDER BY cosigner",
                             (size,))
        if not rows:
            return None
        base = Note.parse(str(rows[0][0]))
        lines = {s for row in rows for s in Note.parse(str(row[0])).signatures}
        ordered = sorted(lines, key=lambda s: (s.name != self.origin, s.name))
        return Note(base.text, tuple(ordered)).format()

    def report_alarm(self, reported_by: str, reason: str, held: str, served: str | None) -> str:
        alarm_id = uuid.uuid4().hex
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO transparency_alarms (alarm_id, reported_by, reason, held_checkpoint, "
                       "served_checkpoint, reported_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (alarm_id, reported_by, reason[:2000], held[:4000], (served or "")[:4000] or None, _now()))
        return alarm_id

    def status(self) -> dict[str, Any]:
        size = self.catch_up()
        latest, witnessed = self.latest(), self.last_witnessed()
        problem = None
        try:
            self.check_witnessed()
            if latest is not None:
                self._check_matches_tree(latest[0], latest[1])
        except Inconsistent as error:
            problem = str(error)
        alarms = [{"alarm_id": a, "reported_by": b, "reason": r, "reported_at": t} for a, b, r, t in self.db.query(
            "SELECT alarm_id, reported_by, reason, reported_at FROM transparency_alarms ORDER BY reported_at DESC "
            "LIMIT 20")]
        return {
            "origin": self.origin, "tree_size": size, "log_position": self.driver.position(),
            "state": "inconsistent" if problem else ("alarm" if alarms else "ok"), "problem": problem,
            "latest_checkpoint": {"tree_size": latest[0], "signed_at": latest[2]} if latest else None,
            "last_witnessed": {"tree_size": witnessed.size, "cosigner": witnessed.cosigner,
                               "cosigned_at": witnessed.cosigned_at} if witnessed else None,
            "alarms": alarms,
        }


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


_MAKING = threading.Lock()


def service_for(container: Any) -> TransparencyService:
    """One service per container, made on first use (the routes, the export and the CLI share it)."""
    held = vars(container)
    with _MAKING:
        service = held.get("_transparency")
        if service is None:
            settings = container.settings
            service = held["_transparency"] = TransparencyService(
                container.ledger, container.db, signing_key(settings), settings.checkpoint_interval_minutes * 60)
    return service

