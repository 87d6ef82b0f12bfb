"""Check an event's receipt (存证) offline: the event's hash is leaf i of a tree whose checkpoint the log signed."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from siteledger_verify import merkle
from siteledger_verify.events import event_leaf_hash
from siteledger_verify.note import NoteError, VerifierKey, open_checkpoint


def verify_receipt(receipt: dict[str, Any], key: VerifierKey, cosigner: VerifierKey | None = None,
                   event_hash: str | None = None) -> tuple[bool, str]:
    """(holds, a line in Chinese and English saying why). `event_hash`: the hash the holder kept, if any."""
    if event_hash is not None and event_hash != receipt.get("event_hash"):
        return False, "存证中的事件哈希与您保存的不同 / the receipt names another event hash than the one you kept"
    if not receipt.get("checkpoint"):
        return False, (f"尚无检查点包含该事件（日志位置 {receipt.get('log_position')}），请稍后再取存证 / "
                       "no checkpoint holds the event yet: fetch the receipt again later")
    try:
        checkpoint = open_checkpoint(receipt["checkpoint"], key, cosigner)
        merkle.verify_inclusion(
            event_leaf_hash(UUID(receipt["aggregate_id"]), int(receipt["version"]), receipt["event_hash"]),
            int(receipt["leaf_index"]), checkpoint.size, [base64.b64decode(h) for h in receipt["proof"]],
            checkpoint.root)
    except (NoteError, merkle.ProofError, KeyError, ValueError) as error:
        return False, f"存证无效 / the receipt does not hold: {error}"
    return True, (f"存证有效：第 {receipt['version']} 个事件是日志 {checkpoint.origin} 的第 {receipt['leaf_index']} "
                  f"个叶子（树大小 {checkpoint.size}）/ the event is in the signed log")
