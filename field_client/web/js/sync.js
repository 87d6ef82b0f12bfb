// One sync, as the command-line client does it (field_client/sync.py), over the same server protocol: photos
// upload, each resumed from the server's offset (tus 1.0), so a dropped link costs only what did not arrive;
// meanwhile the commands go in the order made, one round per works item at a time, through POST /api/v1/batch
// (a command citing a photo not yet up waits for it, and its item with it; the rest go); then a fresh snapshot. Every answer is written to IndexedDB as it is read, so a sync cut at any point resumes where
// it was and resends only what it cannot prove the server has — under the same keys, which the server replays.
import * as store from "./db.js";
import { Offline, Revoked, TRANSIENT, getJson, jsonOf, problemOf, request, upload } from "./api.js";
import * as queue from "./queue.js";

const TUS = "/api/v1/tus/photos";
const TUS_HEADERS = { "Tus-Resumable": "1.0.0" };
// A photo goes in one PATCH from wherever the server is (its bytes counted as they leave, see api.upload);
// after a drop the server has kept what arrived and the next PATCH resumes from its offset.
const PATCH_MAX = 64 * 1024 * 1024;
const BATCH = 100;
const STALLS = 8; // attempts in a row that move nothing before a photo (or the commands) wait for the next sync
const PHOTO_WORKERS = 4;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt) => sleep(Math.random() * Math.min(4000, 150 * 2 ** attempt)); // full jitter

/** The server will not take this photo (not an image, out of scope): shown to the supervisor, not retried. */
class PhotoRefused extends Error {
  constructor(problem) {
    super(problem.detail);
    this.problem = problem;
  }
}

function metadata(values) {
  return Object.entries(values).map(([k, v]) => `${k} ${btoa(v)}`).join(",");
}

export async function pull() {
  const snapshot = await getJson("/api/v1/field/snapshot");
  await store.replaceSnapshot(snapshot);
  return snapshot;
}

export class Sync {
  constructor(onProgress = () => {}) {
    this.onProgress = onProgress;
    this.report = { photosUploaded: 0, photosSkipped: 0, photosRefused: 0, photosWaiting: 0, sent: 0,
      replayed: 0, refused: 0, requests: 0, seconds: {} };
    this.bytes = new Map();
    this.bytesTotal = 0;
    this.done = 0;
    this.total = 0;
    this.started = performance.now();
  }

  show(what) {
    const sent = [...this.bytes.values()].reduce((a, b) => a + b, 0);
    this.onProgress({ photoBytes: sent, photoBytesTotal: this.bytesTotal, commands: this.done,
      commandsTotal: this.total, seconds: (performance.now() - this.started) / 1000, what });
  }

  async run() {
    return this.timed("total", () => this.steps());
  }

  async steps() {
    const user = await store.getMeta("user");
    const pending = (await store.photos()).filter((p) => p.state === "queued");
    this.total = (await store.commands()).filter((c) => c.state === "queued" && c.user_id === user.id).length;
    this.bytesTotal = pending.reduce((sum, p) => sum + p.size, 0);
    for (const p of pending) this.bytes.set(p.sha256, 0);
    this.show("photos");
    const missing = new Set(pending.map((p) => p.sha256));
    const work = [...pending];
    let uploading = true;
    let landings = 0;
    let waiters = [];
    const landed = () => { landings += 1; for (const wake of waiters) wake(); waiters = []; };
    // Resolves when a photo has landed since `seen` (it may free the commands citing it); null once none landed
    // since and none is on its way.
    const gate = {
      seen: () => landings,
      next: (seen) => (landings !== seen ? Promise.resolve()
        : uploading ? new Promise((resolve) => waiters.push(resolve)) : null),
    };
    const photos = this.timed("photos", () => Promise.all(Array.from({ length: PHOTO_WORKERS }, async () => {
      for (let next = work.shift(); next; next = work.shift()) {
        if (await this.photo(next)) missing.delete(next.sha256);
        landed();
      }
    }))).finally(() => { uploading = false; landed(); });
    try {
      await this.timed("commands", () => this.commands(user.id, missing, gate));
    } finally {
      await photos.catch(() => undefined);
    }
    await photos;
    await this.freeSentPhotos();
    if (this.report.photosWaiting) throw new Offline(`${this.report.photosWaiting} 张照片未传完`);
    this.show("refresh");
    await this.timed("pull", async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await pull();
        } catch (error) {
          if (!(error instanceof Offline) || attempt >= STALLS) throw error;
          await backoff(attempt);
        }
      }
    });
    this.show("done");
    return this.report;
  }

  /** A photo's bytes leave the tablet's storage once the server holds it and no unsent command cites it
   * (a day's photos are tens of MB); its row stays, so the queue still knows it was sent. */
  async freeSentPhotos() {
    const cites = new Set((await store.commands()).filter((c) => queue.UNSENT.includes(c.state))
      .flatMap((c) => [...queue.cited(c)]));
    for (const row of await store.photos()) {
      if (row.state === "uploaded" && row.blob && !cites.has(row.sha256)) await store.putPhoto({ ...row, blob: null });
    }
  }

  async timed(phase, step) {
    const started = performance.now();
    try {
      return await step();
    } finally {
      this.report.seconds[phase] = (performance.now() - started) / 1000;
    }
  }

  // --- photos ------------------------------------------------------------------------------------------

  async call(method, path, options) {
    this.report.requests += 1;
    return request(method, path, options);
  }

  /** True when the server has the photo (uploaded, already there, or refused: its commands then go and the
   * server says why); false when the link never let it finish (it resumes at the next sync). */
  async photo(row) {
    let stalls = 0;
    for (;;) {
      try {
        return await this.upload(await store.photo(row.sha256));
      } catch (error) {
        if (error instanceof PhotoRefused) {
          await this.settle(row, "refused", error.problem);
          this.report.photosRefused += 1;
          return true;
        }
        if (!(error instanceof Offline)) throw error;
        stalls += 1;
        if (stalls >= STALLS) {
          this.report.photosWaiting += 1;
          return false;
        }
        await backoff(stalls);
      }
    }
  }

  async upload(row) {
    if ((await this.call("HEAD", `/api/v1/photos/${row.sha256}`)).status === 200) {
      this.progress(row, row.size);
      await this.settle(row, "uploaded");
      this.report.photosSkipped += 1;
      return true;
    }
    let url = row.upload_url;
    let offset = url ? await this.offset(url) : null;
    if (offset === null) [url, offset] = [await this.create(row), 0];
    let stalls = 0;
    while (offset < row.size) {
      this.progress(row, offset);
      let response;
      const from = offset;
      try {
        this.report.requests += 1;
        response = await upload("PATCH", url, {
          body: row.blob.slice(offset, Math.min(row.size, offset + PATCH_MAX)),
          headers: { ...TUS_HEADERS, "Upload-Offset": String(offset),
            "Content-Type": "application/offset+octet-stream" },
          onProgress: (loaded) => this.progress(row, from + loaded),
        });
      } catch (error) {
        if (!(error instanceof Offline)) throw error;
        response = null; // the link dropped: the server may have kept some or all of it; ask
      }
      if (response?.status === 204) {
        offset = Number(response.headers.get("Upload-Offset") ?? offset);
        stalls = 0;
        continue;
      }
      if (response && [404, 410].includes(response.status)) {
        [url, offset] = [await this.create(row), 0];
        continue;
      }
      if (response && ![409, 423, 460].includes(response.status) && !TRANSIENT.has(response.status)) {
        const problem = problemOf(response.status, await jsonOf(response));
        await this.settle(row, "refused", problem);
        this.report.photosRefused += 1;
        return true;
      }
      const known = await this.offset(url).catch((e) => (e instanceof Offline ? offset : Promise.reject(e)));
      if (known === null) {
        [url, offset] = [await this.create(row), 0];
        continue;
      }
      stalls = known > offset ? 0 : stalls + 1;
      if (stalls >= STALLS) throw new Offline("photo upload stalled");
      if (stalls) await backoff(stalls);
      offset = known;
    }
    this.progress(row, row.size);
    await this.settle(row, "uploaded");
    this.report.photosUploaded += 1;
    return true;
  }

  progress(row, offset) {
    this.bytes.set(row.sha256, offset);
    this.show("photos");
  }

  async settle(row, state, problem = null) {
    const current = await store.photo(row.sha256);
    await store.putPhoto({ ...current, state, problem, upload_url: state === "uploaded" ? null : current.upload_url });
  }

  async create(row) {
    const response = await this.call("POST", TUS, { headers: { ...TUS_HEADERS, "Upload-Length": String(row.size),
      "Upload-Metadata": metadata({ filename: `${row.sha256}.jpg`, sha256: row.sha256, project_id: row.project_id,
        filetype: row.type }) } });
    if (response.status !== 201 || !response.headers.get("Location")) {
      if (response.status >= 400 && response.status < 500 && !TRANSIENT.has(response.status)) {
        throw new PhotoRefused(problemOf(response.status, await jsonOf(response)));
      }
      throw new Offline(`HTTP ${response.status}`);
    }
    const url = response.headers.get("Location");
    await store.putPhoto({ ...(await store.photo(row.sha256)), upload_url: url });
    return url;
  }

  /** The server's offset for an upload, or null when that upload is gone (expired, refused, never made). */
  async offset(url) {
    const response = await this.call("HEAD", url, { headers: TUS_HEADERS });
    if ([404, 410].includes(response.status)) return null;
    const found = response.headers.get("Upload-Offset");
    if (response.status !== 200 || !/^\d+$/.test(found || "")) throw new Offline(`HEAD ${response.status}`);
    return Number(found);
  }

  // --- commands ------------------------------------------------------------------------------------------

  /** Rounds of ready commands while the photos go; when none is ready but a photo is still on its way, wait
   * for it to land (it may free the commands that cite it). */
  async commands(userId, missing, gate) {
    const deviceId = await store.getMeta("device_id");
    let transient = 0;
    for (;;) {
      const seen = gate.seen();
      const ready = await queue.nextRound(userId, missing);
      if (!ready.length) {
        const landing = gate.next(seen);
        if (!landing) return;
        await landing;
        continue;
      }
      let troubled = false;
      for (let start = 0; start < ready.length; start += BATCH) {
        const chunk = ready.slice(start, start + BATCH);
        const results = await this.batch(chunk, deviceId);
        if (!results) {
          troubled = true;
          continue;
        }
        troubled = (await this.answers(chunk, results)) || troubled;
      }
      if (troubled) {
        transient += 1;
        if (transient >= STALLS) throw new Offline("网络不稳定");
        await backoff(transient);
      } else {
        transient = 0;
      }
    }
  }

  /** One result per command, or null when no usable answer came (the same keys go again). */
  async batch(chunk, deviceId) {
    const payload = { commands: chunk.map((c) => ({ path: c.path, idempotency_key: c.id, body: c.body,
      device_id: deviceId })) };
    let response;
    try {
      response = await this.call("POST", "/api/v1/batch", { body: JSON.stringify(payload),
        headers: { "Content-Type": "application/json" } });
    } catch (error) {
      if (error instanceof Offline) return null;
      throw error;
    }
    const body = await jsonOf(response);
    if (response.status === 200 && body.results?.length === chunk.length) return body.results;
    if (TRANSIENT.has(response.status) || response.status === 200) return null;
    return chunk.map(() => ({ status: response.status, body }));
  }

  /** The answers to a batch, written in one transaction before the next request; true when one was transient
   * (that command stays queued, same key). A 401 stops the sync after what came before it is written. */
  async answers(chunk, results) {
    const moves = [];
    let transient = false;
    let revoked = null;
    for (let i = 0; i < chunk.length && !revoked; i += 1) {
      const [cmd, result] = [chunk[i], results[i]];
      const status = Number(result.status);
      if (status >= 200 && status < 300) {
        const replayed = result.headers?.["idempotent-replayed"] === "true";
        moves.push(queue.sent(cmd, result.body, replayed));
        this.report.sent += 1;
        if (replayed) this.report.replayed += 1;
      } else if (TRANSIENT.has(status)) {
        moves.push(queue.attempted(cmd));
        transient = true;
        continue;
      } else if (status === 401) {
        revoked = new Revoked(problemOf(status, result.body).detail);
        continue;
      } else {
        moves.push(queue.refused(cmd, problemOf(status, result.body)));
        this.report.refused += 1;
      }
      this.done += 1;
    }
    await store.moveCommands(moves);
    if (revoked) throw revoked;
    this.show("commands");
    return transient;
  }
}
