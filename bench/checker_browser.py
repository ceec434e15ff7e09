"""Benchmark of the in-browser checker in Debian's Chromium (Playwright), on a copy of site/:

- bytes a phone downloads on the first visit to /checker/ until the checker is ready (raw, and as a
  server would send them with gzip -9 and brotli q11), and what the service worker then adds to
  make the whole guide work offline;
- time from navigation to ready: cold (empty browser), and warm from the service-worker cache, next
  to a bare Pyodide boot (loadPyodide with npm's full stdlib, in a module worker, same files, same
  browser, same run; cold and warm from the HTTP cache);
- time per evaluation (window.yanglaoChecker.evaluate round trip) over generated profiles.

Run: make site && .venv/bin/python -m bench.checker_browser [--runs 5] [--write]
     (--write replaces the "In-browser checker" section of BENCHMARKS.md)
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.server
import json
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from site_build import checker_assets  # noqa: E402
from bench import write_section  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
SECTION = "## In-browser checker"

BARE_HTML = """<!doctype html><meta charset="utf-8"><title>bare Pyodide boot</title>
<script type="module">
const w = new Worker("bare-worker.mjs", {type: "module"});
w.onmessage = (e) => { window.bareReadyAt = performance.now(); window.bareInfo = e.data; };
</script>"""
BARE_WORKER = """import { loadPyodide } from "../assets/pyodide/%s/pyodide.mjs";
const py = await loadPyodide({indexURL: new URL("../assets/pyodide/%s/", import.meta.url).href,
                              stdLibURL: new URL("python_stdlib.zip", import.meta.url).href,
                              lockFileURL: new URL("bare-lock.json", import.meta.url).href});
postMessage(py.runPython("import sys; sys.version.split()[0]"));
"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.log.append(self.path)
        super().do_GET()


def serve(directory: Path):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(directory)))
    httpd.log = []
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def sizes(paths, site: Path) -> dict:
    import brotli
    out = {"files": 0, "raw": 0, "gzip": 0, "brotli": 0, "by_file": []}
    for path in sorted(set(paths)):
        rel = path.split("?", 1)[0].lstrip("/")
        rel = rel + "index.html" if rel == "" or rel.endswith("/") else rel
        f = site / rel
        if not f.is_file():
            continue
        data = f.read_bytes()
        g, b = len(gzip.compress(data, 9)), len(brotli.compress(data, quality=11))
        out["files"] += 1
        out["raw"] += len(data)
        out["gzip"] += g
        out["brotli"] += b
        out["by_file"].append((rel, len(data), g, b))
    out["by_file"].sort(key=lambda x: -x[3])
    return out


def wait_checker_ready(page) -> float:
    page.wait_for_function("() => window.yanglaoChecker && window.yanglaoChecker.readyAt", timeout=180_000)
    return page.evaluate("window.yanglaoChecker.readyAt")


def wait_bare_ready(page) -> float:
    page.wait_for_function("() => window.bareReadyAt", timeout=180_000)
    return page.evaluate("window.bareReadyAt")


def run(runs: int) -> dict:
    from playwright.sync_api import sync_playwright
    tmp = Path(tempfile.mkdtemp(prefix="bench-checker-"))
    site = tmp / "site"
    shutil.copytree(ROOT / "site", site, ignore=shutil.ignore_patterns("*.pdf"))
    version = checker_assets.pyodide_version()
    bench_dir = site / "__bench__"
    bench_dir.mkdir()
    (bench_dir / "bare.html").write_text(BARE_HTML, encoding="utf-8")
    (bench_dir / "bare-worker.mjs").write_text(BARE_WORKER % (version, version), encoding="utf-8")
    shutil.copyfile(checker_assets.PYODIDE_NPM / "python_stdlib.zip", bench_dir / "python_stdlib.zip")
    npm_lock = json.loads((checker_assets.PYODIDE_NPM / "pyodide-lock.json").read_text(encoding="utf-8"))
    (bench_dir / "bare-lock.json").write_text(json.dumps({"info": npm_lock["info"], "packages": {}}), encoding="utf-8")
    httpd, base = serve(site)
    result = {"cold": [], "warm_sw": [], "bare_cold": [], "bare_warm": [], "eval_ms": None}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(runs):
                # checker: cold, then warm from the service worker's cache in new tabs of the same profile
                ctx = browser.new_context(viewport=PHONE)
                httpd.log.clear()
                page = ctx.new_page()
                page.goto(base + "checker/")
                result["cold"].append(wait_checker_ready(page))
                if i == 0:
                    first_visit = list(httpd.log)
                page.wait_for_selector("html[data-offline-cached='checker']", state="attached", timeout=180_000)
                if i == 0:
                    precache = [p for p in httpd.log if p not in set(first_visit)]
                page.close()
                for _ in range(2):
                    warm = ctx.new_page()
                    warm.goto(base + "checker/")
                    t = wait_checker_ready(warm)
                    warm.close()
                result["warm_sw"].append(t)   # the second warm tab: compiled wasm cached too
                if i == 0:
                    warm = ctx.new_page()
                    warm.goto(base + "checker/")
                    wait_checker_ready(warm)
                    profiles = checker_assets.sample_profiles(200, seed=11)
                    result["eval_ms"] = warm.evaluate("""async (profiles) => {
                        for (const p of profiles.slice(0, 20)) await window.yanglaoChecker.evaluate(p);
                        const t = performance.now();
                        for (const p of profiles) await window.yanglaoChecker.evaluate(p);
                        return (performance.now() - t) / profiles.length; }""", profiles)
                    warm.close()
                ctx.close()
                # bare Pyodide: cold, then warm from the HTTP cache
                ctx = browser.new_context(viewport=PHONE)
                page = ctx.new_page()
                page.goto(base + "__bench__/bare.html")
                result["bare_cold"].append(wait_bare_ready(page))
                page.close()
                for _ in range(2):
                    warm = ctx.new_page()
                    warm.goto(base + "__bench__/bare.html")
                    t = wait_bare_ready(warm)
                    warm.close()
                result["bare_warm"].append(t)
                ctx.close()
            browser.close()
    finally:
        httpd.shutdown()
    result["first_visit"] = sizes(first_visit, site)
    result["precache_extra"] = sizes(precache, site)
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def report(r: dict, runs: int) -> str:
    med = {k: statistics.median(v) for k, v in r.items() if isinstance(v, list) and v and isinstance(v[0], (int, float))}
    fv, pre = r["first_visit"], r["precache_extra"]
    mb = lambda n: f"{n / 1e6:.2f} MB"  # noqa: E731
    lines = [
        SECTION,
        "",
        "`make site && .venv/bin/python -m bench.checker_browser --write` — Debian Chromium 156 via Playwright,",
        f"phone viewport, a copy of site/ served by `http.server` on 127.0.0.1 (no compression on the wire:",
        "gzip and brotli columns are what a compressing host would send). Times are medians of "
        f"{runs} runs, from navigation start to \"ready\" (answers instant).",
        "",
        f"Measured {dt.date.today().isoformat()}.",
        "",
        "| first visit to /checker/ until ready | files | raw | gzip -9 | brotli q11 |",
        "|---|---|---|---|---|",
        f"| page, CSS, JS, Pyodide, stdlib, wheel | {fv['files']} | {mb(fv['raw'])} | {mb(fv['gzip'])} | **{mb(fv['brotli'])}** |",
        f"| then cached by the service worker (the rest of the guide; Pyodide etc. come from the HTTP cache) | {pre['files']} | {mb(pre['raw'])} | {mb(pre['gzip'])} | {mb(pre['brotli'])} |",
        "",
        "Largest files of the first visit (brotli): "
        + ", ".join(f"{Path(rel).name} {b / 1e6:.2f} MB" for rel, _raw, _g, b in fv["by_file"][:5]) + ".",
        "",
        "| time to ready | median | runs (ms) |",
        "|---|---|---|",
        f"| checker, cold (empty cache) | {med['cold']:.0f} ms | {', '.join(f'{x:.0f}' for x in r['cold'])} |",
        f"| checker, warm (service-worker cache) | **{med['warm_sw']:.0f} ms** | {', '.join(f'{x:.0f}' for x in r['warm_sw'])} |",
        f"| bare Pyodide boot, cold | {med['bare_cold']:.0f} ms | {', '.join(f'{x:.0f}' for x in r['bare_cold'])} |",
        f"| bare Pyodide boot, warm (HTTP cache) | {med['bare_warm']:.0f} ms | {', '.join(f'{x:.0f}' for x in r['bare_warm'])} |",
        "",
        f"Warm start / bare warm boot: **{med['warm_sw'] / med['bare_warm']:.2f} ×**. "
        f"Per evaluation (evaluate() round trip, 200 generated profiles): **{r['eval_ms']:.2f} ms**.",
        "",
        "Goals (issue 5): ≤ 4 MB brotli first visit; warm start ≤ 1.2 × the bare boot; ≤ 5 ms per evaluation.",
        "The bare boot loads npm's full python_stdlib.zip; the checker loads the trimmed one",
        "(site_build/pyodide_stdlib.txt) plus the wheel, so it can start faster than a bare boot.",
        "",
    ]
    return "\n".join(lines)


def write(section: str):
    write_section(SECTION, section)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checker_browser")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    if not (ROOT / "site" / "sw.js").exists():
        print("site/ is not built: run `make site` first", file=sys.stderr)
        return 2
    r = run(args.runs)
    section = report(r, args.runs)
    print(section)
    print(json.dumps({k: v for k, v in r.items() if k not in ("first_visit", "precache_extra")}, indent=1))
    if args.write:
        write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
