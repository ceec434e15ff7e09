// Runs the checker wheel inside Pyodide (npm `pyodide`) in Node: the same files the browser gets.
// Usage: node tests/node/checker_in_pyodide.mjs JOB.json OUT.json
//   JOB: {dir, wheel, lock, stdlib, package, catalogue, all_at_start, root?, profiles: [...], trace: bool}
//        (dir holds the files written by site_build.checker_assets.build_py: `catalogue` is the
//        index's name there, and the counties' entries are under `root`, default dir)
//   OUT: {answers: [check_json output parsed, one per profile], loaded: [...], modules: [...],
//         python: "3.14.2", ms_per_check: number, read_files: [county entries read, in order]}
// Run it under `unshare -rn` (pytest does): with no network, a package that is not found locally
// cannot quietly come from a CDN. A package that does not load is an error here, never a warning.
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
pyodide.runPython("import checker, sys");
// The catalogue in parts, as content/pages/assets/checker/boot.mjs startCatalogue adds it: the index,
// then before each profile the counties checker.wanted_json names (every county at the start when
// job.all_at_start), read from job.root (default: job.dir) where the browser would fetch them.
const checker = pyodide.pyimport("checker");
checker.start(readFileSync(join(job.dir, job.catalogue), "utf8"));
const partsRoot = job.root || job.dir;
const readFiles = [];
function ensure(profileJSON) {
  const wanted = JSON.parse(checker.wanted_json(profileJSON ?? "null"));   // JS null is not Python None
  if (!wanted.length) return;
  const texts = wanted.map(([code, file]) => {
    readFiles.push(file);
    return JSON.stringify(code) + ":" + readFileSync(join(partsRoot, file), "utf8");
  });
  checker.add_counties_json("{" + texts.join(",") + "}");
}
if (job.all_at_start) ensure(null);
const checkJson = (text) => {
  ensure(text);
  return checker.check_json(text);
};
const answers = [];
const start = performance.now();
for (const profile of job.profiles) {
  answers.push(JSON.parse(checkJson(JSON.stringify(profile))));
}
const msPerCheck = (performance.now() - start) / Math.max(1, job.profiles.length);

let modules = [];
if (job.trace) {
  // Exercise the error path too: a Python exception crossing into JavaScript formats a traceback.
  try { pyodide.runPython("1/0"); } catch (e) { /* expected */ }
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
  answers,
  loaded: loaded.map((p) => p.name),
  modules,
  python: pyodide.runPython("import sys; sys.version.split()[0]"),
  ms_per_check: msPerCheck,
  read_files: readFiles,
  messages,
}));
