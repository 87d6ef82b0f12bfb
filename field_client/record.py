"""Making commands offline: checked against the cached template, stamped with a key and the device time.

The command id (a UUID) is made here, once: it is the Idempotency-Key for every attempt to send it. The
device time (`recorded_at`) is taken here too, so an inspection recorded in a trench at 09:12 says 09:12
even if it reaches the server at 18:40 (the timeline keeps both). Defect ids are made here as well, so a
contractor's rectification can cite a defect that the server has not heard of yet.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from field_client import validate
from field_client.errors import FieldError
from field_client.queue import Command, Queue
from field_client.store import Store

ITEM = "/api/v1/works-items/{item}"
# Who may do what, as the server's role table says; checked here so a wrong login is noticed on site.
ROLES = {"inspect": ("supervisor", "station"), "defect": ("supervisor", "station"), "rectify": ("contractor",),
         "close_defect": ("supervisor", "station"), "complete": ("supervisor",), "sign": ("resident",)}
ACTION_ZH = {"inspect": "检查", "defect": "开具整改", "rectify": "报告整改", "close_defect": "关闭整改",
             "complete": "竣工", "sign": "验收签字"}


def device_time() -> str:
    """Now, on this device, with its UTC offset (so the server can compare it with its own clock)."""
    return datetime.now().astimezone().isoformat()


def defect_draft(severity: str, description: str, due_date: str | None = None,
                 photos: list[str] | None = None) -> dict[str, Any]:
    draft = {"defect_id": uuid.uuid4().hex, "severity": severity, "description": description,
             "photos": photos or []}
    if due_date:
        draft["due_date"] = due_date
    validate.defect(draft)
    return draft


class Recorder:
    """Turns what the user typed into queued commands; never touches the network."""

    def __init__(self, store: Store) -> None:
        self.store, self.queue = store, Queue(store)
        self.warnings: list[str] = []

    def _start(self, action: str, item_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        user = self.store.user
        if user["role"] not in ROLES[action]:
            raise FieldError("role_not_permitted",
                             f"“{user['role']}”角色不能{ACTION_ZH[action]}（需要：{'、'.join(ROLES[action])}）",
                             f"A {user['role']} may not {action.replace('_', ' ')} "
                             f"(needs: {', '.join(ROLES[action])})")
        self.warnings = []
        item = self.store.item(item_ref)
        if item.get("state") == "closed_out":
            self.warnings.append("据本机缓存，该事项已销号 / The item was closed out at the last pull")
        return user, item

    def _photos(self, paths: list[Path]) -> list[tuple[str, str, int]]:
        return [self.store.copy_photo(Path(p)) for p in paths]

    def _queue(self, action: str, user: Mapping[str, Any], item: dict[str, Any], path: str,
               body: dict[str, Any], summary: str, photos: list[tuple[str, str, int]]) -> Command:
        body = {**body, "recorded_at": device_time()}
        full_path = ITEM.format(item=item["id"]) + path
        what = f"{item.get('title') or item.get('kind_zh', '')} {item.get('location', '')}"
        label = f"{ACTION_ZH[action]} {action} · {what}"
        return self.queue.add(str(uuid.uuid4()), action, item, user["id"], full_path, body,
                              f"{label.strip()} · {summary}", photos)

    def inspect(self, item_ref: str, hold_point: str, result: str, measurements: Mapping[str, str] | None = None,
                checklist: Mapping[str, bool] | None = None, notes: str = "", photos: list[Path] | None = None,
                defects: list[dict[str, Any]] | None = None, defect_photos: list[Path] | None = None,
                gps: tuple[float, float] | None = None) -> Command:
        user, item = self._start("inspect", item_ref)
        kind = self.store.kind(item["kind"])
        if kind is None:
            raise FieldError("works_kind_not_cached", f"本机没有“{item['kind']}”的检查模板（请联网后执行 pull）",
                             f"No template for {item['kind']} on this tablet (run pull while online)")
        defects = [dict(d) for d in defects or []]
        values = validate.inspection(kind, hold_point, result, measurements or {}, checklist or {},
                                     len(photos or []), defects)
        queued = self.queue.for_item(item["id"], "queued")
        passed, unpassed = validate.standing(item, [(c.action, self._body(c)) for c in queued])
        self.warnings += validate.inspection_warnings(item, hold_point, result, passed, unpassed)
        if result not in validate.PASSING or defects:
            self.warnings += validate.unpass_warnings(item, hold_point, self._passes(queued))
        captured = self._photos(photos or [])
        defect_captured = self._photos(defect_photos or [])
        for draft in defects:
            draft["photos"] = [*draft.get("photos", []), *(sha for sha, _, _ in defect_captured)]
        body: dict[str, Any] = {"hold_point": hold_point, "result": result, "measurements": values,
                                "checklist": dict(checklist or {}), "notes": notes,
                                "photos": [sha for sha, _, _ in captured], "defects": defects}
        if gps:
            body["gps"] = {"lat": gps[0], "lon": gps[1]}
        return self._queue("inspect", user, item, "/inspections", body, f"{hold_point} {result}",
                           captured + defect_captured)

    def defect(self, item_ref: str, severity: str, description: str, hold_point: str | None = None,
               due_date: str | None = None, photos: list[Path] | None = None) -> Command:
        user, item = self._start("defect", item_ref)
        draft = defect_draft(severity, description, due_date)
        kind = self.store.kind(item["kind"])
        if hold_point and kind:
            validate.hold_point(kind, hold_point)
        if hold_point:
            self.warnings += validate.unpass_warnings(item, hold_point,
                                                      self._passes(self.queue.for_item(item["id"], "queued")))
        captured = self._photos(photos or [])
        body = {**draft, "photos": [sha for sha, _, _ in captured], "hold_point": hold_point}
        return self._queue("defect", user, item, "/defects", body, f"{severity} {draft['defect_id'][:8]}", captured)

    @staticmethod
    def _body(cmd: Command) -> dict[str, Any]:
        """A queued command's body, with the defect a close names (it is in the path)."""
        if cmd.action == "close_defect":
            return {**cmd.body, "defect_id": cmd.path.rstrip("/").split("/")[-2]}
        return cmd.body

    @staticmethod
    def _passes(queued: list[Command]) -> list[tuple[str, str]]:
        return [(c.id, c.body["hold_point"]) for c in queued
                if c.action == "inspect" and c.body.get("result") in validate.PASSING and not c.body.get("defects")]

    def _defect(self, item: dict[str, Any], defect_ref: str) -> str:
        """A defect the server knows (cached) or one raised on this tablet and not yet synced."""
        known = {d["defect_id"]: d.get("status") for d in item.get("defects", [])}
        known.update({d: "open" for d in self.queue.defect_ids(item["id"]) if d not in known})
        found = [d for d in known if d.startswith(defect_ref)]
        if len(found) != 1:
            raise FieldError("defect_not_found", f"该事项没有整改通知 {defect_ref}（或前缀不唯一）",
                             f"No (single) defect {defect_ref} on this works item")
        if known[found[0]] == "closed":
            self.warnings.append("据本机缓存，该整改通知已关闭 / The defect was closed at the last pull")
        return str(found[0])

    def rectify(self, item_ref: str, defect_ref: str, description: str, photos: list[Path] | None = None) -> Command:
        user, item = self._start("rectify", item_ref)
        defect_id = self._defect(item, defect_ref)
        if not description.strip():
            raise FieldError("invalid_rectification", "请描述整改情况", "Describe the rectification")
        kind = self.store.kind(item["kind"]) or {}
        required = int(kind.get("rectification_min_photos", 1))  # the template's, as the server checks it
        if len(photos or []) < required:
            raise FieldError("missing_rectification_photos", f"整改报告至少需要 {required} 张整改后的照片（--photo）",
                             f"A rectification needs at least {required} after-photo(s) (--photo)")
        captured = self._photos(photos or [])
        body = {"description": description, "photos": [sha for sha, _, _ in captured]}
        return self._queue("rectify", user, item, f"/defects/{defect_id}/rectifications", body,
                           defect_id[:8], captured)

    def close_defect(self, item_ref: str, defect_ref: str, notes: str = "") -> Command:
        user, item = self._start("close_defect", item_ref)
        defect_id = self._defect(item, defect_ref)
        return self._queue("close_defect", user, item, f"/defects/{defect_id}/close", {"notes": notes},
                           defect_id[:8], [])

    def complete(self, item_ref: str) -> Command:
        user, item = self._start("complete", item_ref)
        pending = [hp["code"] for hp in item.get("hold_points", []) if hp["status"] != "passed"]
        if pending:
            self.warnings.append(f"据本机缓存，尚有检查点未通过：{'、'.join(pending)} / "
                                 f"Hold points not passed at the last pull: {', '.join(pending)}")
        return self._queue("complete", user, item, "/completion", {}, "", [])

    def sign(self, item_ref: str, decision: str, reason: str = "", comment: str = "",
             photos: list[Path] | None = None) -> Command:
        """Binds the signature to the subject hash of the open round as cached: what the resident was shown."""
        user, item = self._start("sign", item_ref)
        rnd = next((r for r in item.get("acceptance_rounds", []) if r["status"] == "open"), None)
        if rnd is None:
            raise FieldError("acceptance_round_not_open", "据本机缓存，该事项没有进行中的验收（请联网后执行 pull）",
                             "No open acceptance round for this item in the cache (run pull while online)")
        if decision not in ("accept", "reject"):
            raise FieldError("invalid_decision", "签字意见只能是 accept（同意）或 reject（不同意）",
                             "The decision must be accept or reject")
        if decision == "reject" and not reason.strip():
            raise FieldError("reject_needs_reason", "不同意验收时必须填写理由", "A rejection needs a reason")
        captured = self._photos(photos or [])
        body = {"decision": decision, "reason": reason, "comment": comment, "subject_hash": rnd["subject_hash"],
                "photos": [sha for sha, _, _ in captured]}
        return self._queue("sign", user, item, f"/acceptance-rounds/{rnd['round_no']}/signatures", body,
                           f"{decision} round {rnd['round_no']}", captured)
