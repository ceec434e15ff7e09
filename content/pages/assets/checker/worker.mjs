// The checker's Web Worker: boots Pyodide, installs the checker wheel, answers profiles.
//
// Messages in:  {id, profile}            (profile: a plain object; crosses as a JSON string)
// Messages out: {type: "stage", stage, n, of}   while starting: runtime → packages → checker
//               {type: "ready", ms, python}     once, when answers are instant
//               {type: "failed", stage, message} once, if the start fails
//               {id, answer} | {id, error: {field, zh, en}}   one per request
// Every file comes from this site (assets/checker/build.json says which): nothing else is fetched.

const STAGES = ["runtime", "packages", "checker"];

// Pyodide 314 warns about a failed WebAssembly download or instantiation ("wasm instantiation failed!",
// out of memory …) to the console and then never settles. Watch the console so such a start fails
// loudly instead of waiting forever.
let startFailed;
const startFailure = new Promise((_, reject) => { startFailed = reject; });
for (const level of ["error", "warn"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    original(...args);
    const text = args.map(String).join(" ");
    if (checkJson === null && /instantiation failed|Aborted\(|out of memory|Failed to fetch|NetworkError/i.test(text)) {
      startFailed(new Error(text.slice(0, 300)));
    }
  };
}
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
  const configURL = new URL("build.json", import.meta.url);
  const response = await fetch(configURL, { cache: "no-cache" });
  if (!response.ok) throw new Error(`build.json: HTTP ${response.status}`);
  const config = await response.json();
  const at = (path) => new URL(path, configURL).href;

  report("runtime");
  const indexURL = at(config.pyodide.index);
  const { loadPyodide } = await import(indexURL + "pyodide.mjs");
  const pyodide = await Promise.race([startFailure, loadPyodide({
    indexURL,
    stdLibURL: at(config.stdlib),
    lockFileURL: at(config.lock),
    stdout: () => {},
    stderr: () => {},
  })]);

  report("packages");
  const failures = [];
  const loaded = await pyodide.loadPackage(config.package, {
    checkIntegrity: true,
    messageCallback: () => {},
    errorCallback: (m) => failures.push(m),
  });
  if (!loaded.some((p) => p.name === config.package)) {
    throw new Error(`${config.package} did not load: ${failures.join("; ")}`);
  }

  report("checker");
  pyodide.runPython("import checker\nchecker.engine()");  // reads the catalogue, compiles conditions
  checkJson = pyodide.globals.get("checker").check_json;
  const python = pyodide.runPython("import sys; sys.version.split()[0]");
  timings[stage] = Math.round(performance.now() - stageStart);
  postMessage({ type: "ready", ms: Math.round(performance.now() - t0), timings, python, build: config.build });
})();

self.addEventListener("unhandledrejection", (event) => {
  if (checkJson === null) startFailed(event.reason instanceof Error ? event.reason : new Error(String(event.reason)));
});

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
