// The checker's Web Worker: boots Pyodide, installs the checker wheel, answers profiles.
//
// Messages in:  {id, profile}            (profile: a plain object; crosses as a JSON string)
// Messages out: {type: "stage", stage, n, of}   while starting: runtime → packages → checker
//               {type: "ready", ms, python, snapshot}   once, when answers are instant
//                                             (snapshot: "restored" when this start came from the
//                                             device's start-up snapshot, else "none"; boot.mjs)
//               {type: "snapshot", bytes, ms} | {type: "snapshot", error}   after the first start
//                                             on a device: the snapshot was stored (or not)
//               {type: "retry", message}      the stored snapshot did not start: it is deleted, and
//                                             the page starts a fresh worker (api.js)
//               {type: "failed", stage, message} once, if the start fails
//               {id, answer} | {id, error: {field, zh, en}}   one per request
// 走访 (issue #14; checker/visits.py, checker/README.md "走访"):
//   in:  {id, export: {visits, format: "xlsx"|"csv", as_of}}   the visit list as a register file
//   out: {id, bytes: ArrayBuffer, name, type, rows}  |  {id, error: {zh, en}}
//   in:  {id, import: {bytes: ArrayBuffer, name, as_of, county}}   a register opened as the visit list
//   out: {id, rows: [...], summary, register}  |  {id, error: {zh, en}}   (screening's own message)
//   The first such request loads what the checker's start does not need: the screening page's small
//   extra standard-library zip (csv, xml.etree, GB18030; named in ../screen/build.json) — so the
//   checker's first visit does not grow —, every county's catalogue entry not added yet, and, after
//   a start from a snapshot, the wheel's files.
// Every file comes from this site (assets/checker/build.json says which): nothing else is fetched.
// The catalogue comes in parts (boot.mjs startCatalogue): a county's entry is fetched before the first
// profile that names the county (all of them at the start while the catalogue is small).
// The worker's name "checker:no-snapshot" (api.js) starts without snapshots (tests, benchmarks).

import { STAGES, markStarted, startPyodide, startCatalogue, addExtraStdlib, takeBytes } from "./boot.mjs";

// A fixed test profile: its answer must be the same from a restored snapshot as from a normal start.
const PROBE = JSON.stringify({ as_of: "2026-01-01", hukou: "330324", birth_date: "1936-05-04", economic: "dibao", care_level: "severe" });

let checkJson = null;
let ensure = null;       // ensure(profileJSON): the counties that profile needs are added (boot.mjs startCatalogue)
let started = null;      // what startPyodide returned
let repaired = false;    // a restored start that needed the wheel's files after all (see onmessage)
let stage = "config";
const t0 = performance.now();

const timings = {};
let stageStart = performance.now();

function report(name) {
  timings[stage] = Math.round(performance.now() - stageStart);
  stageStart = performance.now();
  stage = name;
  postMessage({ type: "stage", stage: name, n: STAGES.indexOf(name) + 1, of: STAGES.length });
}

const ready = (async () => {
  started = await startPyodide(new URL("build.json", import.meta.url), report,
                               { snapshots: self.name !== "checker:no-snapshot" });
  const { pyodide, config, snapshots } = started;

  report("checker");
  pyodide.runPython("import checker");
  ensure = await startCatalogue(pyodide, config, started.at);   // the index (and, if small, every county)
  checkJson = pyodide.globals.get("checker").check_json;
  const probeAnswer = async () => {
    await ensure(PROBE);
    return checkJson(PROBE);
  };
  if (started.restored && !(await snapshots.verify(started.probe, probeAnswer))) {
    await snapshots.drop();
    throw Object.assign(new Error("snapshot: a different answer to the test profile"), { retry: true });
  }
  markStarted();
  const python = pyodide.runPython("import sys; sys.version.split()[0]");
  timings[stage] = Math.round(performance.now() - stageStart);
  postMessage({ type: "ready", ms: Math.round(performance.now() - t0), timings, python, build: config.build,
                snapshot: started.restored ? "restored" : "none" });
  if (!started.restored && snapshots && snapshots.canMake) {
    // in this same task, before any request is answered: the copy holds no profile
    snapshots.save(pyodide, probeAnswer).then((result) => postMessage({ type: "snapshot", ...result }));
  }
})();

ready.catch((err) => {
  if (err && err.retry) postMessage({ type: "retry", message: String(err.message) });
  else postMessage({ type: "failed", stage, message: String(err && err.message || err) });
});

// A restored snapshot holds the imported checker but not the wheel's files: should an answer need a
// module the snapshot did not import, install the wheel as a normal start does, forget the
// snapshot, and answer again.
async function answer(text) {
  try {
    return JSON.parse(checkJson(text));
  } catch (err) {
    if (!started.restored || repaired) throw err;
    repaired = true;
    await started.snapshots.drop();
    await started.pyodide.loadPackage(started.config.package, { checkIntegrity: true, messageCallback: () => {} });
    return JSON.parse(checkJson(text));
  }
}

// ---------------------------------------------------------------- 走访: export and import

let visitsLoading = null;  // Promise of checker.visits: loaded once, even when two requests come together

function loadVisits() {
  if (!visitsLoading) visitsLoading = loadVisitsOnce().catch((err) => { visitsLoading = null; throw err; });
  return visitsLoading;
}

async function loadVisitsOnce() {
  const { pyodide } = started;
  const screenConfigURL = new URL("../screen/build.json", import.meta.url);
  const response = await fetch(screenConfigURL, { cache: "no-cache" });
  if (!response.ok) throw new Error(`screen/build.json: HTTP ${response.status}`);
  const screenConfig = await response.json();
  if (screenConfig.extra_stdlib) await addExtraStdlib(pyodide, new URL(screenConfig.extra_stdlib, screenConfigURL));
  try {
    pyodide.runPython("import checker.visits");
  } catch (err) {
    if (!started.restored) throw err;
    // a start from the snapshot holds the imported checker, not the wheel's files: install them
    await pyodide.loadPackage(started.config.package, { checkIntegrity: true, messageCallback: () => {} });
    pyodide.runPython("import importlib; importlib.invalidate_caches()\nimport checker.visits");
  }
  return pyodide.pyimport("checker.visits");
}

const TYPES = { xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", csv: "text/csv;charset=utf-8" };

async function visitsRequest(id, msg) {
  try {
    await ready;
  } catch (err) {
    postMessage({ id, error: { zh: "查询程序没有启动成功。", en: String(err && err.message || err) } });
    return;
  }
  let visits;
  try {
    visits = await loadVisits();
  } catch (err) {
    postMessage({ id, error: { zh: "导出导入的程序没有加载成功（第一次使用要联网，或先在“出门前下载”）。",
                               en: String(err && err.message || err) } });
    return;
  }
  try {
    // the counties the visits (or the register's rows) name, if not here yet (boot.mjs startCatalogue)
    if (msg.export) {
      for (const v of msg.export.visits || []) await ensure(JSON.stringify((v && v.profile) || {}));
    } else {
      const { bytes, name = "register.csv", as_of = null, county = null } = msg.import;
      await ensure(JSON.parse(started.pyodide.pyimport("checker.screen").wanted_json(new Uint8Array(bytes), JSON.stringify({ name, as_of, county }))));
    }
  } catch (err) {
    postMessage({ id, error: { zh: "有的县（市）的服务清单没有下载下来：请联网后再试一次。", en: String(err && err.message || err) } });
    return;
  }
  if (msg.export) {
    const { format = "xlsx", as_of = null } = msg.export;
    try {
      const options = JSON.stringify({ format, as_of });
      const bytes = takeBytes(visits.export_json(JSON.stringify(msg.export.visits || []), options));
      const day = as_of || new Date().toISOString().slice(0, 10);
      postMessage({ id, bytes, name: `走访登记表-${day}.${format}`, type: TYPES[format] || "application/octet-stream",
                    rows: (msg.export.visits || []).length }, [bytes]);
    } catch (err) {
      postMessage({ id, error: { zh: "导出时出错了。", en: String(err && err.message || err) } });
    }
    return;
  }
  try {
    const { bytes, name = "register.csv", as_of = null, county = null } = msg.import;
    const reply = JSON.parse(visits.from_register_json(new Uint8Array(bytes), JSON.stringify({ name, as_of, county })));
    if (!reply.ok) postMessage({ id, error: reply.error });
    else postMessage({ id, rows: reply.rows, summary: reply.summary, register: reply.register });
  } catch (err) {
    postMessage({ id, error: { zh: "读取登记表时出错了。", en: String(err && err.message || err) } });
  }
}

onmessage = async (event) => {
  const { id, profile } = event.data || {};
  if (id === undefined) return;
  if (event.data.export || event.data.import) {
    await visitsRequest(id, event.data);
    return;
  }
  try {
    await ready;
  } catch (err) {
    postMessage({ id, error: { field: null, zh: "查询程序没有启动成功。", en: String(err && err.message || err) } });
    return;
  }
  const text = JSON.stringify(profile);
  try {
    await ensure(text);    // the entries of the counties this profile names, if not here yet
  } catch (err) {
    postMessage({ id, error: { field: "hukou", zh: "这个县（市）的服务目录没有下载下来：请联网后再查一次。要在没有网络的地方查，先在有网络时打开一次这个县（市）的页面，手机会把它存下来。",
                               en: `the county's catalogue entry could not be fetched: ${String(err && err.message || err)}` } });
    return;
  }
  let reply;
  try {
    reply = await answer(text);
  } catch (err) {
    postMessage({ id, error: { field: null, zh: "查询时出错了。", en: String(err && err.message || err) } });
    return;
  }
  postMessage(reply.ok ? { id, answer: reply.answer } : { id, error: reply.error });
};
