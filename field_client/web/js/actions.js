// What else a supervisor does at an item, offline like the inspections: verify a reported rectification and
// close the defect (or send it back with photos), complete the works, open the residents' acceptance. Each is
// a queued command with its own key and device time; the server judges it at sync, in Chinese if it refuses.
import * as store from "./db.js";
import { h } from "./dom.js";
import { capture } from "./form.js";
import * as queue from "./queue.js";
import { SEVERITY_ZH } from "./validate.js";

const DEFECT_STATUS_ZH = { open: "待整改", rectification_reported: "整改已报告，待核验", closed: "已关闭" };

async function queued(item, action, path, body, summary, photos = []) {
  const user = await store.getMeta("user");
  await queue.add(action, item, user.id, path, body, summary, photos);
}

function defectRow(item, defect, holdPointName, onDone) {
  const id = defect.defect_id;
  const notes = h("textarea", { id: `close-${id}`, rows: 2, maxlength: 2000 });
  const reason = h("textarea", { id: `reject-${id}`, rows: 2, maxlength: 2000 });
  const error = h("p", { class: "field-error", role: "alert" });
  const photos = [];
  const counter = h("span", { class: "counter" }, "已拍 0 张");
  const camera = h("input", { id: `reject-photos-${id}`, type: "file", accept: "image/*", capture: "environment",
    multiple: true, class: "camera-input", onchange: async () => {
      for (const file of camera.files) photos.push(await capture(file, item.project_id));
      camera.value = "";
      counter.textContent = `已拍 ${photos.length} 张`;
    } });
  const reported = defect.status === "rectification_reported";
  return h("li", { class: "defect-row", dataset: { defect: id } },
    h("span", { class: "summary" }, `${SEVERITY_ZH[defect.severity] || defect.severity}整改`,
      holdPointName ? ` · ${holdPointName}` : "", defect.due_date ? ` · 期限 ${defect.due_date}` : ""),
    defect.description ? h("p", { class: "defect-description" }, defect.description) : null,
    h("span", { class: `badge defect-${defect.status}` }, DEFECT_STATUS_ZH[defect.status] || defect.status),
    reported ? h("div", { class: "verify" },
      h("div", { class: "field" }, h("label", { for: `close-${id}` }, "核验意见（选填）"), notes),
      h("button", { type: "button", class: "button primary", onclick: async () => {
        await queued(item, "close_defect", `/defects/${id}/close`, { notes: notes.value.trim() },
          "关闭整改 · 核验合格");
        onDone("已保存到本机：整改核验合格，关闭整改，待同步");
      } }, "核验合格，关闭整改"),
      h("div", { class: "field" }, h("label", { for: `reject-${id}` }, "退回原因"), reason),
      h("div", { class: "photos" }, h("label", { for: `reject-photos-${id}`, class: "button camera" }, "拍照存证"),
        camera, counter),
      h("button", { type: "button", class: "button danger", onclick: async () => {
        if (!reason.value.trim()) {
          error.textContent = "退回整改时请写明原因";
          return;
        }
        await queued(item, "reject_rectification", `/defects/${id}/reject-rectification`,
          { reason: reason.value.trim(), photos: photos.map((p) => p.sha256) }, "退回整改", photos);
        onDone("已保存到本机：整改退回，待同步");
      } }, "整改不合格，退回"), error) : null);
}

/** The item's defects and the works-level actions, for the item's page. */
export function itemActions(item, template, onDone) {
  const names = Object.fromEntries((template?.hold_points || []).map((hp) => [hp.code, hp.name_zh]));
  const open = item.defects.filter((d) => d.status !== "closed");
  const allPassed = item.hold_points.every((hp) => hp.status === "passed");
  return [
    h("h2", {}, "整改通知"),
    open.length ? h("ul", { class: "defects" }, open.map((d) => defectRow(item, d, names[d.hold_point], onDone)))
      : h("p", { class: "muted" }, "没有未关闭的整改通知"),
    h("h2", {}, "竣工与验收"),
    h("p", { class: "muted" }, allPassed && !open.length ? "检查点已全部通过，可以报竣工。"
      : "全部检查点通过、整改全部关闭后才能竣工（服务器会再次核对）。"),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "button primary", onclick: async () => {
        await queued(item, "complete", "/completion", {}, "竣工");
        onDone("已保存到本机：竣工，待同步");
      } }, "报竣工"),
      h("button", { type: "button", class: "button secondary", onclick: async () => {
        await queued(item, "request_acceptance", "/acceptance-rounds", {}, "申请居民验收");
        onDone("已保存到本机：申请居民验收，待同步");
      } }, "申请居民验收")),
  ];
}
