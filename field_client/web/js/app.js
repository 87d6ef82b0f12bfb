// The app's start: the service worker (so it opens offline next time), the tablet's credential (enrolled once
// while signed in, then kept in IndexedDB), the screens by the address's #hash, and sync — on the button and
// whenever the network comes back.
import * as store from "./db.js";
import { Offline, REVOKED_ZH, Revoked, jsonOf, problemOf } from "./api.js";
import { bytes, h, show } from "./dom.js";
import { holdPointForm } from "./form.js";
import * as queue from "./queue.js";
import { Sync, pull } from "./sync.js";
import * as views from "./views.js";

const main = () => document.getElementById("main");
let syncing = null;
const RETRY_AFTER_MS = 30_000; // a sync the link cut short tries again by itself (and when the network returns)
let notice = "";

function say(text) {
  notice = text;
}

function flash() {
  if (!notice) return null;
  const shown = h("p", { class: "notice", role: "status" }, notice);
  notice = "";
  return shown;
}

async function route() {
  await screen();
  const shown = flash();
  if (shown) main().prepend(shown);
  await updateBar();
}

async function screen() {
  if (!(await store.getMeta("token"))) return setup();
  if (await store.getMeta("revoked")) return revoked();
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const refresh = () => route();
  if (parts[0] === "item" && parts[2] === "hp") {
    return holdPointForm(parts[1], parts[3], (text) => { say(text); location.hash = `#/item/${parts[1]}`; });
  }
  if (parts[0] === "item") return views.item(parts[1], refresh, say);
  if (parts[0] === "queue") return views.queuePage(refresh);
  return views.home();
}

async function updateBar() {
  const user = await store.getMeta("user");
  document.getElementById("who").textContent = user ? `${user.name}` : "";
  const counts = await queue.counts();
  const waiting = counts.queued + counts.refused + counts.blocked;
  const button = document.getElementById("sync");
  button.textContent = syncing ? "同步中…" : waiting ? `同步（${waiting}）` : "同步";
  button.disabled = Boolean(syncing) || !(await store.getMeta("token")) || Boolean(await store.getMeta("revoked"));
  const link = document.getElementById("queue-link");
  link.textContent = counts.refused ? `同步队列（${counts.refused} 条被拒绝）` : "同步队列";
  link.classList.toggle("alert", counts.refused > 0);
  const network = document.getElementById("network");
  network.textContent = navigator.onLine ? "在线" : "离线";
  network.className = `pill ${navigator.onLine ? "online" : "offline"}`;
}

function progress(text) {
  document.getElementById("progress").textContent = text;
}

function describe(p) {
  const parts = [];
  if (p.photoBytesTotal) {
    parts.push(`照片 ${bytes(p.photoBytes)} / ${bytes(p.photoBytesTotal)}`);
    const rate = p.photoBytes / Math.max(p.seconds, 0.1);
    const left = rate > 0 ? Math.ceil((p.photoBytesTotal - p.photoBytes) / rate) : null;
    if (left !== null && p.photoBytes < p.photoBytesTotal) parts.push(`约剩 ${left} 秒`);
  }
  if (p.commandsTotal) parts.push(`记录 ${p.commands} / ${p.commandsTotal}`);
  if (p.what === "refresh") parts.push("正在更新资料");
  return `正在同步：${parts.join(" · ") || "准备中"}`;
}

/** One sync at a time; the answer is shown in Chinese (what arrived, what was refused and what to do). */
export function sync() {
  syncing ??= (async () => {
    await updateBar();
    try {
      // one sync per tablet, even with the app open in two windows (the keys would keep it exactly once, but
      // two syncs would fight over the same photos and rounds)
      const report = await (navigator.locks
        ? navigator.locks.request("siteledger-field-sync", { ifAvailable: true },
          (lock) => (lock ? new Sync((p) => progress(describe(p))).run() : null))
        : new Sync((p) => progress(describe(p))).run());
      if (!report) {
        progress("另一个窗口正在同步，请稍候");
        return;
      }
      await store.setMeta("last_sync", { ...report, at: queue.deviceTime() });
      const parts = [report.sent ? `发送 ${report.sent} 条记录` : "",
        report.photosUploaded ? `上传 ${report.photosUploaded} 张照片` : "",
        report.refused ? `${report.refused} 条被拒绝（见同步队列）` : ""].filter(Boolean);
      progress(`同步完成：${parts.join("，") || "没有待发送的记录"}，资料已更新`);
    } catch (error) {
      if (error instanceof Revoked) {
        await store.setMeta("revoked", true);
        progress(REVOKED_ZH);
      } else if (error instanceof Offline) {
        progress("网络不通或不稳定，未发送的记录保留在本机，稍后会自动再同步");
        setTimeout(() => { if (navigator.onLine) sync(); }, RETRY_AFTER_MS);
      } else {
        progress(`同步出错：${error.message}`);
      }
    } finally {
      syncing = null;
      const root = document.documentElement;
      root.dataset.syncs = String(Number(root.dataset.syncs || 0) + 1); // a finished sync, for whoever waits
    }
    await route();
  })();
  return syncing;
}

// --- the tablet's credential --------------------------------------------------------------------------------

function deviceId() {
  return `tablet-${crypto.randomUUID()}`;
}

async function setup() {
  let session;
  try {
    const response = await fetch("/field/session", { credentials: "same-origin", cache: "no-store" });
    session = await response.json();
  } catch {
    return show(h("h1", {}, "请先联网"), h("p", {}, "这台平板还没有启用。请在有网络的地方登录一次，之后即可离线使用。"));
  }
  if (!session.signed_in) {
    return show(h("h1", {}, "请先登录"),
      h("p", {}, "用现场监理的手机号码和密码登录后，这台平板会得到自己的凭据，之后离线也能使用。"),
      h("a", { class: "button primary big", href: "/sign-in" }, "去登录"));
  }
  if (!["supervisor", "station"].includes(session.user.role)) {
    return show(h("h1", {}, "平板应用供现场监理使用"),
      h("p", {}, `${session.user.name}，您的账号不是现场监理或安质监站账号，不能在平板上记录检查。`),
      h("a", { class: "button primary big", href: "/" }, "回到我的首页"));
  }
  const name = h("input", { id: "device-name", type: "text", maxlength: 64, value: "监理平板" });
  const error = h("p", { class: "errors", role: "alert" });
  show(h("h1", {}, "启用这台平板"),
    h("p", {}, `${session.user.name}，您好。启用后，这台平板用自己的凭据同步；平板丢失时，可在“我的账户”中停用。`),
    h("form", { class: "enrol", onsubmit: async (event) => {
      event.preventDefault();
      const id = (await store.getMeta("device_id")) || deviceId();
      await store.setMeta("device_id", id);
      const response = await fetch("/api/v1/me/devices", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
        body: JSON.stringify({ device_id: id, name: name.value.trim() || "监理平板" }) }).catch(() => null);
      if (!response || response.status !== 201) {
        error.textContent = response ? problemOf(response.status, await jsonOf(response)).detail : "网络不通，请稍后再试";
        return;
      }
      const issued = await response.json();
      await store.setMeta("token", issued.token);
      await store.deleteMeta("revoked");
      try {
        await pull();
      } catch (failure) {
        error.textContent = `已启用，但资料下载失败：${failure.message}`;
        return;
      }
      say("这台平板已启用，资料已下载，可以离线使用");
      location.hash = "#/";
      await route();
    } },
    h("div", { class: "field" }, h("label", { for: "device-name" }, "平板名称"), name), error,
    h("button", { type: "submit", class: "button primary big" }, "启用这台平板")));
}

async function revoked() {
  const counts = await queue.counts();
  const kept = counts.queued + counts.refused + counts.blocked;
  show(h("h1", { class: "revoked" }, REVOKED_ZH),
    h("p", {}, "这台平板的凭据已在“我的账户”中停用（或已过期），无法再同步。"
      + (kept ? `本机还有 ${kept} 条未发送的记录，重新登录并启用后会继续发送。` : "")),
    h("button", { type: "button", class: "button primary big", onclick: async () => {
      await store.deleteMeta("token");
      await store.deleteMeta("revoked");
      location.href = "/sign-in";
    } }, "重新登录"));
}

// --- start --------------------------------------------------------------------------------------------------

async function start() {
  navigator.storage?.persist?.().catch(() => {}); // the queue must not be evicted when the tablet runs short
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field/", type: "classic" }).catch(() => {});
  }
  document.getElementById("sync").addEventListener("click", () => sync());
  window.addEventListener("hashchange", () => route());
  window.addEventListener("online", () => { updateBar(); sync(); });
  window.addEventListener("offline", () => updateBar());
  await route();
  document.documentElement.dataset.ready = "true";
  if (navigator.onLine && (await store.getMeta("token")) && !(await store.getMeta("revoked"))) sync();
}

start();
