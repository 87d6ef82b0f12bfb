// The tablet's own store (IndexedDB via idb): the picture it took before going offline, and the work queued
// since. Everything the app shows offline is read from here; the network only ever refreshes it.
import { openDB } from "/static/vendor/idb/index.js";

const NAME = "siteledger-field";
const VERSION = 1;

let opened = null;

export function db() {
  opened ??= openDB(NAME, VERSION, {
    upgrade(database) {
      database.createObjectStore("meta", { keyPath: "key" });
      database.createObjectStore("projects", { keyPath: "id" });
      database.createObjectStore("items", { keyPath: "id" }).createIndex("project_id", "project_id");
      database.createObjectStore("templates", { keyPath: "digest" });
      const commands = database.createObjectStore("commands", { keyPath: "id" });
      commands.createIndex("seq", "seq", { unique: true });
      commands.createIndex("item_id", "item_id");
      database.createObjectStore("photos", { keyPath: "sha256" });
    },
  });
  return opened;
}

export async function getMeta(key, fallback = null) {
  const row = await (await db()).get("meta", key);
  return row === undefined ? fallback : row.value;
}

export async function setMeta(key, value) {
  await (await db()).put("meta", { key, value });
}

export async function deleteMeta(key) {
  await (await db()).delete("meta", key);
}

/** Replace the cached picture with a fresh snapshot, in one transaction: never half old, half new. */
export async function replaceSnapshot(snapshot) {
  const database = await db();
  const tx = database.transaction(["meta", "projects", "items", "templates"], "readwrite");
  await Promise.all([tx.objectStore("projects").clear(), tx.objectStore("items").clear(),
    tx.objectStore("templates").clear()]);
  for (const project of snapshot.projects) tx.objectStore("projects").put(project);
  for (const item of snapshot.items) tx.objectStore("items").put(item);
  for (const [digest, template] of Object.entries(snapshot.templates)) {
    tx.objectStore("templates").put({ digest, ...template });
  }
  tx.objectStore("meta").put({ key: "user", value: snapshot.user });
  tx.objectStore("meta").put({ key: "taken_at", value: snapshot.taken_at });
  await tx.done;
}

export async function projects() {
  return (await db()).getAll("projects");
}

export async function items() {
  return (await db()).getAll("items");
}

export async function item(id) {
  return (await db()).get("items", id);
}

export async function template(digest) {
  return (await db()).get("templates", digest);
}

/** Every command, in the order made. */
export async function commands() {
  return (await db()).getAllFromIndex("commands", "seq");
}

export async function command(id) {
  return (await db()).get("commands", id);
}

export async function putCommand(cmd) {
  await (await db()).put("commands", cmd);
}

/** A command and the photos it cites, in one transaction: both kept, or neither. */
export async function addCommand(cmd, photos) {
  const database = await db();
  const tx = database.transaction(["meta", "commands", "photos"], "readwrite");
  const seq = ((await tx.objectStore("meta").get("seq"))?.value ?? 0) + 1;
  tx.objectStore("meta").put({ key: "seq", value: seq });
  for (const photo of photos) {
    if (!(await tx.objectStore("photos").get(photo.sha256))) tx.objectStore("photos").put(photo);
  }
  tx.objectStore("commands").put({ ...cmd, seq });
  await tx.done;
  return { ...cmd, seq };
}

/** Several commands moved at once, each only from a state it is in: a batch's answers in one transaction. */
export async function moveCommands(moves) {
  const tx = (await db()).transaction("commands", "readwrite");
  for (const { id, from, changes } of moves) {
    const cmd = await tx.store.get(id);
    if (cmd && from.includes(cmd.state)) tx.store.put({ ...cmd, ...changes });
  }
  await tx.done;
}

export async function photos() {
  return (await db()).getAll("photos");
}

export async function photo(sha256) {
  return (await db()).get("photos", sha256);
}

export async function putPhoto(row) {
  await (await db()).put("photos", row);
}
