// The API as the tablet calls it: the device credential as a bearer token (no cookie, no CSRF), the device id
// on every request, and the server's problem (code + Chinese detail) or `Offline` when no answer came.
import { getMeta } from "./db.js";

export const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);
export const REVOKED_ZH = "此平板已停用，请重新登录";

export class Offline extends Error {}

/** 401: the device credential is gone (revoked on 我的账户, expired): nothing more can be sent. */
export class Revoked extends Error {}

export function problemOf(status, body) {
  const found = body && typeof body === "object" ? body : {};
  return {
    status,
    code: found.code || `http_${status}`,
    title: found.title || "",
    detail: found.detail || `服务器拒绝（HTTP ${status}）`,
  };
}

export async function credential() {
  return { token: await getMeta("token"), deviceId: await getMeta("device_id") };
}

/** One request; a transport failure is `Offline`, a 401 is `Revoked`, anything else is the Response. */
export async function request(method, path, { headers = {}, body, timeoutMs = 30000 } = {}) {
  const { token, deviceId } = await credential();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, {
      method, body, signal: controller.signal, credentials: "omit", cache: "no-store",
      headers: { Authorization: `Bearer ${token}`, "X-Device-Id": deviceId, ...headers },
    });
  } catch (error) {
    throw new Offline(error?.name === "AbortError" ? "timeout" : String(error));
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 401) {
    const detail = problemOf(401, await jsonOf(response)).detail;
    throw new Revoked(detail);
  }
  return response;
}

/** A body sent with upload progress (fetch reports none within a request): a photo goes in one request, as the
 * command-line client sends it, and the bar still moves byte by byte on a weak link. Answers what `request`
 * does: a Response-like {status, headers, json()}, `Offline` when no answer came, `Revoked` on 401. */
export async function upload(method, path, { headers = {}, body, onProgress = () => {}, timeoutMs = 600000 } = {}) {
  const { token, deviceId } = await credential();
  const answer = await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.timeout = timeoutMs;
    const all = { Authorization: `Bearer ${token}`, "X-Device-Id": deviceId, ...headers };
    for (const [name, value] of Object.entries(all)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Offline("network error"));
    xhr.ontimeout = () => reject(new Offline("timeout"));
    xhr.onabort = () => reject(new Offline("aborted"));
    xhr.send(body);
  });
  const response = { status: answer.status, headers: { get: (name) => answer.getResponseHeader(name) },
    json: async () => JSON.parse(answer.responseText || "{}") };
  if (response.status === 401) throw new Revoked(problemOf(401, await jsonOf(response)).detail);
  return response;
}

export async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

export async function getJson(path) {
  const response = await request("GET", path);
  if (response.status !== 200) {
    if (TRANSIENT.has(response.status)) throw new Offline(`HTTP ${response.status}`);
    throw new Error(problemOf(response.status, await jsonOf(response)).detail);
  }
  return response.json();
}
