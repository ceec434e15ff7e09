// window.yanglaoChecker: the page's one door to the checker worker.
//
//   yanglaoChecker.ready               Promise: resolves {ms, python, build} when answers are instant,
//                                      rejects if Pyodide cannot start (old browser, too little memory)
//   yanglaoChecker.evaluate(profile)   Promise of the answer object: the same JSON that
//                                      `python -m checker check` prints for that profile.
//                                      Bad input rejects with an Error carrying {field, zh, en}.
//   yanglaoChecker.onStage(fn)         fn({stage, n, of}) for each start-up stage (runtime, packages, checker)
//   yanglaoChecker.snapshot            after ready: "restored" (started from this device's start-up
//                                      snapshot, boot.mjs) or "none"; .snapshotSaved: {bytes, ms} or
//                                      {error} once the first start stored one. A snapshot that does not
//                                      start is deleted by the worker, and a fresh worker starts the
//                                      normal way: the page only sees a slower start.
//   yanglaoChecker.exportVisits(visits, format = "xlsx", {as_of})
//                                      走访 (issue #14): Promise of {bytes: ArrayBuffer, blob, name, type, rows}:
//                                      the visit list (visits.js records) as a register file that
//                                      `python -m checker screen` and the 批量排摸 page read back to the
//                                      same answers, one row per visit (checker/visits.py).
//   yanglaoChecker.importRegister(file, {as_of, county})
//                                      a register (File or Blob: csv, xlsx, xls) as draft visits: Promise of
//                                      {register, rows, summary}, one row per row screening outputs, each
//                                      {line, name, id_number, village, note, visited, profile, questions,
//                                      error, hint, total, result, register_cells, source}; a file that is
//                                      not a register rejects with an Error carrying {zh, en} (screening's text).
//                                      The first export or import loads a small extra file (~30 KB).
//   Set window.yanglaoCheckerSnapshots = false before this module runs to start without snapshots
//   (tests and benchmarks).
//
// Nothing is sent anywhere: the profile goes to the worker in this tab and nowhere else.

const listeners = new Set();
let lastStage = null;
let worker = null;
let nextId = 1;
const pending = new Map();

function fail(reason) {
  for (const { reject } of pending.values()) reject(reason);
  pending.clear();
}

const ready = new Promise((resolve, reject) => {
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") {
    reject(new Error("这个浏览器太旧，不能运行查询程序（缺少 WebAssembly 或 Worker）。"));
    return;
  }
  let withSnapshots = false;
  let isReady = false;
  const start = (snapshots) => {
    withSnapshots = snapshots;
    worker = new Worker(new URL("worker.mjs", import.meta.url),
                        { type: "module", name: snapshots ? "checker" : "checker:no-snapshot" });
    worker.onmessage = onMessage;
    worker.onerror = onError;
  };
  const onMessage = (event) => {
    const msg = event.data;
    if (msg.type === "retry") {
      // the stored snapshot did not start (the worker deleted it): a fresh worker, the normal way
      worker.terminate();
      yanglaoChecker.snapshotRetry = msg.message;
      start(false);
    } else if (msg.type === "snapshot") {
      yanglaoChecker.snapshotSaved = msg.error ? { error: msg.error } : { bytes: msg.bytes, ms: msg.ms };
    } else if (msg.type === "stage") {
      lastStage = msg;
      for (const fn of listeners) fn(msg);
    } else if (msg.type === "ready") {
      yanglaoChecker.readyAt = performance.now();   // ms since navigation, for bench/checker_browser.py
      yanglaoChecker.timings = msg.timings;         // ms per start-up stage, measured in the worker
      yanglaoChecker.snapshot = msg.snapshot;
      isReady = true;
      resolve(msg);
    } else if (msg.type === "failed") {
      const err = new Error(msg.message);
      err.stage = msg.stage;
      reject(err);
      fail(err);
    } else if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve: ok, reject: no, whole } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) {
        const err = new Error(msg.error.zh || msg.error.en);
        Object.assign(err, msg.error);
        no(err);
      } else {
        ok(whole ? msg : msg.answer);
      }
    }
  };
  const onError = (event) => {
    if (withSnapshots && !isReady) {
      // the worker died while starting (a snapshot too big for this phone's memory …): forget the
      // snapshots and start once more the normal way; a second failure is a real one
      worker.terminate();
      yanglaoChecker.snapshotRetry = event.message || "worker error";
      forgetSnapshots();
      start(false);
      return;
    }
    const err = new Error(event.message || "worker error");
    reject(err);
    fail(err);
  };
  try {
    start(window.yanglaoCheckerSnapshots !== false);
  } catch (err) {
    reject(err);
  }
});
ready.catch(() => {});  // handled by whoever awaits it; avoid an unhandled-rejection warning

// Mark every stored start-up snapshot as failed (boot.mjs SnapshotStore: <key>/failed), so this
// device stops making them for this build.
async function forgetSnapshots() {
  try {
    const cache = await caches.open("checker-start-snapshot");
    for (const request of await cache.keys()) {
      if (request.url.endsWith("/failed")) continue;
      await cache.delete(request);
      await cache.put(request.url + "/failed", new Response("failed"));
    }
  } catch (err) { /* nothing stored */ }
}

function evaluate(profile) {
  return ready.then(() => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, profile });
  }));
}

// A request whose reply is the whole message (走访 export and import).
function request(message, transfer = []) {
  return ready.then(() => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, whole: true });
    worker.postMessage({ id, ...message }, transfer);
  }));
}

async function exportVisits(visits, format = "xlsx", options = {}) {
  // plain JSON copies: a visit list crosses to the worker as data, nothing else
  const list = JSON.parse(JSON.stringify(visits || []));
  const msg = await request({ export: { visits: list, format, as_of: options.as_of || null } });
  return { bytes: msg.bytes, blob: new Blob([msg.bytes], { type: msg.type }), name: msg.name, type: msg.type, rows: msg.rows };
}

async function importRegister(file, options = {}) {
  const bytes = file instanceof ArrayBuffer ? file.slice(0) : await file.arrayBuffer();
  const name = (file && file.name) || options.name || "register.csv";
  const msg = await request({ import: { bytes, name, as_of: options.as_of || null, county: options.county || null } }, [bytes]);
  return { register: msg.register, rows: msg.rows, summary: msg.summary };
}

function onStage(fn) {
  listeners.add(fn);
  if (lastStage) fn(lastStage);
  return () => listeners.delete(fn);
}

export const yanglaoChecker = { ready, evaluate, onStage, exportVisits, importRegister, readyAt: null, snapshot: null, snapshotSaved: null };
window.yanglaoChecker = yanglaoChecker;
