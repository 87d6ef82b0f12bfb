"""The residents' acceptance board: rounds, who may sign them, the tally and the decision."""

from __future__ import annotations

import json
from typing import Any

from domain.project import MemberAdded, MemberRemoved
from domain.works_item_events import (
    AcceptanceGranted,
    AcceptanceRejected,
    AcceptanceRequested,
    AcceptanceRoundCancelled,
    Registered,
    ResidentSigned,
)
from projections.driver import Batch


class AcceptanceBoard:
    name = "acceptance_board"
    topics: tuple[str, ...] = ()
    tables = ("board_members", "board_items", "board_rounds")
    ddl = (
        "CREATE TABLE IF NOT EXISTS board_members (project_id TEXT NOT NULL, member_id TEXT NOT NULL, "
        "user_id TEXT NOT NULL, PRIMARY KEY (project_id, member_id))",
        "CREATE INDEX IF NOT EXISTS board_members_user ON board_members (user_id)",
        "CREATE TABLE IF NOT EXISTS board_items (item_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "kind TEXT NOT NULL, title TEXT NOT NULL, location TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS board_rounds (item_id TEXT NOT NULL, round_no INTEGER NOT NULL, "
        "project_id TEXT NOT NULL, status TEXT NOT NULL, subject_hash TEXT NOT NULL, electorate TEXT NOT NULL, "
        "signatures TEXT NOT NULL, opened_at TEXT NOT NULL, decided_at TEXT, PRIMARY KEY (item_id, round_no))",
        "CREATE INDEX IF NOT EXISTS board_rounds_project ON board_rounds (project_id)",
    )

    def apply(self, event: Any, position: int, batch: Batch) -> None:
        tx = batch.tx
        if isinstance(event, MemberAdded):
            tx.execute("DELETE FROM board_members WHERE project_id = ? AND member_id = ?",
                       (str(event.originator_id), event.member_id))
            tx.execute("INSERT INTO board_members VALUES (?, ?, ?)",
                       (str(event.originator_id), event.member_id, str(event.user_id)))
        elif isinstance(event, MemberRemoved):
            tx.execute("DELETE FROM board_members WHERE project_id = ? AND member_id = ?",
                       (str(event.originator_id), event.member_id))
        elif isinstance(event, Registered):
            tx.execute("INSERT INTO board_items VALUES (?, ?, ?, ?, ?)", (
                str(event.originator_id), str(event.project_id), event.kind, event.title, event.location))
        elif isinstance(event, AcceptanceRequested):
            project = tx.execute("SELECT project_id FROM board_items WHERE item_id = ?",
                                 (str(event.originator_id),)).fetchone()
            tx.execute("INSERT INTO board_rounds VALUES (?, ?, ?, 'open', ?, ?, '{}', ?, NULL)", (
                str(event.originator_id), event.round_no, project[0] if project else "", event.subject_hash,
                json.dumps(event.electorate), event.timestamp.isoformat()))
        elif isinstance(event, ResidentSigned):
            row = tx.execute("SELECT signatures FROM board_rounds WHERE item_id = ? AND round_no = ?",
                             (str(event.originator_id), event.round_no)).fetchone()
            if row is not None:
                signatures = {**json.loads(row[0]), event.member_id: event.decision}
                tx.execute("UPDATE board_rounds SET signatures = ? WHERE item_id = ? AND round_no = ?",
                           (json.dumps(signatures), str(event.originator_id), event.round_no))
        elif isinstance(event, (AcceptanceGranted, AcceptanceRejected, AcceptanceRoundCancelled)):
            status = {AcceptanceGranted: "granted", AcceptanceRejected: "rejected",
                      AcceptanceRoundCancelled: "cancelled"}[type(event)]
            tx.execute("UPDATE board_rounds SET status = ?, decided_at = ? WHERE item_id = ? AND round_no = ?",
                       (status, event.timestamp.isoformat(), str(event.originator_id), event.round_no))

    def flush(self, batch: Batch) -> None:
        """Every change is written as it is applied."""


def board_for(db: Any, user_id: str) -> dict[str, Any]:
    memberships = db.query("SELECT project_id, member_id FROM board_members WHERE user_id = ?", (user_id,))
    awaiting, signed, decided = [], [], []
    for project_id, member_id in memberships:
        rows = db.query(
            "SELECT r.item_id, r.round_no, r.status, r.subject_hash, r.electorate, r.signatures, r.opened_at, "
            "r.decided_at, i.kind, i.title, i.location FROM board_rounds r JOIN board_items i "
            "ON i.item_id = r.item_id WHERE r.project_id = ? ORDER BY r.opened_at", (project_id,))
        for item_id, round_no, status, subject, electorate, signatures, opened, decided_at, kind, title, loc in rows:
            voters, votes = json.loads(electorate), json.loads(signatures)
            if member_id not in voters:
                continue
            accepts = sum(1 for v in votes.values() if v == "accept")
            entry = {"project_id": project_id, "item_id": item_id, "round_no": round_no, "kind": kind,
                     "title": title, "location": loc, "status": status, "subject_hash": subject,
                     "opened_at": opened, "decided_at": decided_at, "my_decision": votes.get(member_id),
                     "tally": {"electorate": len(voters), "signed": len(votes), "accepts": accepts,
                               "rejects": len(votes) - accepts}}
            if status != "open":
                decided.append(entry)
            elif member_id in votes:
                signed.append(entry)
            else:
                awaiting.append(entry)
    return {"awaiting_my_signature": awaiting, "signed_awaiting_decision": signed, "decided": decided}
