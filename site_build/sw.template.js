// 养老服务明白卡 service worker, written by site_build/offline.py for one build.
// Precaches the guide pages, their assets, Pyodide, the checker wheel and the catalogue, so the
// site works offline after one visit. A new build has a new CACHE name: it installs beside the
// old one, takes over at once, and deletes the old cache. Only this site's own URLs are touched;
// the worker never sees profile data (the checker runs in the page's own worker, the share link
// lives in the URL fragment, which no request carries).
const CACHE = "__CACHE__";
const PRECACHE = __PRECACHE__;
const PREFIX = "yanglao-";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // "no-cache": revalidate against the HTTP cache, so files this visit already downloaded come
    // back as a small 304 instead of a second download.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "no-cache" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function cacheKey(url) {
  // /county/index.html and /county/ are the same page; the precache holds the directory form.
  const u = new URL(url);
  u.hash = "";
  u.search = "";
  if (u.pathname.endsWith("/index.html")) u.pathname = u.pathname.slice(0, -"index.html".length);
  return u.href;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(cacheKey(request.url));
    if (hit) return hit;
    try {
      const response = await fetch(request);
      // pages and files outside the precache (handout PDFs …) are kept once seen
      if (response.ok && response.type === "basic") cache.put(cacheKey(request.url), response.clone());
      return response;
    } catch (err) {
      if (request.mode === "navigate") {
        const fallback = await cache.match(new URL("404.html", self.registration.scope).href);
        if (fallback) return fallback;
      }
      throw err;
    }
  })());
});
