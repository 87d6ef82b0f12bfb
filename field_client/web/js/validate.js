// The template's rules, checked on the tablet as the supervisor types: read from the frozen template's data
// (measurements, checklist, `checks`, `min_photos`), never re-coded per kind. The server stays the judge; this
// catches in the trench what it would refuse hours later. Numbers compare exactly (as fractions of BigInts),
// so 1.5 × 0.4 MPa is 0.6 MPa, not 0.6000000000000001.

export const RESULTS = ["pass", "fail", "conditional"];
export const PASSING = ["pass", "conditional"];
export const RESULT_ZH = { pass: "合格", fail: "不合格", conditional: "有条件通过" };
export const SEVERITY_ZH = { minor: "一般", major: "较重", critical: "严重" };
const OP_ZH = { ">=": "≥", "<=": "≤", "==": "=" };
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
// As the server's domain bounds a figure (domain/inspection.py): finer than any instrument, larger than any site.
const LIMIT = 10n ** 9n;
const DECIMALS = 9;

/** A decimal or "a/b" text as an exact fraction [numerator, denominator], or null. */
export function fraction(text) {
  const raw = String(text ?? "").trim();
  if (raw.includes("/")) {
    const [a, b] = raw.split("/");
    const top = fraction(a), bottom = fraction(b);
    return top && bottom && bottom[0] !== 0n ? [top[0] * bottom[1], top[1] * bottom[0]] : null;
  }
  const [mantissa, exponentText] = raw.split(/e/i);
  if (!NUMBER.test(mantissa) || (exponentText !== undefined && !/^[+-]?\d{1,3}$/.test(exponentText))) return null;
  const negative = mantissa.startsWith("-");
  const [whole, part = ""] = mantissa.replace(/^[+-]/, "").split(".");
  let numerator = BigInt((whole || "0") + part) * (negative ? -1n : 1n);
  let denominator = 10n ** BigInt(part.length);
  const exponent = Number(exponentText || 0); // a template limit sent as a JSON number may read "1e-7"
  if (exponent > 0) numerator *= 10n ** BigInt(exponent);
  if (exponent < 0) denominator *= 10n ** BigInt(-exponent);
  return [numerator, denominator];
}

function compare(a, b) { // denominators are positive: decimals are made so, and a ratio's too
  const left = a[0] * b[1], right = b[0] * a[1];
  return left < right ? -1 : left > right ? 1 : 0;
}

function times(a, b) {
  return [a[0] * b[0], a[1] * b[1]];
}

export function label(spec) {
  return spec.name_zh || spec.text_zh || spec.code;
}

export function choiceZh(spec, value) {
  return spec.choice_names_zh?.[value] || value;
}

/** The limit a check sets, in words beside its field: "≥ 0.6 MPa", "≥ 1.5 × 工作压力（给水）". */
export function limitText(check, hp) {
  const specs = Object.fromEntries((hp.measurements || []).map((m) => [m.code, m]));
  const unit = specs[check.measurement]?.unit ? ` ${specs[check.measurement].unit}` : "";
  let bound;
  if (check.value !== null && check.value !== undefined) {
    bound = `${check.value}${unit}`;
  } else {
    const ratio = fraction(check.ratio || "1");
    const shown = ratio[1] === 1n ? String(ratio[0]) : String(Number(ratio[0]) / Number(ratio[1]));
    const of = label(specs[check.of] || { code: check.of });
    bound = shown === "1" ? of : `${shown} × ${of}`;
  }
  const when = Object.entries(check.when || {}).map(([code, value]) => choiceZh(specs[code] || {}, value));
  return `${OP_ZH[check.op] || check.op} ${bound}${when.length ? `（${when.join("、")}时）` : ""}`;
}

function applies(check, values) {
  const named = [check.measurement, ...(check.of ? [check.of] : [])];
  return named.every((code) => fraction(values[code]) !== null)
    && Object.entries(check.when || {}).every(([code, value]) => values[code] === value);
}

function holds(check, values) {
  const left = fraction(values[check.measurement]);
  const right = check.value !== null && check.value !== undefined
    ? fraction(String(check.value)) : times(fraction(check.ratio || "1"), fraction(values[check.of]));
  const order = compare(left, right);
  return { ">=": order >= 0, "<=": order <= 0, "==": order === 0 }[check.op];
}

/** Every check on this measurement, as typed so far: [{check, text, state: "ok"|"bad"|"idle"}]. */
export function checksFor(hp, code, values) {
  return (hp.checks || []).filter((c) => c.measurement === code).map((check) => ({
    check, text: limitText(check, hp),
    state: applies(check, values) ? (holds(check, values) ? "ok" : "bad") : "idle",
  }));
}

/** A single field's own error as typed (not a number, below its minimum, not one of the choices), or null. */
export function fieldError(spec, raw) {
  const value = String(raw ?? "").trim();
  if (!value) return null;
  if ((spec.type || "number") === "number") {
    const found = NUMBER.test(value) ? fraction(value) : null; // typed as the keypad gives it: no exponent
    if (!found) return `${label(spec)}应为数值`;
    const decimals = (value.split(".")[1] || "").replace(/0+$/, "").length;
    if (compare([found[0] < 0n ? -found[0] : found[0], found[1]], [LIMIT, 1n]) > 0 || decimals > DECIMALS) {
      return `${label(spec)}超出合理范围（绝对值不超过 10 亿，最多 ${DECIMALS} 位小数）`;
    }
    if (spec.minimum !== null && spec.minimum !== undefined && compare(found, fraction(String(spec.minimum))) < 0) {
      return `${label(spec)}不能小于 ${spec.minimum}`;
    }
    if (spec.integer && found[0] % found[1] !== 0n) return `${label(spec)}应为整数（人数、个数按整数记录）`;
  } else if (spec.type === "choice" && !(spec.choices || []).includes(value)) {
    return `${label(spec)}应从列表中选择`;
  }
  return null;
}

export function defectErrors(draft) {
  const errors = [];
  if (!Object.keys(SEVERITY_ZH).includes(draft.severity)) errors.push("请选择整改的严重程度");
  const description = String(draft.description || "").trim();
  if (!description || description.length > 2000) errors.push("请填写整改内容（不超过 2000 字）");
  if (draft.due_date && !realDay(draft.due_date)) errors.push("整改期限应为真实的日期");
  return errors;
}

function realDay(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const day = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === text
    && day.getUTCFullYear() >= 2000 && day.getUTCFullYear() <= 2100;
}

/** Required here: always, never, or only when other measurements were recorded as certain choices. */
export function isRequired(spec, values) {
  const when = Object.entries(spec.required_when || {});
  if (!when.length) return spec.required !== false;
  return when.every(([code, allowed]) => allowed.includes(values[code]));
}

/** What the server would refuse in this inspection: `errors` in Chinese, `codes` the server's stable codes
 * (domain/rules.py); both empty when it may be saved. */
export function inspectionErrors(hp, { result, measurements, checklist, photos, defects }) {
  const errors = [];
  const codes = new Set();
  const refuse = (code, text) => { errors.push(text); codes.add(code); };
  if (!RESULTS.includes(result)) refuse("invalid_result", "请选择检查结论：合格、不合格或有条件通过");
  if (photos < (hp.min_photos || 0)) {
    refuse("missing_required_photos", `至少需要 ${hp.min_photos} 张照片，现有 ${photos} 张`);
  }
  const values = {};
  for (const spec of hp.measurements || []) {
    const value = String(measurements[spec.code] ?? "").trim();
    if (!value) continue;
    const wrong = fieldError(spec, value);
    if (wrong) refuse("invalid_measurement", wrong);
    else values[spec.code] = value;
  }
  const inconsistent = (hp.checks || []).filter((c) => c.validity && applies(c, values) && !holds(c, values));
  if (inconsistent.length) {
    refuse("inconsistent_measurements", `测量值相互矛盾或不成立：${inconsistent.map((c) => c.name_zh).join("；")}`);
  }
  if (PASSING.includes(result)) {
    const missing = (hp.measurements || []).filter((m) => isRequired(m, values) && !(m.code in values));
    if (missing.length) refuse("missing_measurements", `缺少必填测量值：${missing.map(label).join("、")}`);
    if (result === "pass") {
      const unconfirmed = (hp.checklist || []).filter((c) => checklist[c.code] !== true);
      if (unconfirmed.length) {
        refuse("incomplete_checklist", `合格前须确认全部检查项：${unconfirmed.map(label).join("、")}`);
      }
    }
    const failures = (hp.checks || []).filter((c) => applies(c, values) && !holds(c, values));
    if (failures.length) {
      refuse("inspection_limits_not_met",
        `不满足限值：${failures.map((c) => c.name_zh).join("；")}（应判定为不合格并开具整改）`);
    }
  }
  if (result && result !== "pass" && !defects.length) {
    refuse("failed_inspection_needs_defect", "不合格或有条件通过时必须开具整改");
  }
  for (const draft of defects) for (const text of defectErrors(draft)) refuse("invalid_defect", text);
  return { errors, codes: [...codes], values };
}
