// The app shell, cached at install, so the app opens in a stairwell with no signal. Shell files are answered
// from the cache at once and refreshed behind (a new version shows at the next opening); the API is never
// cached here (the app keeps its own picture in IndexedDB and its queue there).
const CACHE = "siteledger-field-v2";
const SHELL = [
  "/field/", "/field/app.css", "/field/manifest.webmanifest", "/field/icons/icon.svg", "/field/icons/icon-192.png",
  "/field/js/actions.js", "/field/js/app.js", "/field/js/api.js", "/field/js/db.js", "/field/js/dom.js", "/field/js/form.js",
  "/field/js/queue.js", "/field/js/sync.js", "/field/js/validate.js", "/field/js/views.js",
  "/static/vendor/idb/index.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("siteledger-field-") && n !== CACHE)
      .map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function shellKey(request) {
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (request.mode === "navigate" && url.pathname.startsWith("/field/")) return "/field/";
  return SHELL.includes(url.pathname) ? url.pathname : null;
}

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const key = shellKey(event.request);
  if (!key) return;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const cached = await cache.match(key);
    const fresh = fetch(key, { cache: "no-cache" }).then((response) => {
      if (response.ok) cache.put(key, response.clone());
      return response;
    });
    if (cached) {
      event.waitUntil(fresh.catch(() => undefined));
      return cached;
    }
    return fresh;
  }));
});
