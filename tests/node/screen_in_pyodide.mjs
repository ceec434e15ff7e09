// Runs batch screening (checker.screen) inside Pyodide (npm `pyodide`) in Node, with the same wheel,
// lock and standard library the 批量排摸 page gets.
// Usage: node tests/node/screen_in_pyodide.mjs JOB.json OUT.json
//   JOB: {dir, wheel, lock, stdlib, extra, extra_zip_path, extra_path_code, package, as_of,
//         files: [{name, b64}], annex1: bool, out_ext: "csv"|"xlsx", trace: bool}
//   OUT: {results: [{name, output_b64, annex1_b64, summary, ms}], modules: [...], python, messages}
// Run it under `unshare -rn` (site_build.screen_assets does): nothing can come from a CDN.
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide } from "pyodide";

const [jobPath, outPath] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobPath, "utf8"));
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const messages = [];

const pyodide = await loadPyodide({
  indexURL: join(root, "node_modules", "pyodide") + "/",
  stdLibURL: join(job.dir, job.stdlib),
  lockFileURL: join(job.dir, job.lock),
  packageCacheDir: job.dir,
  stdout: (s) => messages.push(s),
  stderr: (s) => messages.push(s),
});
const loaded = await pyodide.loadPackage(job.package, {
  checkIntegrity: true,
  messageCallback: (m) => messages.push(m),
  errorCallback: (m) => messages.push("ERROR " + m),
});
if (!loaded.some((p) => p.name === job.package)) {
  console.error(`package ${job.package} did not load:\n${messages.join("\n")}`);
  process.exit(3);
}
if (job.extra) {  // the standard-library files screening needs beyond the checker's (site_build/screen_assets.py)
  pyodide.FS.writeFile(job.extra_zip_path, readFileSync(join(job.dir, job.extra)));
  pyodide.runPython(job.extra_path_code);
}
pyodide.runPython("import checker.screen, checker");
// The catalogue in parts, as screen-worker.mjs adds it (boot.mjs startCatalogue): every county at the
// start with job.all_at_start, else before each register the counties its rows name (screen.wanted_json).
const checker = pyodide.pyimport("checker");
checker.start(readFileSync(join(job.dir, job.catalogue), "utf8"));
const readFiles = [];
function addWanted(wanted) {
  if (!wanted.length) return;
  checker.add_counties_json("{" + wanted.map(([code, file]) => {
    readFiles.push(file);
    return JSON.stringify(code) + ":" + readFileSync(join(job.root || job.dir, file), "utf8");
  }).join(",") + "}");
}
if (job.all_at_start) addWanted(JSON.parse(checker.wanted_json("null")));
const wantedJson = pyodide.pyimport("checker.screen").wanted_json;
const screenBytes = pyodide.runPython(`
import json
from checker.screen import screen_bytes
def run(name, data, as_of, out_ext, annex1):
    r = screen_bytes(data.to_bytes(), name, as_of, out_format=out_ext, annex1_format=out_ext if annex1 else None)
    return {"summary": json.dumps(r["summary"], ensure_ascii=False), "output": r["output"], "annex1": r["annex1"]}
run
`);

const results = [];
for (const file of job.files) {
  const data = new Uint8Array(Buffer.from(file.b64, "base64"));
  const start = performance.now();
  if (!job.all_at_start) addWanted(JSON.parse(wantedJson(data, JSON.stringify({ name: file.name, as_of: job.as_of }))));
  const py = screenBytes(file.name, data, job.as_of, job.out_ext || "csv", !!job.annex1);
  const ms = performance.now() - start;
  const result = py.toJs({ dict_converter: Object.fromEntries });
  py.destroy();
  results.push({
    name: file.name,
    ms,
    read_files: readFiles.splice(0),
    summary: JSON.parse(result.summary),
    output_b64: Buffer.from(result.output).toString("base64"),
    annex1_b64: result.annex1 ? Buffer.from(result.annex1).toString("base64") : null,
  });
}

let modules = [];
if (job.trace) {
  try { pyodide.runPython("1/0"); } catch (e) { /* the error path formats a traceback */ }
  modules = pyodide.runPython(`
import sys
out = []
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None) or ""
    if ".zip/" in f:
        out.append(f.split(".zip/", 1)[1])
sorted(set(out))
`).toJs();
}
writeFileSync(outPath, JSON.stringify({
  results,
  modules,
  python: pyodide.runPython("import sys; sys.version.split()[0]"),
  messages,
}));
