// Runs the checker wheel inside Pyodide (npm `pyodide`) in Node: the same files the browser gets.
// Usage: node tests/node/checker_in_pyodide.mjs JOB.json OUT.json
//   JOB: {dir, wheel, lock, stdlib, package, profiles: [...], trace: bool, catalogue?: JSON text of
//        another compiled catalogue to answer from}
//        (dir holds the files written by site_build.checker_assets.build_py)
//   OUT: {answers: [check_json output parsed, one per profile], loaded: [...], modules: [...],
//         python: "3.14.2", ms_per_check: number}
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
let checkJson = pyodide.globals.get("checker").check_json;
if (job.catalogue) {
  // another compiled catalogue (e.g. a test fixture with dated values), answered by the same code
  pyodide.FS.writeFile("/tmp/catalogue.json", job.catalogue);
  checkJson = pyodide.runPython(`
import json
_other = checker.engine("/tmp/catalogue.json")
def _check_other(text):
    try:
        return json.dumps({"ok": True, "answer": _other.check(json.loads(text))}, ensure_ascii=False)
    except checker.ProfileError as err:
        return json.dumps({"ok": False, "error": {"field": err.field, "zh": err.zh, "en": err.en}}, ensure_ascii=False)
_check_other`);
}
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
  messages,
}));
