// The 批量排摸 page's Web Worker: boots Pyodide with the checker wheel (the same runtime, wheel and
// lock as the single-profile checker, see assets/screen/build.json) and screens registers on the device.
//
// Messages in:  {id, name, bytes: ArrayBuffer, as_of, out_format: "xlsx"|"csv", annex1_format: null|"xlsx"|"csv"}
// Messages out: {type: "stage", stage, n, of}        while starting: runtime → packages → checker
//               {type: "ready", ms, python, build}   once
//               {type: "failed", stage, message}     once, if the start fails
//               {id, type: "progress", done, total}  while screening (every ~2.5 % of the rows)
//               {id, summary, output: ArrayBuffer, annex1: ArrayBuffer|null, ms}
//               {id, error: {zh, en}}                 a file that is not a register at all
// Python does the work (checker.screen.screen_json); only JSON text and bytes cross the boundary.
// Nothing is fetched from anywhere but this site, and nothing is sent anywhere.

import { STAGES, addExtraStdlib, markStarted, startCatalogue, startPyodide, takeBytes } from "../checker/boot.mjs";

let pyodide = null;
let screenJson = null;
let wantedJson = null;   // screen.wanted_json: the counties a register names (a large catalogue)
let ensure = null;       // boot.mjs startCatalogue
let allAtStart = true;
let stage = "config";
const t0 = performance.now();

function report(name) {
  stage = name;
  postMessage({ type: "stage", stage: name, n: STAGES.indexOf(name) + 1, of: STAGES.length });
}

const ready = (async () => {
  let config, at;
  ({ pyodide, config, at } = await startPyodide(new URL("build.json", import.meta.url), report));

  report("checker");
  if (config.extra_stdlib) await addExtraStdlib(pyodide, at(config.extra_stdlib));
  pyodide.runPython("import checker, checker.screen");
  // the catalogue in parts: every county's entry now while the catalogue is small (build.json
  // all_at_start), else, before each register, the entries of the counties its rows name
  ensure = await startCatalogue(pyodide, config, at);
  allAtStart = !!config.all_at_start;
  wantedJson = pyodide.pyimport("checker.screen").wanted_json;
  screenJson = pyodide.pyimport("checker.screen").screen_json;
  markStarted();
  const python = pyodide.runPython("import sys; sys.version.split()[0]");
  postMessage({ type: "ready", ms: Math.round(performance.now() - t0), python, build: config.build });
})();

ready.catch((err) => {
  postMessage({ type: "failed", stage, message: String((err && err.message) || err) });
});

onmessage = async (event) => {
  const msg = event.data || {};
  const { id } = msg;
  if (id === undefined) return;
  try {
    await ready;
  } catch (err) {
    postMessage({ id, error: { zh: "排摸程序没有启动成功。", en: String((err && err.message) || err) } });
    return;
  }
  const start = performance.now();
  const progress = (done, total) => postMessage({ id, type: "progress", done, total });
  let reply;
  try {
    const options = JSON.stringify({
      name: msg.name, as_of: msg.as_of || null, out_format: msg.out_format || "xlsx",
      annex1_format: msg.annex1_format || null,
    });
    if (!allAtStart) {
      try {
        await ensure(JSON.parse(wantedJson(new Uint8Array(msg.bytes), options)));
      } catch (err) {
        postMessage({ id, error: { zh: "登记表里有的县（市）的服务清单没有下载下来：请联网后再排摸一次。",
                                   en: `a county's catalogue entry could not be fetched: ${String((err && err.message) || err)}` } });
        return;
      }
    }
    reply = JSON.parse(screenJson(new Uint8Array(msg.bytes), options, progress));
  } catch (err) {
    postMessage({ id, error: { zh: "排摸时出错了。", en: String((err && err.message) || err) } });
    return;
  }
  if (!reply.ok) {
    postMessage({ id, error: reply.error });
    return;
  }
  const result = pyodide.pyimport("checker.screen").last_result;
  const output = takeBytes(result.get("output"));
  const annex1 = takeBytes(result.get("annex1"));
  result.destroy();
  pyodide.runPython("import checker.screen\nchecker.screen.last_result = None");
  const transfer = [output, annex1].filter(Boolean);
  postMessage({ id, summary: reply.summary, output, annex1, ms: Math.round(performance.now() - start) }, transfer);
};
