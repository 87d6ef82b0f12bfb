"""The command queue and its state machine: queued → sent | refused | blocked, and back by the user's say.

A command is made once, offline, with its UUID (the Idempotency-Key) and device time; it is never re-made,
so however often it is resent the server records it at most once. Every transition is a conditional UPDATE
committed on its own: a crash between two leaves each command in a state it really was in, and a command
the crash left "queued" is simply resent under the same key.

A refusal (4xx) sets one command aside; later commands on the same works item are held back ("blocked",
naming the refused command) because they were recorded assuming it stood. The user releases them with
`retry` (send the refused one again, e.g. once a stop-work order is lifted) or `drop`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from field_client.errors import FieldError
from field_client.store import Store

STATES = ("queued", "sent", "refused", "blocked", "dropped")
STATE_ZH = {"queued": "待发送", "sent": "已发送", "refused": "被拒绝", "blocked": "暂缓（等待处理）",
            "dropped": "已放弃"}
UNSENT = ("queued", "refused", "blocked")


@dataclass(frozen=True)
class Command:
    seq: int
    id: str
    action: str
    item_id: str
    project_id: str
    user_id: str
    path: str
    body: dict[str, Any]
    summary: str
    recorded_at: str
    state: str
    forced: bool
    blocked_by: str | None
    attempts: int
    problem: dict[str, Any] | None
    response: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Command:
        data = dict(row)
        data.pop("updated_at", None)
        for key in ("body", "problem", "response"):
            data[key] = json.loads(data[key]) if data[key] else ({} if key == "body" else None)
        data["forced"] = bool(data["forced"])
        return cls(**data)


def cited(cmd: Command) -> set[str]:
    """The photos a command cites: its own and those of the defects it raises."""
    return {*cmd.body.get("photos", []), *(p for d in cmd.body.get("defects", []) for p in d.get("photos", []))}


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Queue:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def add(self, command_id: str, action: str, item: dict[str, Any], user_id: str, path: str,
            body: dict[str, Any], summary: str, photos: Sequence[tuple[str, str, int]] = ()) -> Command:
        """Queue a command and the photos it cites in one transaction: both are kept, or neither."""
        with self.store.transaction() as tx:
            for sha, kind, size in photos:
                tx.execute("INSERT OR IGNORE INTO photos (sha256, project_id, content_type, bytes, captured_at) "
                           "VALUES (?, ?, ?, ?, ?)", (sha, item["project_id"], kind, size, _now()))
            tx.execute(
                "INSERT INTO commands (id, action, item_id, project_id, user_id, path, body, summary, recorded_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (command_id, action, item["id"], item["project_id"], user_id, path,
                 json.dumps(body, ensure_ascii=False), summary, body["recorded_at"], _now()))
        return self.get(command_id)

    # --- reading -----------------------------------------------------------------------------------------

    def get(self, ref: str) -> Command:
        """By id or unique id prefix."""
        rows = self.db.execute("SELECT * FROM commands WHERE id LIKE ? || '%'", (ref.lower(),)).fetchall()
        if len(rows) == 1:
            return Command.from_row(rows[0])
        if not rows:
            raise FieldError("command_not_found", f"队列中没有该命令：{ref}", f"No queued command {ref}")
        raise FieldError("ambiguous_reference", f"编号前缀 {ref} 对应多条命令，请多输入几位",
                         f"{ref} matches several commands: type more of the id")

    def all(self, *states: str) -> list[Command]:
        sql, params = "SELECT * FROM commands", list(states)
        if states:
            sql += f" WHERE state IN ({', '.join('?' * len(states))})"
        return [Command.from_row(r) for r in self.db.execute(sql + " ORDER BY seq", params)]

    def for_item(self, item_id: str, *states: str) -> list[Command]:
        rows = self.db.execute(f"SELECT * FROM commands WHERE item_id = ? AND state IN ({', '.join('?' * len(states))})"
                               " ORDER BY seq", [item_id, *states])
        return [Command.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        found = dict(self.db.execute("SELECT state, COUNT(*) FROM commands GROUP BY state").fetchall())
        return {state: int(found.get(state, 0)) for state in STATES}

    def defect_ids(self, item_id: str) -> set[str]:
        """Defects raised by commands still on this tablet: a rectification may cite one before it syncs."""
        found: set[str] = set()
        for cmd in self.for_item(item_id, *UNSENT, "sent"):
            found.update(d["defect_id"] for d in cmd.body.get("defects", []) if d.get("defect_id"))
            if cmd.action == "defect" and cmd.body.get("defect_id"):
                found.add(cmd.body["defect_id"])
        return found

    # --- scheduling ------------------------------------------------------------------------------------------

    def next_round(self, user_id: str, links: dict[str, set[str]] | None = None,
                   missing_photos: Set[str] = frozenset()) -> list[Command]:
        """The commands that may be sent now, in the order they were made.

        At most one per works item (the earliest still queued), so a refusal is known before any later
        command on that item leaves the tablet; and none while an earlier command on an item it links to
        (the pipe relocation a lift waits for) is still queued. A command citing a photo the server does not
        have yet (`missing_photos`, still uploading) waits, and its item with it; the others go. Queued
        commands behind a refused or blocked one on their item are marked blocked here, naming the refused
        command.
        """
        links = links or {}
        trouble: dict[str, str] = {}  # item -> the refused command holding it up
        waiting: set[str] = set()  # items with an earlier queued command
        ready: list[Command] = []
        for cmd in self.all(*UNSENT):
            if cmd.state == "refused":
                trouble.setdefault(cmd.item_id, cmd.id)
            elif cmd.state == "blocked":
                trouble.setdefault(cmd.item_id, cmd.blocked_by or cmd.id)
            elif cmd.item_id in trouble and not cmd.forced:
                self.block(cmd, trouble[cmd.item_id])
            elif cmd.user_id != user_id:
                waiting.add(cmd.item_id)  # another user's command: only they may send it
            elif ({cmd.item_id} | links.get(cmd.item_id, set())) & waiting or cited(cmd) & missing_photos:
                waiting.add(cmd.item_id)
            else:
                ready.append(cmd)
                waiting.add(cmd.item_id)
        return ready

    # --- transitions -------------------------------------------------------------------------------------------

    def _move(self, cmd_id: str, from_states: tuple[str, ...], to: str, durable: bool = False, **fields: Any) -> bool:
        """A conditional update: a command only moves from a state it is in (never un-sends, never resends).
        Sync's marks need not be fsynced (see Store: a forgotten mark means a resend the server replays); the
        user's decisions (retry, drop) are."""
        assignments = ", ".join(f"{k} = ?" for k in fields)
        sql = (f"UPDATE commands SET state = ?, updated_at = ?{', ' + assignments if fields else ''} "
               f"WHERE id = ? AND state IN ({', '.join('?' * len(from_states))})")
        with self.store.transaction(durable) as tx:
            return tx.execute(sql, [to, _now(), *fields.values(), cmd_id, *from_states]).rowcount == 1

    def mark_sent(self, cmd: Command, response: dict[str, Any]) -> bool:
        return self._move(cmd.id, ("queued",), "sent", response=json.dumps(response, ensure_ascii=False),
                          problem=None, attempts=cmd.attempts + 1)

    def mark_refused(self, cmd: Command, problem: dict[str, Any]) -> bool:
        return self._move(cmd.id, ("queued",), "refused", problem=json.dumps(problem, ensure_ascii=False),
                          attempts=cmd.attempts + 1)

    def mark_attempt(self, cmd: Command) -> None:
        """A transient failure (5xx inside a batch): still queued, same key; counted for the user to see."""
        with self.store.transaction(durable=False) as tx:
            tx.execute("UPDATE commands SET attempts = attempts + 1, updated_at = ? WHERE id = ?", (_now(), cmd.id))

    def block(self, cmd: Command, refused_id: str) -> bool:
        return self._move(cmd.id, ("queued",), "blocked", blocked_by=refused_id)

    def retry(self, ref: str) -> list[Command]:
        """Refused: queue it again (same key) and release what it held back. Blocked: send it regardless."""
        cmd = self.get(ref)
        if cmd.state == "refused":
            self._move(cmd.id, ("refused",), "queued", durable=True, problem=None)
            return [cmd, *self._release(cmd.id)]
        if cmd.state == "blocked":
            self._move(cmd.id, ("blocked",), "queued", durable=True, blocked_by=None, forced=1)
            return [cmd]
        raise self._not_pending(cmd, "retry")

    def drop(self, ref: str) -> list[Command]:
        """Give a command up (it stays in the store, marked dropped); what it held back is released."""
        cmd = self.get(ref)
        if cmd.state not in UNSENT:
            raise self._not_pending(cmd, "drop")
        self._move(cmd.id, UNSENT, "dropped", durable=True, blocked_by=None)
        return [cmd, *self._release(cmd.id)]

    def _release(self, refused_id: str) -> list[Command]:
        held = [c for c in self.all("blocked") if c.blocked_by == refused_id]
        for cmd in held:
            self._move(cmd.id, ("blocked",), "queued", durable=True, blocked_by=None)
        return held

    @staticmethod
    def _not_pending(cmd: Command, action: str) -> FieldError:
        verb = "重试" if action == "retry" else "放弃"
        return FieldError("command_not_pending", f"命令 {cmd.id[:8]} 状态为“{STATE_ZH[cmd.state]}”，不能{verb}",
                          f"Command {cmd.id[:8]} is {cmd.state}: nothing to {action}")
