// The screens read from IndexedDB only: what the supervisor sees offline is exactly what the tablet holds.
import * as store from "./db.js";
import { h, show, when } from "./dom.js";
import { itemActions } from "./actions.js";
import * as queue from "./queue.js";
import { PASSING, RESULT_ZH } from "./validate.js";

export function itemName(item) {
  return [item.title || item.kind_zh, item.location].filter(Boolean).join(" · ");
}

/** Hold points passed by commands still waiting to go (a refused pass, or one held behind it, passes nothing). */
export function queuedPasses(item, commands) {
  const passes = new Set();
  for (const cmd of commands) {
    if (cmd.item_id !== item.id || cmd.state !== "queued" || cmd.action !== "inspect") continue;
    if (PASSING.includes(cmd.body.result) && !(cmd.body.defects || []).length) passes.add(cmd.body.hold_point);
    else passes.delete(cmd.body.hold_point);
  }
  return passes;
}

export function nextHoldPoint(item, commands) {
  const queued = queuedPasses(item, commands);
  return item.hold_points.find((hp) => hp.status !== "passed" && !queued.has(hp.code)) || null;
}

export function stopWorkBanner(item) {
  if (!item.stop_work) return null;
  return h("p", { class: "stop-work", role: "alert" },
    h("strong", {}, "停工令生效中"), `：${item.stop_work.reason}（${when(item.stop_work.at)} 下达）`);
}

function pending(item, commands) {
  const mine = commands.filter((c) => c.item_id === item.id);
  const count = (state) => mine.filter((c) => c.state === state).length;
  return { queued: count("queued"), refused: count("refused"), blocked: count("blocked") };
}

function pendingBadges(counts) {
  return [
    counts.queued ? h("span", { class: "badge waiting" }, `待同步 ${counts.queued} 条`) : null,
    counts.refused ? h("span", { class: "badge refused" }, `被拒绝 ${counts.refused} 条`) : null,
    counts.blocked ? h("span", { class: "badge blocked" }, `暂缓 ${counts.blocked} 条`) : null,
  ];
}

export async function home() {
  const [projects, items, commands, takenAt] = await Promise.all([store.projects(), store.items(),
    store.commands(), store.getMeta("taken_at")]);
  const sections = projects.map((project) => {
    const mine = items.filter((i) => i.project_id === project.id);
    return h("section", { class: "project", "aria-labelledby": `p-${project.id}` },
      h("h2", { id: `p-${project.id}` }, project.name, h("small", {}, ` ${project.district || ""}`)),
      mine.length ? h("ul", { class: "cards" }, mine.map((item) => {
        const next = nextHoldPoint(item, commands);
        return h("li", { class: `card${item.stop_work ? " stopped" : ""}` },
          h("a", { href: `#/item/${item.id}`, class: "card-link" },
            h("span", { class: "card-title" }, itemName(item)),
            h("span", { class: "state" }, item.state_zh),
            h("span", { class: "next" }, next ? `下一检查点：${next.name_zh}` : "检查点已全部通过"),
            item.stop_work ? h("span", { class: "stop-work small" }, "停工令生效中") : null,
            h("span", { class: "badges" }, pendingBadges(pending(item, commands)))));
      })) : h("p", { class: "muted" }, "该项目还没有改造事项"));
  });
  show(h("h1", {}, "我的项目"),
    takenAt ? h("p", { class: "muted" }, `资料更新于 ${when(takenAt)}`) : null,
    sections.length ? sections : h("p", {}, "您还没有被分配到任何项目。"));
}

/** The server's reason with the hold points' codes in their Chinese names ("excavation" → "沟槽开挖"). */
function inWords(detail, names) {
  return String(detail).replace(/[a-z][a-z0-9_]*/g, (code) => names[code] || code);
}

async function holdPointNames(items) {
  const names = new Map();
  for (const item of items) {
    const template = await store.template(item.template_digest);
    names.set(item.id, Object.fromEntries((template?.hold_points || []).map((hp) => [hp.code, hp.name_zh])));
  }
  return names;
}

function commandRow(cmd, onChange, names = {}) {
  const actions = [];
  if (cmd.state === "refused" || cmd.state === "blocked") {
    actions.push(h("button", { class: "button secondary", type: "button",
      onclick: async () => { await queue.retry(cmd.id); onChange(); } }, cmd.state === "refused" ? "重发" : "仍然发送"));
    actions.push(h("button", { class: "button danger", type: "button",
      onclick: async () => { await queue.drop(cmd.id); onChange(); } }, "放弃"));
  }
  return h("li", { class: `command ${cmd.state}`, dataset: { command: cmd.id } },
    h("span", { class: "summary" }, cmd.summary),
    h("span", { class: "time" }, `记录于 ${when(cmd.recorded_at)}`),
    h("span", { class: `badge ${cmd.state}` }, queue.STATE_ZH[cmd.state]),
    cmd.problem ? h("p", { class: "reason", role: "note" }, inWords(cmd.problem.detail, names),
      queue.ADVICE_ZH[cmd.problem.code] ? h("strong", {}, `（${queue.ADVICE_ZH[cmd.problem.code]}）`) : null) : null,
    cmd.state === "blocked" ? h("p", { class: "reason" }, "同一事项前面有被拒绝的记录，处理后才会发送") : null,
    actions.length ? h("span", { class: "actions" }, actions) : null);
}

export async function item(id, refresh, say) {
  const found = await store.item(id);
  if (!found) return show(h("h1", {}, "找不到该事项"), h("a", { href: "#/" }, "返回我的项目"));
  const commands = await store.commands();
  const mine = commands.filter((c) => c.item_id === id && c.state !== "dropped");
  const queued = queuedPasses(found, commands);
  const next = nextHoldPoint(found, commands);
  const codes = (await holdPointNames([found])).get(id);
  const local = new Map();
  for (const cmd of mine) {
    if (cmd.action === "inspect" && cmd.state !== "sent") local.set(cmd.body.hold_point, cmd);
  }
  show(
    h("nav", { class: "crumbs", "aria-label": "位置" }, h("a", { href: "#/" }, "我的项目"), " › ", itemName(found)),
    h("h1", {}, itemName(found)),
    h("p", { class: "muted" }, `${found.kind_zh} · ${found.state_zh} · 已通过 ${found.hold_points_passed}/`
      + `${found.hold_points.length} 个检查点`),
    stopWorkBanner(found),
    h("h2", {}, "检查点"),
    h("ol", { class: "hold-points" }, found.hold_points.map((hp) => {
      const onTablet = local.get(hp.code);
      return h("li", { class: `hold-point${next?.code === hp.code ? " next" : ""}` },
        h("span", { class: "hp-name" }, hp.name_zh),
        h("span", { class: `badge hp-${hp.status}` }, hp.status_zh),
        hp.inspections > 1 ? h("span", { class: "muted small" }, `已检查 ${hp.inspections} 次`) : null,
        onTablet ? h("span", { class: `badge ${onTablet.state}` },
          `本机：${RESULT_ZH[onTablet.body.result]}（${queue.STATE_ZH[onTablet.state]}）`) : null,
        queued.has(hp.code) || hp.status === "passed" || !next || next.code === hp.code ? null
          : h("span", { class: "muted small" }, "前序未通过"),
        h("a", { class: "button primary", href: `#/item/${id}/hp/${hp.code}` }, "记录检查"));
    })),
    itemActions(found, await store.template(found.template_digest), (text) => { say(text); refresh(); }),
    h("h2", {}, "本机记录"),
    mine.length ? h("ul", { class: "commands" }, mine.map((cmd) => commandRow(cmd, refresh, codes)))
      : h("p", { class: "muted" }, "本机还没有该事项的记录"));
}

export async function queuePage(refresh) {
  const [commands, items, photos] = await Promise.all([store.commands(), store.items(), store.photos()]);
  const names = new Map(items.map((i) => [i.id, itemName(i)]));
  const codes = await holdPointNames(items);
  const counts = await queue.counts();
  const waitingPhotos = photos.filter((p) => p.state === "queued");
  const groups = new Map();
  for (const cmd of commands) {
    if (cmd.state === "dropped") continue;
    if (!groups.has(cmd.item_id)) groups.set(cmd.item_id, []);
    groups.get(cmd.item_id).push(cmd);
  }
  show(h("h1", {}, "同步队列"),
    h("p", { class: "summary-line" },
      `待发送 ${counts.queued} 条 · 被拒绝 ${counts.refused} 条 · 暂缓 ${counts.blocked} 条 · 已发送 ${counts.sent} 条`
      + ` · 待上传照片 ${waitingPhotos.length} 张`),
    [...groups.entries()].map(([itemId, list]) => h("section", { class: "queue-item" },
      h("h2", {}, h("a", { href: `#/item/${itemId}` }, names.get(itemId) || itemId)),
      h("ul", { class: "commands" }, list.map((cmd) => commandRow(cmd, refresh, codes.get(itemId)))))),
    groups.size ? null : h("p", { class: "muted" }, "队列是空的"));
}
