"""What the tablet prints: the queue, the cached items and a hold point's form, in Chinese and English."""

from __future__ import annotations

import json
from typing import Any

from field_client.queue import STATE_ZH, Command, Queue
from field_client.store import Store


def _problem(problem: dict[str, Any] | None) -> str:
    if not problem:
        return ""
    title = f" ({problem['title']})" if problem.get("title") else ""
    return f"{problem.get('code')}: {problem.get('detail')}{title}"


def _line(cmd: Command) -> str:
    return f"  {cmd.id[:8]}  {cmd.summary}  @ {cmd.recorded_at[:19]}"


def queue_report(store: Store, everything: bool = False) -> str:
    """Refused first (they need a decision), then blocked, then what is waiting; sent only with --all."""
    queue = Queue(store)
    counts = queue.counts()
    photos = [dict(r) for r in store.photos()]
    photo_states = {s: sum(1 for p in photos if p["state"] == s) for s in ("queued", "uploaded", "refused")}
    lines = [
        " · ".join(f"{STATE_ZH[s]} {s}: {counts[s]}" for s in ("queued", "refused", "blocked", "sent")),
        f"照片 photos: 待上传 queued {photo_states['queued']} · 已上传 uploaded {photo_states['uploaded']}"
        f" · 被拒绝 refused {photo_states['refused']}",
    ]
    refused = queue.all("refused")
    if refused:
        lines += ["", "被拒绝 Refused — 请处理 / decide: queue --retry ID（重新发送 send again）"
                      " | queue --drop ID（放弃 give up）"]
        for cmd in refused:
            lines += [_line(cmd), f"            {_problem(cmd.problem)}"]
    blocked = queue.all("blocked")
    if blocked:
        lines += ["", "暂缓 Blocked — 同一事项有被拒绝的命令 / an earlier command on the same item was refused"]
        lines += [f"{_line(cmd)}\n            等待 waits for {(cmd.blocked_by or '')[:8]}" for cmd in blocked]
    waiting = queue.all("queued")
    if waiting:
        lines += ["", "待发送 Queued — 下次同步时发送 / sent at the next sync"]
        lines += [_line(cmd) + (f"  (尝试 tries {cmd.attempts})" if cmd.attempts else "") for cmd in waiting]
    for photo in (p for p in photos if p["state"] == "refused"):
        lines += [f"  照片 photo {photo['sha256'][:12]} 被拒绝 refused: {_problem(json.loads(photo['problem']))}"]
    if everything:
        lines += ["", "已发送 Sent"] + [_line(cmd) for cmd in queue.all("sent")]
        lines += ["", "已放弃 Dropped"] + [_line(cmd) for cmd in queue.all("dropped")]
    if not (refused or blocked or waiting):
        lines += ["", "队列为空，全部已同步 / Nothing waiting: everything is on the server"]
    return "\n".join(lines)


def queue_json(store: Store) -> str:
    queue = Queue(store)
    return json.dumps({"counts": queue.counts(), "commands": [
        {"id": c.id, "action": c.action, "item_id": c.item_id, "state": c.state, "blocked_by": c.blocked_by,
         "problem": c.problem, "recorded_at": c.recorded_at, "summary": c.summary, "attempts": c.attempts}
        for c in queue.all()]}, ensure_ascii=False, indent=2)


def items_report(store: Store, project_id: str | None = None) -> str:
    lines = []
    for project in store.projects():
        if project_id and not project["id"].startswith(project_id):
            continue
        lines.append(f"{project['name']} ({project['district']})  {project['id']}")
        for item in store.items(project["id"]):
            stop = "  ⚠ 停工 stop-work" if item.get("stop_work") else ""
            lines.append(f"  {item['id'][:8]}  {item['kind_zh']} {item.get('title', '')} · {item['location']}"
                         f" · {item['state_zh']} {item['state']} · {item['hold_points_passed']}/"
                         f"{len(item['hold_points'])}{stop}")
            for hp in item["hold_points"]:
                lines.append(f"      {hp['status_zh']:<8} {hp['code']:<26} {hp['name_zh']}")
    return "\n".join(lines) or "本机没有缓存，请联网后执行 pull / Nothing cached: run pull while online"


def form_report(kind: dict[str, Any], code: str) -> str:
    """The inspection form for one hold point, as the template defines it: what to measure, check, photograph."""
    hp = next(h for h in kind["hold_points"] if h["code"] == code)
    lines = [f"{hp['name_zh']} / {hp['name_en']} ({code})",
             f"  照片 photos ≥ {hp.get('min_photos', 0)}" + (f" · 前序 after: {', '.join(hp['after'])}"
                                                             if hp.get("after") else "")]
    for m in hp.get("measurements", []):
        need = "必填 required" if m.get("required", True) else "选填 optional"
        kind_hint = f"one of {'/'.join(m['choices'])}" if m.get("type") == "choice" else (m.get("unit") or m.get(
            "type", "number"))
        lines.append(f"  --measure {m['code']}=…  {m['name_zh']} / {m['name_en']} [{kind_hint}] {need}")
    for c in hp.get("checklist", []):
        lines.append(f"  --check {c['code']}  {c['text_zh']} / {c['text_en']}")
    for c in hp.get("checks", []):
        lines.append(f"  限值 limit: {c['name_zh']}")
    return "\n".join(lines)
