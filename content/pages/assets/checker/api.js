// window.yanglaoChecker: the page's one door to the checker worker.
//
//   yanglaoChecker.ready               Promise: resolves {ms, python, build} when answers are instant,
//                                      rejects if Pyodide cannot start (old browser, too little memory)
//   yanglaoChecker.evaluate(profile)   Promise of the answer object: the same JSON that
//                                      `python -m checker check` prints for that profile.
//                                      Bad input rejects with an Error carrying {field, zh, en}.
//   yanglaoChecker.onStage(fn)         fn({stage, n, of}) for each start-up stage (runtime, packages, checker)
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
  try {
    worker = new Worker(new URL("worker.mjs", import.meta.url), { type: "module" });
  } catch (err) {
    reject(err);
    return;
  }
  worker.onmessage = (event) => {
    const msg = event.data;
    if (msg.type === "stage") {
      lastStage = msg;
      for (const fn of listeners) fn(msg);
    } else if (msg.type === "ready") {
      yanglaoChecker.readyAt = performance.now();   // ms since navigation, for bench/checker_browser.py
      yanglaoChecker.timings = msg.timings;         // ms per start-up stage, measured in the worker
      resolve(msg);
    } else if (msg.type === "failed") {
      const err = new Error(msg.message);
      err.stage = msg.stage;
      reject(err);
      fail(err);
    } else if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve: ok, reject: no } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) {
        const err = new Error(msg.error.zh || msg.error.en);
        Object.assign(err, msg.error);
        no(err);
      } else {
        ok(msg.answer);
      }
    }
  };
  worker.onerror = (event) => {
    const err = new Error(event.message || "worker error");
    reject(err);
    fail(err);
  };
});
ready.catch(() => {});  // handled by whoever awaits it; avoid an unhandled-rejection warning

function evaluate(profile) {
  return ready.then(() => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, profile });
  }));
}

function onStage(fn) {
  listeners.add(fn);
  if (lastStage) fn(lastStage);
  return () => listeners.delete(fn);
}

export const yanglaoChecker = { ready, evaluate, onStage, readyAt: null };
window.yanglaoChecker = yanglaoChecker;
