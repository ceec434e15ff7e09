"""Time to ready of the checker on a cheap phone, served as a county would serve it: a copy of site/
through nginx with deploy/nginx.conf (precompressed brotli, cache headers), in Debian's Chromium
under a Lighthouse-style mobile profile set through the DevTools protocol (150 ms round trip,
1.6 Mbit/s down, 750 kbit/s up, CPU slowed 4×; the network limits are set on the page and on each
of its workers and its service worker; the CPU slowdown on the page only: Chromium answers
"Operation is only supported for pages, not workers").

For each run, in a fresh browser profile each:
- the checker with start-up snapshots (the default): first visit, then later visits in new tabs (the
  first later visit restores the snapshot the first visit stored);
- the checker without them (window.yanglaoCheckerSnapshots = false): first and later visits;
- a bare Pyodide start (loadPyodide with npm's full stdlib in a module worker, nothing else; the same
  nginx and precompression): first and later visits.
Times are from navigation start to "ready" (performance.now() when the worker says so). Later visits
are the median of the second and third visit.

Run: make site && .venv/bin/python -m bench.served [--runs 3] [--write]
     (--write replaces the "Served through nginx on a cheap phone" section of BENCHMARKS.md;
     MB_SITE_DIR=<folder> measures that build instead of site/)
     .venv/bin/python -m bench.served --waterfall: one first visit of the checker, request by request
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")   # MB_SITE_DIR: measure another build
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.checker_browser import ARGS, BARE_HTML, BARE_WORKER, CHROMIUM, PHONE, wait_bare_ready  # noqa: E402
from deploy import serve  # noqa: E402
from site_build import checker_assets, precompress  # noqa: E402
from bench import write_section  # noqa: E402

SECTION = "## Served through nginx on a cheap phone"
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
CPU_SLOWDOWN = 4
TIMEOUT = 300_000
WATERFALL_EVENTS = ("Network.requestWillBeSent", "Network.responseReceived", "Network.loadingFinished",
                    "Network.loadingFailed", "Network.requestServedFromCache")


class Throttle:
    """The mobile profile on a page and on every worker and service worker it starts (they do their
    own fetching: Pyodide's files are downloaded by the checker's worker)."""

    def __init__(self, context, page, record: bool = False):
        self.cdp = context.new_cdp_session(page)
        self.events = [] if record else None     # (target, method, params) of Network events, for --waterfall
        if record:
            for method in WATERFALL_EVENTS:
                self.cdp.on(method, lambda params, m=method: self.events.append(("page", m, params)))
            self.cdp.on("Target.receivedMessageFromTarget", self._message)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", NETWORK)
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        self.cdp.on("Target.attachedToTarget", self._attached)
        self.cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": False})

    def _message(self, event):
        msg = json.loads(event["message"])
        if msg.get("method") in WATERFALL_EVENTS:
            self.events.append((event["sessionId"][:6], msg["method"], msg["params"]))

    def _attached(self, event):
        session = event["sessionId"]
        for n, (method, params) in enumerate([("Network.enable", {}),
                                              ("Network.emulateNetworkConditions", NETWORK),
                                              ("Runtime.runIfWaitingForDebugger", {})]):
            self.cdp.send("Target.sendMessageToTarget", {"sessionId": session,
                                                          "message": json.dumps({"id": n + 1, "method": method, "params": params})})


def visit(context, url: str, what: str) -> float:
    page = context.new_page()
    Throttle(context, page)
    page.goto(url, timeout=TIMEOUT)
    if what == "bare":
        t = wait_bare_ready(page)
        info = {}
    else:
        page.wait_for_function("() => window.yanglaoChecker && window.yanglaoChecker.readyAt", timeout=TIMEOUT)
        t = page.evaluate("window.yanglaoChecker.readyAt")
        info = page.evaluate("({snapshot: window.yanglaoChecker.snapshot, timings: window.yanglaoChecker.timings, "
                             "form_ms: Math.round(window.benchFormAt || 0) || null})")
        if info["snapshot"] is None:
            raise RuntimeError("the checker did not say how it started")
        if what == "snapshot" and info["snapshot"] == "none":
            # first visit: wait until the snapshot is stored and the service worker holds the checker
            page.wait_for_function("() => window.yanglaoChecker.snapshotSaved", timeout=TIMEOUT)
            info["saved"] = page.evaluate("window.yanglaoChecker.snapshotSaved")
    if what != "bare":
        page.wait_for_selector("html[data-offline-cached~='checker']", state="attached", timeout=TIMEOUT)
    page.close()
    return t, info


def prepare(tmp: Path) -> Path:
    site = tmp / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns("*.pdf", "*.pdf.br", "*.pdf.gz"))
    version = checker_assets.pyodide_version()
    bench_dir = site / "__bench__"
    bench_dir.mkdir()
    (bench_dir / "bare.html").write_text(BARE_HTML, encoding="utf-8")
    (bench_dir / "bare-worker.mjs").write_text(BARE_WORKER % (version, version), encoding="utf-8")
    shutil.copyfile(checker_assets.PYODIDE_NPM / "python_stdlib.zip", bench_dir / "python_stdlib.zip")
    npm_lock = json.loads((checker_assets.PYODIDE_NPM / "pyodide-lock.json").read_text(encoding="utf-8"))
    (bench_dir / "bare-lock.json").write_text(json.dumps({"info": npm_lock["info"], "packages": {}}), encoding="utf-8")
    precompress.build(bench_dir)            # the bare start gets the same brotli treatment
    return site


def run(runs: int) -> dict:
    from playwright.sync_api import sync_playwright
    tmp = Path(tempfile.mkdtemp(prefix="bench-served-"))
    site = prepare(tmp)
    server = serve.start(site)
    result = {k: {"first": [], "later": []} for k in ("snapshot", "no_snapshot", "bare")}
    details = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(runs):
                for what, path in (("snapshot", "checker/"), ("no_snapshot", "checker/"), ("bare", "__bench__/bare.html")):
                    ctx = browser.new_context(viewport=PHONE)
                    ctx.add_init_script(FORM_SHOWN)
                    if what == "no_snapshot":
                        ctx.add_init_script("window.yanglaoCheckerSnapshots = false;")
                    times = []
                    for n in range(3):
                        load = os.getloadavg()[0]
                        t, info = visit(ctx, server.url + path, what)
                        times.append(t)
                        details.append({"what": what, "visit": n + 1, "ms": round(t),
                                        "load": round((load + os.getloadavg()[0]) / 2, 1), **info})
                    ctx.close()
                    result[what]["first"].append(times[0])
                    result[what]["later"].append(statistics.median(times[1:]))
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    result["details"] = details
    return result


# when the checker's first question is on the screen (the page is usable before the checker is ready)
FORM_SHOWN = """new MutationObserver((_, observer) => {
  if (document.querySelector("#yl-core [data-field]")) { window.benchFormAt = performance.now(); observer.disconnect(); }
}).observe(document, {childList: true, subtree: true});"""


def waterfall(url: str = "checker/", later: bool = False) -> str:
    """One first visit of `url` under the profile: every request of the page and its workers (start,
    first byte, end, bytes on the wire), the worker's stage times, and nginx's access log (how many
    times each file was sent: a preloaded file must be sent once)."""
    from playwright.sync_api import sync_playwright
    tmp = Path(tempfile.mkdtemp(prefix="bench-served-"))
    site = prepare(tmp)
    server = serve.start(site)
    try:
        server.clear_log()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            ctx = browser.new_context(viewport=PHONE)
            if later:   # a first visit first (it stores the snapshot, the service worker keeps the checker)
                visit(ctx, server.url + url, "snapshot")
                server.clear_log()
            page = ctx.new_page()
            page.add_init_script(FORM_SHOWN)
            throttle = Throttle(ctx, page, record=True)
            page.goto(server.url + url, timeout=TIMEOUT)
            page.wait_for_function("() => window.yanglaoChecker && window.yanglaoChecker.readyAt", timeout=TIMEOUT)
            ready = page.evaluate("window.yanglaoChecker.readyAt")
            form_at = page.evaluate("window.benchFormAt")
            timings = page.evaluate("window.yanglaoChecker.timings")
            page.wait_for_timeout(500)
            events = list(throttle.events)
            browser.close()
        log = server.access_log()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    rows: dict = {}
    for target, method, p in events:
        key = (target, p["requestId"])
        row = rows.setdefault(key, {"target": target})
        if method == "Network.requestWillBeSent":
            row.update(url=p["request"]["url"], start=p["timestamp"])
        elif method == "Network.responseReceived":
            row["first"] = p["timestamp"]
            row["cache"] = "disk" if p["response"].get("fromDiskCache") else ""
        elif method == "Network.requestServedFromCache":
            row["cache"] = "memory"
        elif method == "Network.loadingFinished":
            row.update(end=p["timestamp"], bytes=p["encodedDataLength"])
        elif method == "Network.loadingFailed":
            row.update(end=p["timestamp"], failed=p.get("errorText"))
    rows = sorted((r for r in rows.values() if "start" in r), key=lambda r: r["start"])
    t0 = rows[0]["start"]
    rows = [r for r in rows if r["start"] - t0 <= ready / 1000]   # not the service worker's caching after
    at = lambda r, k: f"{r[k] - t0:6.2f}" if k in r else "     -"  # noqa: E731
    lines = [f"{'target':7} {'start':>6} {'first':>6} {'end':>6} {'bytes':>9} cache  url"]
    for r in rows:
        name = r["url"].split(server.url, 1)[-1][:90]
        lines.append(f"{r['target']:7} {at(r, 'start')} {at(r, 'first')} {at(r, 'end')} {r.get('bytes', 0):9.0f} "
                     f"{r.get('cache', ''):6} {name}{'  FAILED ' + r['failed'] if 'failed' in r else ''}")
    lines.append(f"form shown at {form_at / 1000:.2f} s" if form_at else "form: not seen")
    lines.append(f"ready at {ready / 1000:.2f} s; worker stages (ms): {json.dumps(timings)}")
    sent: dict = {}
    for entry in log:
        if entry["status"] == 200 and entry["bytes"] > 0:
            sent.setdefault(entry["uri"], []).append(entry)
    twice = {uri: len(v) for uri, v in sent.items() if len(v) > 1}
    lines.append(f"nginx: {len(log)} responses (with the service worker's after ready), {sum(e['bytes'] for e in log) / 1e6:.2f} MB; "
                 f"a 200 with a body more than once: {twice or 'none'}")
    return "\n".join(lines)


def loads(r: dict, *visits: int) -> list:
    return [d["load"] for d in r["details"] if d["visit"] in visits] or [0]


def report(r: dict, runs: int) -> str:
    med = {k: {p: statistics.median(v[p]) for p in ("first", "later")} for k, v in r.items() if k != "details"}
    s = lambda ms: f"{ms / 1000:.1f} s"  # noqa: E731
    runs_of = lambda k, p: ", ".join(f"{x / 1000:.1f}" for x in r[k][p])  # noqa: E731
    saved = [d["saved"] for d in r["details"] if d.get("saved") and "bytes" in d["saved"]]
    bare = med["bare"]["later"]
    lines = [
        SECTION,
        "",
        "`make site && .venv/bin/python -m bench.served --write` — a copy of site/ through nginx with",
        "deploy/nginx.conf (brotli from the build, cache headers) in Debian Chromium via Playwright, under a",
        f"mobile profile set through the DevTools protocol: {NETWORK['latency']} ms round trip, "
        f"{NETWORK['downloadThroughput'] * 8 / 1e6:.1f} Mbit/s down, {NETWORK['uploadThroughput'] * 8 / 1e3:.0f} kbit/s up,",
        f"the page's CPU slowed {CPU_SLOWDOWN}× (the network limits hold for the page, its workers and the service worker; the CPU",
        "slowdown only for the page: Chromium refuses it for workers, so Pyodide starts at this machine's speed).",
        f"Time from navigation to ready; medians of {runs} runs, each in a fresh browser profile; \"later\" is the median",
        "of the 2nd and 3rd visit.",
        "",
        f"Measured {dt.date.today().isoformat()}. Load average of the 2-core machine during the visits "
        f"(1 min, median over the visits): first visits {statistics.median(loads(r, 1)):.1f}, "
        f"later visits {statistics.median(loads(r, 2, 3)):.1f} (other work shared the machine; "
        "the CPU slowdown comes on top).",
        "",
        "| time to ready | first visit | later visit | runs, first (s) | runs, later (s) |",
        "|---|---|---|---|---|",
        f"| checker, start-up snapshot (default) | {s(med['snapshot']['first'])} | **{s(med['snapshot']['later'])}** | {runs_of('snapshot', 'first')} | {runs_of('snapshot', 'later')} |",
        f"| checker, without snapshot | {s(med['no_snapshot']['first'])} | {s(med['no_snapshot']['later'])} | {runs_of('no_snapshot', 'first')} | {runs_of('no_snapshot', 'later')} |",
        f"| bare Pyodide start (npm's full stdlib, nothing imported) | {s(med['bare']['first'])} | {s(bare)} | {runs_of('bare', 'first')} | {runs_of('bare', 'later')} |",
        "",
        f"Later visit / bare later start: **{med['snapshot']['later'] / bare:.2f} ×** with the snapshot, "
        f"{med['no_snapshot']['later'] / bare:.2f} × without (goal ≤ 0.35 ×). "
        f"First visit: {s(med['snapshot']['first'])} (goal ≤ 20 s).",
    ]
    forms = [d["form_ms"] for d in r["details"] if d["what"] != "bare" and d["visit"] == 1 and d.get("form_ms")]
    if forms:
        lines.append(f"The form is on the screen (the page usable) after {statistics.median(forms) / 1000:.1f} s on a first visit "
                     f"(median; {min(forms) / 1000:.1f}–{max(forms) / 1000:.1f} s), long before the checker is ready.")
    if saved:
        lines.append(f"The stored snapshot: {statistics.median(x['bytes'] for x in saved) / 1e6:.1f} MB gzip in Cache Storage, "
                     f"made and stored {statistics.median(x['ms'] for x in saved) / 1000:.1f} s after ready (in the worker, "
                     "after the first answers are possible).")
    lines += [
        "",
        "What a first visit waits for (`python -m bench.served --waterfall`: one visit, request by request, and what",
        "nginx sent): the page's HTML arrives at 0.16 s; a small script at the top of its <head> preloads Pyodide's",
        "wasm from 0.3 s (site_build/checker_assets.preload; not while a service worker controls the page), so the",
        "line is full from then on. The worker starts at ~2 s (after form.js and what it imports), asks for",
        "pyodide.mjs, the stdlib and pyodide.asm.mjs at ~2.5–3.5 s and joins the wasm's download through the HTTP",
        "cache (nginx sends each file once: tests/test_nginx.py). The 3.75 MB of brotli (the wasm 2.74 MB, the",
        "stdlib 0.59 MB as bytecode, pyodide.asm.mjs 0.21 MB, the wheel 0.11 MB, the page ~0.1 MB) take 18.4 s at",
        "1.6 Mbit/s: the wasm's last byte arrives at ~18.7 s. Only then does the worker ask for the wheel (boot.mjs),",
        "which arrives while Python starts; the ~1.2 s after the last byte are Python's start from bytecode",
        "(compiled at build time by Pyodide's own Python: site_build/compile_stdlib.mjs), installing the wheel,",
        "importing the checker and compiling the catalogue. That is close to the floor of this profile (0.3 s +",
        "18.4 s + the start): the first visit keeps within 20 s narrowly, and would not on a loaded machine.",
        "",
        "Before these changes (2026-11-29, 28.0 s, load ~10): the downloads began at 2.0 s, after the chain page →",
        "form.js → api.js → worker.mjs → boot.mjs → build.json → pyodide.mjs; the wheel was asked for only after",
        "Python had started (one more round trip and 0.1 MB at the very end); and Python compiled ~3 MB of",
        "standard-library source after the last byte had arrived (2–5 s here, more on a phone's CPU).",
        "A later visit (`--waterfall later`): the page, its scripts and Pyodide's files come from the service",
        "worker; the worker unpacks the stored snapshot (~0.2 s) and restores it (~0.5 s); without the snapshot it",
        "starts Python from the bytecode (~1 s). Tried and left out, as both made the form and a later visit",
        "slower here (the worker's work competes with the page's on 2 cores): starting the worker from <head>",
        "(api.js as an async module), and unpacking the snapshot while importing Pyodide's scripts.",
        "",
        "Load moves the two goals in opposite directions. The worker's CPU is not slowed (above), so other work on",
        "the machine slows the bare start (nearly all of it the worker's CPU: Python compiling npm's stdlib",
        "sources) much more than the checker's later visit (much of it the page under its 4× slowdown and the",
        "service worker): the more loaded the machine, the lower the later/bare ratio, and the later the first",
        "visit (the ~1.2 s after the last byte grow). Compare rows of one run only, with its load average.",
        "",
        "",
    ]
    return "\n".join(lines)


def write(section: str):
    write_section(SECTION, section)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.served")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--waterfall", nargs="?", const="first", choices=("first", "later"),
                        help="one first (or later) visit of the checker: every request's timing, and what nginx sent")
    args = parser.parse_args(argv)
    if not (SITE / "sw.js").exists():
        print(f"{SITE} is not built: run `make site` first", file=sys.stderr)
        return 2
    if args.waterfall:
        print(waterfall(later=args.waterfall == "later"))
        return 0
    r = run(args.runs)
    section = report(r, args.runs)
    print(section)
    print(json.dumps(r["details"], indent=1))
    if args.write:
        write(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
