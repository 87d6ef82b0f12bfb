"""What an evidence pack carries for an outsider: each event as it was hashed, and its place in a signed tree.

`log.json` holds each event's topic and fields reduced to JSON (the exact input of its hash), so
`siteledger-verify` recomputes every hash without the server's code; `transparency.json` holds a checkpoint
covering the item and, for every leaf of the item in that tree, its index and inclusion proof — also for
versions the store no longer has, which is how a deleted tail shows.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from domain.canonical import to_plain
from services.transparency.service import Inconsistent, TransparencyService
from siteledger_verify.note import Checkpoint, Note


def log_entries(events: list[Any]) -> list[dict[str, Any]]:
    return [{"topic": type(e).TOPIC, "event_hash": e.event_hash,
             "fields": to_plain({k: v for k, v in vars(e).items() if k != "event_hash"})} for e in events]


def covering_checkpoint(service: TransparencyService, item_id: UUID) -> str:
    """The newest cosigned checkpoint that holds every event of the item the tree has, else a fresh one."""
    service.catch_up()
    service.check_witnessed()
    latest_leaf = service.db.query("SELECT MAX(leaf_index) FROM tlog_leaves WHERE aggregate_id = ?", (str(item_id),))
    needed = int(latest_leaf[0][0]) + 1 if latest_leaf and latest_leaf[0][0] is not None else 0
    rows = service.db.query("SELECT MAX(tree_size) FROM transparency_cosignatures WHERE tree_size >= ?", (needed,))
    if rows and rows[0][0] is not None:
        cosigned = service.cosigned(int(rows[0][0]))
        if cosigned is not None:
            return cosigned
    return service.checkpoint(fresh=True)


def earliest_covering(service: TransparencyService, aggregate_id: UUID, version: int) -> dict[str, Any] | None:
    """The first checkpoint that holds this event (signing one now if none does yet), with the event's leaf and
    inclusion proof. The first, not the newest: the answer for an event never changes once given, so a printed
    record of the same version prints the same bytes. None while the log disagrees with what was witnessed."""
    try:
        service.catch_up()
        leaf = service.tree.leaf(str(aggregate_id), version)
        if leaf is None:
            return None
        index, event_hash = leaf
        rows = service.db.query("SELECT note FROM transparency_checkpoints WHERE tree_size > ? "
                                "ORDER BY tree_size LIMIT 1", (index,))
        note = str(rows[0][0]) if rows else service.checkpoint(fresh=True)
        service.check_witnessed()
    except Inconsistent:
        return None
    signed = Checkpoint.parse(Note.parse(note).text)
    return {"origin": signed.origin, "size": signed.size, "root": _b64(signed.root), "note": note,
            "leaf_index": index, "event_hash": event_hash,
            "proof": [_b64(h) for h in service.tree.inclusion(index, signed.size)]}


def transparency_document(service: TransparencyService, item_id: UUID) -> dict[str, Any]:
    try:
        note = covering_checkpoint(service, item_id)
    except Inconsistent as error:
        return {"error": f"no checkpoint: {error} / 无法给出检查点：日志与已见证的检查点不一致"}
    size = Checkpoint.parse(Note.parse(note).text).size
    leaves = [{"version": version, "leaf_index": index, "event_hash": event_hash,
               "proof": [_b64(h) for h in service.tree.inclusion(index, size)]}
              for index, version, event_hash in service.tree.leaves_of(str(item_id), size)]
    return {"checkpoint": note, "tree_size": size, "log_key": service.key.verifier.text(),
            "leaf_format": "aggregate id (16 bytes) || version (8 bytes, big-endian) || event hash (32 bytes)",
            "leaves": leaves}


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()
