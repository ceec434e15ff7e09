// Starts Pyodide with the checker wheel inside a tool's Web Worker (the checker, batch screening).
// Every file comes from this site: `build.json` beside the worker names the Pyodide runtime, the
// trimmed standard library, the lock file and the wheel.
//
// startPyodide(configURL, report) → {pyodide, config, at}; report(stage) is called with
// "runtime", then "packages", before each stage; the caller reports "checker" for its own setup.

export const STAGES = ["runtime", "packages", "checker"];

// Pyodide 314 warns about a failed WebAssembly download or instantiation ("wasm instantiation failed!",
// out of memory …) to the console and then never settles. Watch the console so such a start fails
// loudly instead of waiting forever.
let started = false;
let startFailed;
const startFailure = new Promise((_, reject) => { startFailed = reject; });
for (const level of ["error", "warn"]) {
  const original = console[level].bind(console);
  console[level] = (...args) => {
    original(...args);
    const text = args.map(String).join(" ");
    if (!started && /instantiation failed|Aborted\(|out of memory|Failed to fetch|NetworkError/i.test(text)) {
      startFailed(new Error(text.slice(0, 300)));
    }
  };
}
self.addEventListener("unhandledrejection", (event) => {
  if (!started) startFailed(event.reason instanceof Error ? event.reason : new Error(String(event.reason)));
});

export async function startPyodide(configURL, report) {
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
  const loaded = await Promise.race([startFailure, pyodide.loadPackage(config.package, {
    checkIntegrity: true,
    messageCallback: () => {},
    errorCallback: (m) => failures.push(m),
  })]);
  if (!loaded.some((p) => p.name === config.package)) {
    throw new Error(`${config.package} did not load: ${failures.join("; ")}`);
  }
  return { pyodide, config, at };
}

// Call once the tool is ready: later console warnings no longer count as a failed start.
export function markStarted() {
  started = true;
}
