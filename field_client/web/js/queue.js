// The command queue, as the command-line client keeps it (field_client/queue.py): queued → sent | refused |
// blocked, and back only by the supervisor's say (retry, drop). A command is made once, offline, with its own
// id (the Idempotency-Key of every attempt) and the device time; resending it can never record it twice.
import * as store from "./db.js";

export const STATE_ZH = { queued: "待发送", sent: "已发送", refused: "被拒绝", blocked: "暂缓", dropped: "已放弃" };
export const UNSENT = ["queued", "refused", "blocked"];
export const ACTION_ZH = { inspect: "检查", close_defect: "关闭整改", reject_rectification: "退回整改",
  complete: "竣工", request_acceptance: "申请居民验收" };
// What to do about a refusal, by the server's stable code (rules named in domain/rules.py); the server's own
// Chinese detail says why, this says what the supervisor can do about it on the spot.
export const ADVICE_ZH = {
  stop_work_in_force: "停工令解除后点重发",
  hold_point_out_of_order: "前序检查点通过后点重发；如已不成立请放弃",
  invalid_photo_reference: "照片还没有传到服务器：有信号时再同步，然后点重发",
  open_defects_block_completion: "整改全部关闭后点重发",
  hold_points_not_passed: "检查点全部通过后点重发",
  no_residents_group: "请管理员先组建居民监督小组，再点重发",
  no_rectification_reported: "施工单位报告整改后再点重发",
  defect_not_open: "该整改已不在待处理状态，请放弃",
  defect_closed_by_station_only: "该整改由安质监站开具，只能由监督站关闭，请放弃",
  item_closed_out: "该事项已销号，请放弃",
  out_of_scope: "该项目已不在您的职责范围内，请放弃或联系管理员",
  role_not_permitted: "您的角色不能执行此操作，请放弃",
};

/** Now, on this tablet, with its UTC offset: "2026-11-23T09:12:05.123+08:00". */
export function deviceTime(now = new Date()) {
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");
  const offset = -now.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T${pad(now.getHours())}:`
    + `${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(now.getMilliseconds(), 3)}`
    + `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

export function cited(cmd) {
  return new Set([...(cmd.body.photos || []), ...(cmd.body.defects || []).flatMap((d) => d.photos || [])]);
}

/** Queue a command (and its photos, in the same transaction). */
export async function add(action, item, userId, path, body, summary, photos = []) {
  const cmd = {
    id: crypto.randomUUID(), action, item_id: item.id, project_id: item.project_id, user_id: userId,
    path: `/api/v1/works-items/${item.id}${path}`, body: { ...body, recorded_at: deviceTime() },
    summary, state: "queued", forced: false, blocked_by: null, attempts: 0, problem: null, response: null,
  };
  cmd.recorded_at = cmd.body.recorded_at;
  return store.addCommand(cmd, photos);
}

/** The commands that may go now, in the order made: the earliest queued one of each works item, none behind
 * a refused or blocked one (those are marked blocked here, naming it), none citing a photo not yet up. */
export async function nextRound(userId, missingPhotos) {
  const trouble = new Map();
  const waiting = new Set();
  const ready = [];
  for (const cmd of await store.commands()) {
    if (!UNSENT.includes(cmd.state)) continue;
    if (cmd.state === "refused") {
      if (!trouble.has(cmd.item_id)) trouble.set(cmd.item_id, cmd.id);
    } else if (cmd.state === "blocked") {
      if (!trouble.has(cmd.item_id)) trouble.set(cmd.item_id, cmd.blocked_by || cmd.id);
    } else if (trouble.has(cmd.item_id) && !cmd.forced) {
      await store.putCommand({ ...cmd, state: "blocked", blocked_by: trouble.get(cmd.item_id) });
    } else if (cmd.user_id !== userId || waiting.has(cmd.item_id)
               || [...cited(cmd)].some((sha) => missingPhotos.has(sha))) {
      waiting.add(cmd.item_id);
    } else {
      ready.push(cmd);
      waiting.add(cmd.item_id);
    }
  }
  return ready;
}

/** Move a command only from a state it is in (never un-send, never resend what the server holds). */
async function move(id, from, changes) {
  const cmd = await store.command(id);
  if (!cmd || !from.includes(cmd.state)) return null;
  const moved = { ...cmd, ...changes };
  await store.putCommand(moved);
  return moved;
}

// A command's moves on an answer, written together for a whole batch (see store.moveCommands).
/** `replayed`: the server had recorded this key already (an earlier answer was lost on the way back). */
export const sent = (cmd, response, replayed = false) => ({ id: cmd.id, from: ["queued"],
  changes: { state: "sent", response, problem: null, attempts: cmd.attempts + 1, replayed } });
export const refused = (cmd, problem) => ({ id: cmd.id, from: ["queued"],
  changes: { state: "refused", problem, attempts: cmd.attempts + 1 } });
export const attempted = (cmd) => ({ id: cmd.id, from: ["queued"], changes: { attempts: cmd.attempts + 1 } });

async function release(refusedId) {
  for (const cmd of await store.commands()) {
    if (cmd.state === "blocked" && cmd.blocked_by === refusedId) {
      await move(cmd.id, ["blocked"], { state: "queued", blocked_by: null });
    }
  }
}

/** Refused: queue it again under the same key and release what it held back. Blocked: send it regardless. */
export async function retry(id) {
  const cmd = await store.command(id);
  if (cmd?.state === "refused") {
    await move(id, ["refused"], { state: "queued", problem: null });
    await release(id);
  } else if (cmd?.state === "blocked") {
    await move(id, ["blocked"], { state: "queued", blocked_by: null, forced: true });
  }
}

/** Give it up (kept on the tablet, marked dropped); what it held back goes on. */
export async function drop(id) {
  await move(id, UNSENT, { state: "dropped", blocked_by: null });
  await release(id);
}

export async function counts() {
  const found = Object.fromEntries(Object.keys(STATE_ZH).map((s) => [s, 0]));
  for (const cmd of await store.commands()) found[cmd.state] += 1;
  return found;
}
