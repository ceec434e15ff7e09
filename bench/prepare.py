"""What "出门前下载，没有网络也能查" (issue 14) downloads and how long it takes: a copy of site/ through nginx
with deploy/nginx.conf (the build's brotli), in Debian's Chromium at phone size, in a fresh profile each run:

1. the home page is opened; its service worker precaches the site's shell by itself (every first visit
   of any page does this, without a tap): bytes and time until the worker is active;
2. the 出门前下载 button is tapped: what it downloads on top (Pyodide, the stdlib zips, the wheel),
   from the tap to "已下载，可以离线使用".

Bytes on the wire are nginx's body bytes (access log); raw bytes and the number the page shows come
from the build (sw.js's SIZES). On the unthrottled loopback and, with --mobile, under bench/served.py's
mobile profile (150 ms, 1.6 Mbit/s down, CPU 4× slower).

Run: make site && .venv/bin/python -m bench.prepare [--runs 3] [--mobile] [--write]
     (--write replaces the "Prepare before going out (issue 14)" section of BENCHMARKS.md)
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import write_section  # noqa: E402
from bench.checker_browser import ARGS, CHROMIUM, PHONE  # noqa: E402
from bench.served import NETWORK, Throttle  # noqa: E402
from deploy import serve  # noqa: E402

SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")   # MB_SITE_DIR: measure another build
SECTION = "## Prepare before going out (issue 14)"
TIMEOUT = 600_000
ACTIVE = """async () => { const r = await navigator.serviceWorker.getRegistration();
                          return !!(r && r.active && r.active.state === 'activated'); }"""


def wait_until(page, script: str, timeout_s: float = TIMEOUT / 1000):
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out: {script[:60]}")
        page.wait_for_timeout(100)


def sent(log: list[dict]) -> dict:
    ok = [e for e in log if e["status"] in (200, 304)]
    return {"requests": len(ok), "wire": sum(e["bytes"] for e in ok),
            "br": sum(1 for e in ok if e["encoding"] == "br")}


def one_run(browser, server, mobile: bool) -> dict:
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    try:
        page = ctx.new_page()
        if mobile:
            Throttle(ctx, page)
        server.clear_log()
        t0 = time.monotonic()
        page.goto(server.url, timeout=TIMEOUT)
        wait_until(page, ACTIVE)
        shell_s = time.monotonic() - t0
        shell = sent(server.access_log())
        server.clear_log()
        t1 = time.monotonic()
        page.click("[data-prepare-start]")
        page.wait_for_selector("[data-prepare-state=done]", timeout=TIMEOUT)
        tap_s = time.monotonic() - t1
        tap = sent(server.access_log())
        shown = " ".join(page.inner_text("[data-prepare-start]").split())
        page.wait_for_selector("[data-prepare-stored]:not([hidden])", timeout=TIMEOUT)
        stored = int(page.get_attribute("[data-prepare]", "data-prepare-bytes"))
    finally:
        ctx.close()
    return {"shell_s": shell_s, "shell": shell, "tap_s": tap_s, "tap": tap, "shown": shown, "stored": stored}


def run(runs: int, mobile: bool) -> dict:
    from playwright.sync_api import sync_playwright
    tmp = Path(tempfile.mkdtemp(prefix="bench-prepare-"))
    site = tmp / "site"
    shutil.copytree(SITE, site, ignore=shutil.ignore_patterns("*.pdf", "*.pdf.br", "*.pdf.gz"))
    sw = (site / "sw.js").read_text(encoding="utf-8")
    sizes = json.loads(re.search(r"const SIZES = (\{.*?\});", sw).group(1))
    groups = json.loads(re.search(r"const GROUPS = (\{.*?\});", sw, re.S).group(1))
    tools = set(groups["checker"]) | set(groups["screen"])
    build = {"files": len(sizes), "raw": sum(r for r, _ in sizes.values()), "wire": sum(w for _, w in sizes.values()),
             "tool_files": len(tools), "tool_raw": sum(sizes[u][0] for u in tools),
             "tool_wire": sum(sizes[u][1] for u in tools)}
    server = serve.start(site)
    out = {"build": build, "loopback": [], "mobile": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for _ in range(runs):
                out["loopback"].append(one_run(browser, server, False))
                if mobile:
                    out["mobile"].append(one_run(browser, server, True))
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def report(r: dict, runs: int) -> str:
    b = r["build"]
    mb = lambda n: f"{n / 1e6:.2f} MB"  # noqa: E731
    med = lambda rows, key: statistics.median(x[key] for x in rows)  # noqa: E731
    first = r["loopback"][0]
    lines = [
        SECTION,
        "",
        "`make site && .venv/bin/python -m bench.prepare --mobile --write` — a copy of site/ through nginx with",
        "deploy/nginx.conf (brotli from the build) in Debian Chromium at 390×844, a fresh profile per run: open the",
        "home page (its service worker precaches the shell by itself), then tap 出门前下载 and wait for",
        f"\"已下载，可以离线使用\". Medians of {runs} runs. Measured {dt.date.today().isoformat()}.",
        "",
        f"The button says: **{first['shown']}**. What the build lists (sw.js SIZES): {b['files']} files,",
        f"{mb(b['raw'])} raw, {mb(b['wire'])} on the wire — of which the tools' files (Pyodide, the stdlib zips, the",
        f"wheel; {b['tool_files']} files) are {mb(b['tool_raw'])} raw, {mb(b['tool_wire'])} brotli, and the shell (every page,",
        f"CSS, JS, the search index; {b['files'] - b['tool_files']} files) {mb(b['raw'] - b['tool_raw'])} raw, "
        f"{mb(b['wire'] - b['tool_wire'])} brotli.",
        "",
        "| | requests (nginx) | bytes on the wire (nginx) | time |",
        "|---|---|---|---|",
    ]
    for name, rows in (("loopback", r["loopback"]), ("mobile profile", r["mobile"])):
        if not rows:
            continue
        lines.append(f"| {name}: first visit of the home page, shell precached without a tap | "
                     f"{statistics.median(x['shell']['requests'] for x in rows):.0f} | "
                     f"{mb(statistics.median(x['shell']['wire'] for x in rows))} | {med(rows, 'shell_s'):.1f} s |")
        lines.append(f"| {name}: **the tap**, to 已下载 | {statistics.median(x['tap']['requests'] for x in rows):.0f} | "
                     f"**{mb(statistics.median(x['tap']['wire'] for x in rows))}** | **{med(rows, 'tap_s'):.1f} s** |")
    lines += [
        "",
        f"Stored on the phone afterwards (Cache Storage, decompressed; what the page reports): "
        f"{mb(med(r['loopback'], 'stored'))}. The mobile profile is bench/served.py's: {NETWORK['latency']} ms round trip,",
        f"{NETWORK['downloadThroughput'] * 8 / 1e6:.1f} Mbit/s down, CPU 4× slower, set on the page and the workers it",
        "starts; the service worker does the downloading and is throttled too (the tap's bytes alone need "
        f"{b['tool_wire'] / NETWORK['downloadThroughput']:.1f} s at that rate).",
        "",
        "Nothing large comes without the tap: a first visit of any page precaches only the shell (the row",
        "\"shell precached without a tap\", as before issue 14: every page offline after one visit); a tool page",
        "keeps its own group only after its Pyodide has started (those bytes were needed to run it, so they come",
        "from the HTTP cache). No prefetching. The tap fetches only what is not stored yet (a second tap after a",
        "failure resumes; tests/test_prepare_browser.py), as many files side by side as 3, in slices of 60 s.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.prepare")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mobile", action="store_true", help="also under the mobile profile of bench.served")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    if not (SITE / "sw.js").exists():
        print(f"{SITE} is not built: run `make site` first", file=sys.stderr)
        return 2
    r = run(args.runs, args.mobile)
    section = report(r, args.runs)
    print(section)
    print(json.dumps(r, indent=1))
    if args.write:
        write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
