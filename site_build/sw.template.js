// 养老服务明白卡 service worker, written by site_build/offline.py for one build.
// Precaches the site's shell; a county's pages when one of them is visited (or the checker answers
// for that county); Pyodide, the checker wheel and the catalogue when a tool page asks — so what a
// reader used works offline after one visit. A new build has a new CACHE name: it installs beside the
// old one, takes over at once, and deletes the old cache. Only this site's own URLs are touched;
// the worker never sees profile data (the checker runs in the page's own worker, the share link
// lives in the URL fragment, which no request carries).
const CACHE = "__CACHE__";
const PRECACHE = __PRECACHE__;
// Heavy files only a tool page needs (Pyodide, the wheel, the stdlib: ~4 MB compressed) are cached
// when that page asks (offline.js, after the tool is ready, so they come from the HTTP cache), not
// on a reader's first visit to a guide page. A new build re-caches the groups the old one had.
const GROUPS = __GROUPS__;
// "出门前下载" (offline.js, a tap on the home, checker or screening page): the shell and these groups,
// file by file with progress, so a cadre can go where there is no signal. SIZES: [raw, bytes on the
// wire (brotli where the host serves it)] of each of those files, from the build.
const PREPARE = __PREPARE__;
const SIZES = __SIZES__;
const PREFIX = "yanglao-";
const MARK = "__offline_group__/";

// "no-cache": revalidate against the HTTP cache, so files this visit already downloaded come back
// as a small 304 instead of a second download.
const fresh = (urls) => urls.map((url) => new Request(url, { cache: "no-cache" }));

// A county's pages ("county/zhejiang/yongjia/") are listed in that folder's offline.json.
const COUNTY = /^county\/([a-z0-9-]+\/){2}$/;

async function groupURLs(name) {
  if (GROUPS[name]) return GROUPS[name];
  if (!COUNTY.test(name)) return null;
  const folder = name.slice("county/".length);
  const response = await fetch(new URL(folder + "offline.json", self.registration.scope).href, { cache: "no-cache" });
  const urls = response.ok ? await response.json() : null;
  return Array.isArray(urls) && urls.every((u) => typeof u === "string" && u.startsWith(folder)) ? urls : null;
}

async function cacheGroup(cache, name) {
  const mark = new URL(MARK + name, self.registration.scope).href;
  if (await cache.match(mark)) return true;
  const urls = await groupURLs(name);
  if (!urls) return false;
  await cache.addAll(fresh(urls));
  await cache.put(mark, new Response(name));
  return true;
}

// The groups an older cache of this site had (its marks), to cache again after a new build.
async function oldGroups() {
  const names = new Set();
  for (const key of await caches.keys()) {
    if (!key.startsWith(PREFIX) || key === CACHE) continue;
    for (const request of await (await caches.open(key)).keys()) {
      const at = request.url.indexOf(MARK);
      if (at >= 0) names.add(decodeURIComponent(request.url.slice(at + MARK.length)));
    }
  }
  return names;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(fresh(PRECACHE));
    for (const name of await oldGroups()) {
      try {
        await cacheGroup(cache, name);
      } catch (err) { /* a county that is gone, or no network: cached again when visited */ }
    }
    await self.skipWaiting();
  })());
});

// One "prepare" message downloads what is missing for at most SLICE ms, then answers "more" and
// the page asks again (a single event may not keep a service worker alive for many minutes on a
// slow line). What is in the cache stays there: a tap after a failure resumes where it stopped.
const SLICE = 60_000;
const PARALLEL = 3;

function prepareURLs() {
  return [...new Set([PRECACHE, ...PREPARE.map((name) => GROUPS[name] || [])].flat())];
}

async function prepare(port) {
  const scope = self.registration.scope;
  const cache = await caches.open(CACHE);
  const urls = prepareURLs();
  const state = { files: urls.length, done: 0, total: 0, bytes: 0 };
  const todo = [];
  for (const url of urls) {
    const [, wire] = SIZES[url] || [0, 0];
    state.total += wire;
    if (await cache.match(new URL(url, scope).href)) {
      state.done += 1;
      state.bytes += wire;
    } else {
      todo.push(url);
    }
  }
  let last = 0;
  const report = (force) => {
    const now = Date.now();
    if (force || now - last > 250) {
      last = now;
      port.postMessage({ type: "progress", ...state });
    }
  };
  report(true);
  const until = Date.now() + SLICE;
  const one = async (url) => {
    const [raw, wire] = SIZES[url] || [0, 0];
    const request = new Request(new URL(url, scope).href, { cache: "no-cache" });
    const response = await fetch(request);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    // count the body as it arrives (raw bytes, scaled to the wire's) while the cache stores it
    const counting = response.clone();
    const stored = cache.put(request, response);
    stored.catch(() => {});   // awaited below; a broken body fails the reader first
    const reader = counting.body ? counting.body.getReader() : null;
    let seen = 0;
    const start = state.bytes;
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      seen += value.byteLength;
      const part = raw ? Math.min(seen / raw, 1) * wire : 0;
      state.bytes = Math.max(state.bytes, start + part);
      report(false);
    }
    await stored;
  };
  let more = false;
  let failed = null;
  const lane = async () => {
    while (todo.length && !failed) {
      if (Date.now() > until) { more = true; return; }
      const url = todo.shift();
      try {
        await one(url);
      } catch (err) {
        failed = failed || String(err && err.message || err);
        return;
      }
      state.done += 1;
      report(true);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  // exact totals (the scaled counts of files fetched side by side overlap)
  state.bytes = 0;
  state.done = 0;
  for (const url of urls) {
    if (await cache.match(new URL(url, scope).href)) {
      state.bytes += (SIZES[url] || [0, 0])[1];
      state.done += 1;
    }
  }
  if (failed) return { type: "failed", message: failed, ...state };
  if (more || todo.length) return { type: "more", ...state };
  for (const name of PREPARE) await cache.put(new URL(MARK + name, scope).href, new Response(name));
  return { type: "done", ...state };
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const port = event.ports && event.ports[0];
  if (data.type === "prepare" && port) {
    event.waitUntil(prepare(port).then((answer) => port.postMessage(answer),
      (err) => port.postMessage({ type: "failed", message: String(err && err.message || err) })));
    return;
  }
  if (data.type !== "cache-group") return;
  event.waitUntil((async () => {
    let ok = false;
    try {
      ok = await cacheGroup(await caches.open(CACHE), data.group);
    } catch (err) {
      ok = false;
    }
    if (event.ports && event.ports[0]) event.ports[0].postMessage({ group: data.group, ok });
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
    // 删除离线数据 (offline.js) deleted the cache and unregistered this worker, which still serves the
    // open pages until they close: do not make the cache again behind the person's back
    if (!(await caches.has(CACHE))) return fetch(request);
    const cache = await caches.open(CACHE);
    const hit = await cache.match(cacheKey(request.url));
    if (hit) return hit;
    try {
      const response = await fetch(request);
      // pages and files outside the precache (handout PDFs …) are kept once seen
      if (response.ok && response.type === "basic") cache.put(cacheKey(request.url), response.clone());
      return response;
    } catch (err) {
      // no network and not kept: say so, rather than "page not found" (the page may well exist)
      if (request.mode === "navigate") return notSaved(url);
      throw err;
    }
  })());
});

// The page shown when a page or handout was never opened here and there is no network now.
// Plain Chinese; no script, so the pages' Content-Security-Policy has nothing to allow.
function notSaved(url) {
  const home = self.registration.scope;
  const pdf = /\.pdf$/i.test(url.pathname);
  const what = pdf ? "这份打印材料（PDF）" : "这一页";
  const html = `<!doctype html>
<html lang="zh"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>没有存到这部手机上 - 养老服务明白卡</title>
<link rel="stylesheet" href="${home}assets/site.css"></head>
<body><main class="md-content md-typeset mb-page" id="mb-main" data-offline-not-saved="${pdf ? "pdf" : "page"}">
<h1>${what}没有存到这部手机上</h1>
<p>现在没有网络，${what}以前没有在这部手机（电脑）上打开过，所以没有存下来，打不开。</p>
<p>等有网络的时候再打开一次，以后没有网络也能看。</p>
<p><a class="mb-button" href="${home}">回到首页</a></p>
</main></body></html>`;
  return new Response(html, { status: 503, statusText: "Offline", headers: { "Content-Type": "text/html; charset=utf-8" } });
}
