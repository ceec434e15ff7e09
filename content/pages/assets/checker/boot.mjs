// Starts Pyodide with the checker wheel inside a tool's Web Worker (the checker, batch screening).
// Every file comes from this site: `build.json` beside the worker names the Pyodide runtime, the
// trimmed standard library, the lock file, the wheel and the catalogue's index (startCatalogue).
//
// startPyodide(configURL, report, {snapshots}) → {pyodide, config, at, restored, snapshots};
// report(stage) is called with "runtime", then "packages", before each stage; the caller reports
// "checker" for its own setup.
//
// Start-up snapshots ({snapshots: true}, the checker): starting Pyodide, installing the wheel and
// importing the checker is the same work on every visit (seconds on a cheap phone). So after the
// first start on a device, the worker copies Pyodide's memory as it is then (before any profile has
// been answered: the copy holds no one's data), compresses it and keeps it in the browser's Cache
// Storage under this build's id; a later start restores that copy instead. A copy that is missing,
// of another build, damaged, or that does not give the same answer to a fixed test profile is
// deleted and the start falls back to the normal one, silently (SnapshotStore below). This uses
// Pyodide's own snapshot support (loadPyodide's _makeSnapshot/_loadSnapshot,
// pyodide.makeMemorySnapshot()), which is marked private in Pyodide 314.

export const STAGES = ["runtime", "packages", "checker"];

// Pyodide 314 warns about a failed WebAssembly download or instantiation ("wasm instantiation failed!",
// out of memory …) to the console and then never settles. Watch the console so such a start fails
// loudly instead of waiting forever. One watcher per start attempt.
let failAttempt = null;
for (const level of ["error", "warn"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    original(...args);
    const text = args.map(String).join(" ");
    if (failAttempt && /instantiation failed|Aborted\(|out of memory|Failed to fetch|NetworkError/i.test(text)) {
      failAttempt(new Error(text.slice(0, 300)));
    }
  };
}
self.addEventListener("unhandledrejection", (event) => {
  if (failAttempt) failAttempt(event.reason instanceof Error ? event.reason : new Error(String(event.reason)));
});

function watchStart() {
  return new Promise((_, reject) => { failAttempt = reject; });
}

// Run fn once Pyodide's WebAssembly has been compiled, i.e. has arrived (Pyodide compiles it as it
// streams in), or at once where there is no streaming compile.
function afterWasm(fn) {
  const streaming = WebAssembly.instantiateStreaming;
  if (typeof streaming !== "function") {
    fn();
    return;
  }
  WebAssembly.instantiateStreaming = function (...args) {
    WebAssembly.instantiateStreaming = streaming;
    const result = streaming.apply(this, args);
    result.then(fn, fn);
    return result;
  };
}

export async function startPyodide(configURL, report, options = {}) {
  const response = await fetch(configURL, { cache: "no-cache" });
  if (!response.ok) throw new Error(`build.json: HTTP ${response.status}`);
  const config = await response.json();
  const at = (path) => new URL(path, configURL).href;
  const snapshots = options.snapshots ? SnapshotStore.open(configURL, config) : null;
  const saved = snapshots ? await snapshots.load() : null;
  // A first start downloads the wheel while Python starts (Pyodide itself would ask for it only after
  // Python has started: one more round trip and 0.1 MB at the very end). Not earlier: on a slow line
  // every byte shares it, and until Pyodide's WebAssembly has arrived (the tool's page preloads it,
  // checker_assets.preload) nothing else can start. loadPackage below then finds the wheel in the
  // HTTP cache (immutable), or joins its download.
  if (!saved && config.wheel) afterWasm(() => fetch(at(config.wheel)).then((r) => r.arrayBuffer()).catch(() => {}));

  report("runtime");
  const indexURL = at(config.pyodide.index);
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  const settings = {
    indexURL,
    stdLibURL: at(config.stdlib),
    lockFileURL: at(config.lock),
    stdout: () => {},
    stderr: () => {},
  };
  if (saved) {
    try {
      const pyodide = await Promise.race([watchStart(), loadPyodide({ ...settings, _loadSnapshot: saved.bytes })]);
      return { pyodide, config, at, restored: true, snapshots, probe: saved.probe };
    } catch (err) {
      // this device's copy does not start: forget it, and start again the normal way in a fresh worker
      await snapshots.drop();
      throw Object.assign(new Error(`snapshot: ${err && err.message || err}`), { retry: true });
    }
  }
  const pyodide = await Promise.race([watchStart(), loadPyodide(
    snapshots && snapshots.canMake ? { ...settings, _makeSnapshot: true } : settings)]);

  report("packages");
  const failures = [];
  const loaded = await Promise.race([watchStart(), pyodide.loadPackage(config.package, {
    checkIntegrity: true,
    messageCallback: () => {},
    errorCallback: (m) => failures.push(m),
  })]);
  if (!loaded.some((p) => p.name === config.package)) {
    throw new Error(`${config.package} did not load: ${failures.join("; ")}`);
  }
  return { pyodide, config, at, restored: false, snapshots };
}

// The catalogue in parts (checker/catalogue.py split; site_build/checker_assets.py writes them):
// build.json names the index, which names each county's entry (a path from the site's root). The
// engine starts from the index (unless a restored snapshot holds it already); the function returned,
// ensure(profileJSON), fetches and adds the entries that profile's answer needs (checker.wanted_json),
// every county's for null; ensure([[code, file], …]) those named (a register's: screen.wanted_json). With config.all_at_start (a small catalogue: today's) every entry is added
// here, at the start, so no request ever depends on a profile.
export async function startCatalogue(pyodide, config, at) {
  const checker = pyodide.pyimport("checker");
  if (!checker.started()) {
    const response = await fetch(at(config.catalogue));
    if (!response.ok) throw new Error(`${config.catalogue}: HTTP ${response.status}`);
    checker.start(await response.text());
  }
  const root = at(config.root);     // the site's root, from build.json's folder
  let complete = false;   // every county added: nothing more to ask Python for
  const ensure = async (what) => {
    if (complete) return;
    const wanted = Array.isArray(what) ? what : JSON.parse(checker.wanted_json(what ?? "null"));   // JS null is not Python None
    if (!wanted.length) return;
    const texts = await Promise.all(wanted.map(async ([code, file]) => {
      const response = await fetch(new URL(file, root));
      if (!response.ok) throw new Error(`${file}: HTTP ${response.status}`);
      return JSON.stringify(code) + ":" + (await response.text());
    }));
    checker.add_counties_json("{" + texts.join(",") + "}");   // one JSON object: added (and compiled) at once
  };
  if (config.all_at_start) {
    await ensure(null);   // throws if an entry could not be fetched: then `complete` stays false
    complete = true;
  }
  return ensure;
}

// Call once the tool is ready: later console warnings no longer count as a failed start.
export function markStarted() {
  failAttempt = null;
}

// The standard-library files screening needs beyond the checker's (csv, xml.etree, the GB18030 codec):
// the screening build's small zip, put on sys.path (the same path and lines as site_build/screen_assets.py
// EXTRA_PATH_CODE). Used by the screening worker at its start and by the checker's worker at its first
// 走访 export or import; a second call does nothing.
export async function addExtraStdlib(pyodide, url) {
  if (pyodide.FS.analyzePath("/lib/screen-stdlib.zip").exists) return;
  const extra = await fetch(url);
  if (!extra.ok) throw new Error(`${url}: HTTP ${extra.status}`);
  pyodide.FS.writeFile("/lib/screen-stdlib.zip", new Uint8Array(await extra.arrayBuffer()));
  pyodide.runPython("import sys, encodings\nsys.path.append('/lib/screen-stdlib.zip')\n" +
                    "encodings.__path__.append('/lib/screen-stdlib.zip' + '/encodings')\n");
}

// Python bytes → a fresh ArrayBuffer that can be transferred to the page (null for None).
export function takeBytes(pyBytes) {
  if (pyBytes === undefined || pyBytes === null) return null;
  const buffer = pyBytes.getBuffer("u8");
  try {
    return buffer.data.slice().buffer;
  } finally {
    buffer.release();
    pyBytes.destroy();
  }
}

// ---------------------------------------------------------------- start-up snapshots

const CACHE = "checker-start-snapshot";   // not "yanglao-…": the service worker replaces those per build
const CHUNK = 1 << 20;

async function sha256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// A stream of `bytes` in 1 MB pieces, so compressing 30 MB leaves the worker free to answer between them.
function chunks(bytes) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(at, at + CHUNK));
      at += CHUNK;
    },
  });
}

export class SnapshotStore {
  // One entry per tool: <folder of build.json>/__snapshot__/<build id>, gzip, with the SHA-256 of the
  // answer to a fixed test profile (header X-Probe); a failed one leaves __snapshot__/<build>/failed,
  // so a device where restoring does not work stops making copies for this build.
  static open(configURL, config) {
    if (typeof caches === "undefined" || typeof CompressionStream !== "function" ||
        typeof DecompressionStream !== "function" || !config.build) return null;
    return new SnapshotStore(configURL, config);
  }

  constructor(configURL, config) {
    this.key = new URL(`__snapshot__/${config.build}`, configURL).href;
    this.failedKey = this.key + "/failed";
    this.prefix = new URL("__snapshot__/", configURL).href;
    this.canMake = false;
  }

  async load() {
    try {
      const cache = await caches.open(CACHE);
      if (await cache.match(this.failedKey)) return null;
      const hit = await cache.match(this.key);
      if (!hit) {
        this.canMake = true;
        return null;
      }
      const probe = hit.headers.get("X-Probe");
      const bytes = new Uint8Array(await new Response(hit.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
      return { bytes, probe };
    } catch (err) {
      await this.drop();
      return null;
    }
  }

  // Copy Pyodide's memory now (synchronously: call it before answering anything), then compress and
  // store it in the background. Never throws; resolves {bytes, ms} or {error}.
  save(pyodide, probeAnswer) {
    const t0 = performance.now();
    let bytes;
    const packages = { ...pyodide.loadedPackages };
    try {
      // Pyodide's snapshot check expects its package list as it was before loadPackage
      for (const name of Object.keys(packages)) delete pyodide.loadedPackages[name];
      bytes = pyodide.makeMemorySnapshot();
    } catch (err) {
      return Promise.resolve({ error: String(err && err.message || err) });
    } finally {
      Object.assign(pyodide.loadedPackages, packages);
    }
    return (async () => {
      try {
        const probe = await sha256(await probeAnswer());
        const packed = await new Response(chunks(bytes).pipeThrough(new CompressionStream("gzip"))).blob();
        bytes = null;
        const cache = await caches.open(CACHE);
        for (const request of await cache.keys()) {
          if (request.url.startsWith(this.prefix)) await cache.delete(request);   // older builds
        }
        await cache.put(this.key, new Response(packed, {
          headers: { "Content-Type": "application/octet-stream", "X-Probe": probe },
        }));
        return { bytes: packed.size, ms: Math.round(performance.now() - t0) };
      } catch (err) {
        return { error: String(err && err.message || err) };
      }
    })();
  }

  // After a restore: the same answer to the test profile as when the copy was made?
  async verify(probe, probeAnswer) {
    return !!probe && probe === await sha256(await probeAnswer());
  }

  async drop() {
    try {
      const cache = await caches.open(CACHE);
      await cache.delete(this.key);
      await cache.put(this.failedKey, new Response("failed"));
    } catch (err) { /* nothing stored, nothing to forget */ }
  }
}
