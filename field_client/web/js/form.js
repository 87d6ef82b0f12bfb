// A hold point's form, generated from the item's frozen template: numbers with their units and the keypad for
// them, each limit beside its field and checked as typed, checklist items as large toggles, Chinese pick-lists
// for choices, the camera with a counter against the photos required, the result, and the defect form when it
// is not a plain pass. Saving checks everything the server will check, then queues the command on the tablet.
import * as store from "./db.js";
import { bytes, h, show } from "./dom.js";
import * as queue from "./queue.js";
import * as rules from "./validate.js";
import { itemName, stopWorkBanner } from "./views.js";

/** A photo as the tablet keeps it: the bytes as a Blob and their SHA-256, computed here (Web Crypto). */
export async function capture(file, projectId) {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { sha256, project_id: projectId, blob: file, type: file.type || "image/jpeg", size: file.size,
    state: "queued", upload_url: null, problem: null, captured_at: queue.deviceTime() };
}

function photoPicker(id, label, projectId, required, onChange) {
  const taken = [];
  const counter = h("span", { class: "counter", id: `${id}-count`, "aria-live": "polite" });
  const thumbs = h("ul", { class: "thumbs" });
  const render = () => {
    const enough = taken.length >= required;
    counter.textContent = required ? `已拍 ${taken.length} 张 / 至少 ${required} 张` : `已拍 ${taken.length} 张`;
    counter.className = `counter ${enough ? "ok" : "bad"}`;
    thumbs.replaceChildren(...taken.map((photo, n) => h("li", {},
      h("img", { src: URL.createObjectURL(photo.blob), alt: `照片 ${n + 1}（${bytes(photo.size)}）` }),
      h("button", { type: "button", class: "button small danger", "aria-label": `删除照片 ${n + 1}`,
        onclick: () => { taken.splice(n, 1); render(); onChange(); } }, "删除"))));
  };
  const input = h("input", { id, type: "file", accept: "image/*", capture: "environment", multiple: true,
    class: "camera-input", onchange: async () => {
      for (const file of input.files) {
        const photo = await capture(file, projectId);
        if (!taken.some((p) => p.sha256 === photo.sha256)) taken.push(photo);
      }
      input.value = "";
      render();
      onChange();
    } });
  render();
  const node = h("div", { class: "photos" }, h("label", { for: id, class: "button camera" }, label), input,
    counter, thumbs);
  return { node, taken };
}

function numberField(spec, hp, values, onInput) {
  const id = `m-${spec.code}`;
  const unit = spec.unit ? `（${spec.unit}）` : "";
  const required = spec.required !== false && !Object.keys(spec.required_when || {}).length;
  const when = requiredWhen(spec, hp);
  const input = h("input", { id, name: spec.code, type: "text", inputmode: "decimal", autocomplete: "off",
    "aria-describedby": `${id}-limits ${id}-error`, required, oninput: onInput });
  const limits = h("ul", { class: "limits", id: `${id}-limits` });
  const error = h("p", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  const update = () => {
    const wrong = rules.fieldError(spec, input.value);
    error.textContent = wrong || "";
    input.setAttribute("aria-invalid", wrong ? "true" : "false");
    limits.replaceChildren(...rules.checksFor(hp, spec.code, values()).map(({ text, state }) =>
      h("li", { class: `limit ${state}` }, text,
        state === "ok" ? " ✓ 满足" : state === "bad" ? " ✗ 不满足" : "")));
  };
  return { node: h("div", { class: "field" },
    h("label", { for: id }, rules.label(spec), unit ? h("span", { class: "sr-only" }, unit) : null,
      required ? "" : h("small", {}, when ? `（${when}时必填）` : "（选填）")),
    h("div", { class: "with-unit" }, input, spec.unit ? h("span", { class: "unit", "aria-hidden": "true" }, spec.unit)
      : null), limits, error), input, update };
}

/** "介质为给水、排水" — when a measurement is required only for some recorded choices. */
function requiredWhen(spec, hp) {
  const specs = Object.fromEntries((hp.measurements || []).map((m) => [m.code, m]));
  return Object.entries(spec.required_when || {}).map(([code, allowed]) =>
    `${rules.label(specs[code] || { code })}为${allowed.map((v) => rules.choiceZh(specs[code] || {}, v)).join("或")}`)
    .join("且");
}

function choiceField(spec, onInput) {
  const id = `m-${spec.code}`;
  const input = h("select", { id, name: spec.code, onchange: onInput },
    h("option", { value: "" }, "请选择…"),
    (spec.choices || []).map((value) => h("option", { value }, rules.choiceZh(spec, value))));
  return { node: h("div", { class: "field" }, h("label", { for: id }, rules.label(spec)), input), input,
    update: () => {} };
}

function textField(spec, hp, onInput) {
  const id = `m-${spec.code}`;
  const input = h("input", { id, name: spec.code, type: "text", autocomplete: "off", maxlength: 200,
    oninput: onInput });
  const when = requiredWhen(spec, hp);
  return { node: h("div", { class: "field" }, h("label", { for: id }, rules.label(spec),
    when ? h("small", {}, `（${when}时必填）`) : spec.required === false ? h("small", {}, "（选填）") : ""), input),
  input, update: () => {} };
}

function radios(name, legend, options, onChange) {
  return h("fieldset", { class: "choices" }, h("legend", {}, legend),
    Object.entries(options).map(([value, text]) => h("label", { class: `choice choice-${value}` },
      h("input", { type: "radio", name, value, onchange: onChange }), h("span", {}, text))));
}

function checked(form, name) {
  return form.querySelector(`input[name="${name}"]:checked`)?.value || "";
}

export async function holdPointForm(itemId, code, done) {
  const item = await store.item(itemId);
  const kind = item ? await store.template(item.template_digest) : null;
  const hp = kind?.hold_points.find((p) => p.code === code);
  if (!hp) {
    return show(h("h1", {}, "本机没有该检查点的模板"), h("p", {}, "请联网后同步一次，再打开此表单。"),
      h("a", { href: `#/item/${itemId}` }, "返回事项"));
  }
  const user = await store.getMeta("user");
  const fields = [];
  const values = () => Object.fromEntries(fields.map((f) => [f.spec.code, f.input.value.trim()]));
  const refresh = () => { for (const f of fields) f.update(); warn(); };
  for (const spec of hp.measurements || []) {
    const type = spec.type || "number";
    const made = type === "number" ? numberField(spec, hp, values, refresh)
      : type === "choice" ? choiceField(spec, refresh) : textField(spec, hp, refresh);
    fields.push({ spec, ...made });
  }
  const photos = photoPicker("photos", "拍照", item.project_id, hp.min_photos || 0, () => {});
  const defectPhotos = photoPicker("defect-photos", "拍整改照片", item.project_id, 0, () => {});
  const errors = h("div", { class: "errors", role: "alert" });
  const warnings = h("div", { class: "warnings", role: "status" });
  const defect = h("fieldset", { class: "defect", hidden: true },
    h("legend", {}, "整改通知"),
    radios("severity", "严重程度", rules.SEVERITY_ZH, () => {}),
    h("div", { class: "field" }, h("label", { for: "defect-description" }, "整改内容"),
      h("textarea", { id: "defect-description", rows: 3, maxlength: 2000 })),
    h("div", { class: "field" }, h("label", { for: "defect-due" }, "整改期限（选填）"),
      h("input", { id: "defect-due", type: "date" })),
    defectPhotos.node);
  const form = h("form", { class: "hold-point-form", novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    save();
  } },
  fields.length ? h("fieldset", { class: "measurements" }, h("legend", {}, "测量值"), fields.map((f) => f.node))
    : null,
  (hp.checklist || []).length ? h("fieldset", { class: "checklist" }, h("legend", {}, "检查项（逐项确认）"),
    hp.checklist.map((c) => h("label", { class: "toggle" },
      h("input", { type: "checkbox", name: `check-${c.code}`, value: c.code }), h("span", {}, c.text_zh)))) : null,
  h("fieldset", { class: "camera-set" }, h("legend", {}, "现场照片"), photos.node),
  radios("result", "检查结论", rules.RESULT_ZH, () => {
    errors.replaceChildren();
    defect.hidden = checked(form, "result") === "pass" || !checked(form, "result");
    warn();
  }),
  defect,
  h("div", { class: "field" }, h("label", { for: "notes" }, "备注（选填）"),
    h("textarea", { id: "notes", rows: 2, maxlength: 2000 })),
  warnings, errors,
  h("div", { class: "form-actions" },
    h("button", { type: "submit", class: "button primary big" }, "保存到本机"),
    h("a", { href: `#/item/${itemId}`, class: "button secondary big" }, "取消")));

  async function warn() {
    const result = checked(form, "result");
    const notes = [];
    if (item.stop_work && hp.construction !== false && rules.PASSING.includes(result)) {
      notes.push("据本机资料，该事项处于停工状态：此记录同步时可能被拒绝。");
    }
    if (result && result !== "pass") {
      const later = new Set(kind.hold_points.filter((p) => (p.after || []).includes(code)).map((p) => p.code));
      const dependent = (await store.commands()).filter((c) => c.item_id === itemId && c.action === "inspect"
        && queue.UNSENT.includes(c.state) && later.has(c.body.hold_point) && rules.PASSING.includes(c.body.result));
      if (dependent.length) {
        const names = dependent.map((c) => kind.hold_points.find((p) => p.code === c.body.hold_point).name_zh);
        notes.push(`注意：队列中“${names.join("、")}”的合格记录依赖本检查点，本检查点不合格后它将被服务器拒绝；`
          + "如已不成立，请在同步队列中放弃。");
      }
    }
    warnings.replaceChildren(...notes.map((n) => h("p", {}, n)));
  }

  async function save() {
    const result = checked(form, "result");
    const checklist = Object.fromEntries((hp.checklist || []).map((c) =>
      [c.code, form.querySelector(`input[name="check-${c.code}"]`).checked]));
    const defects = result && result !== "pass" ? [{
      defect_id: crypto.randomUUID().replaceAll("-", ""), severity: checked(form, "severity"),
      description: form.querySelector("#defect-description").value.trim(),
      ...(form.querySelector("#defect-due").value ? { due_date: form.querySelector("#defect-due").value } : {}),
      photos: defectPhotos.taken.map((p) => p.sha256),
    }] : [];
    const measurements = values();
    const { errors: found, values: clean } = rules.inspectionErrors(hp, { result, measurements, checklist,
      photos: photos.taken.length, defects });
    if (found.length) {
      errors.replaceChildren(h("p", {}, h("strong", {}, "还不能保存：")), h("ul", {}, found.map((e) => h("li", {}, e))));
      errors.scrollIntoView({ block: "center" });
      return;
    }
    const body = { hold_point: code, result, measurements: clean, checklist, notes:
      form.querySelector("#notes").value.trim(), photos: photos.taken.map((p) => p.sha256), defects };
    await queue.add("inspect", item, user.id, "/inspections", body,
      `检查 · ${hp.name_zh} · ${rules.RESULT_ZH[result]}${defects.length ? " · 开具整改" : ""}`,
      [...photos.taken, ...defectPhotos.taken]);
    done(`已保存到本机：${hp.name_zh} ${rules.RESULT_ZH[result]}，待同步`);
  }

  show(h("nav", { class: "crumbs", "aria-label": "位置" }, h("a", { href: "#/" }, "我的项目"), " › ",
    h("a", { href: `#/item/${itemId}` }, itemName(item)), " › ", hp.name_zh),
  h("h1", {}, hp.name_zh),
  h("p", { class: "muted" }, `${itemName(item)} · 至少 ${hp.min_photos || 0} 张照片`),
  stopWorkBanner(item), form);
  refresh();
}
