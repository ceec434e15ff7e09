// The checker's Web Worker: boots Pyodide, installs the checker wheel, answers profiles.
//
// Messages in:  {id, profile}            (profile: a plain object; crosses as a JSON string)
// Messages out: {type: "stage", stage, n, of}   while starting: runtime → packages → checker
//               {type: "ready", ms, python}     once, when answers are instant
//               {type: "failed", stage, message} once, if the start fails
//               {id, answer} | {id, error: {field, zh, en}}   one per request
// Every file comes from this site (assets/checker/build.json says which): nothing else is fetched.

import { STAGES, markStarted, startPyodide } from "./boot.mjs";

let checkJson = null;
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
  const { pyodide, config } = await startPyodide(new URL("build.json", import.meta.url), report);

  report("checker");
  pyodide.runPython("import checker\nchecker.engine()");  // reads the catalogue, compiles conditions
  checkJson = pyodide.globals.get("checker").check_json;
  markStarted();
  const python = pyodide.runPython("import sys; sys.version.split()[0]");
  timings[stage] = Math.round(performance.now() - stageStart);
  postMessage({ type: "ready", ms: Math.round(performance.now() - t0), timings, python, build: config.build });
})();

ready.catch((err) => {
  postMessage({ type: "failed", stage, message: String(err && err.message || err) });
});

onmessage = async (event) => {
  const { id, profile } = event.data || {};
  if (id === undefined) return;
  try {
    await ready;
  } catch (err) {
    postMessage({ id, error: { field: null, zh: "查询程序没有启动成功。", en: String(err && err.message || err) } });
    return;
  }
  let reply;
  try {
    reply = JSON.parse(checkJson(JSON.stringify(profile)));
  } catch (err) {
    postMessage({ id, error: { field: null, zh: "查询时出错了。", en: String(err && err.message || err) } });
    return;
  }
  postMessage(reply.ok ? { id, answer: reply.answer } : { id, error: reply.error });
};
