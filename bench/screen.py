"""Batch screening (批量排摸) of a generated 10,000-row register (tests/registers.py, fixed seed, ~1 % bad
rows): on CPython in-process and through the command line, in Pyodide under Node, and on the
批量排摸 page in Chromium (from clicking 开始排摸 to the download; needs `make site`).
Goals (issue 8): ≤ 1 s on CPython, ≤ 5 s in the browser.

Scale (issue 12): a 1,000,000-row register (94 MB CSV, the same generator) screened by the command
line, under `/usr/bin/time -v` (wall clock, CPU, the largest single process's peak RSS) while this
script also samples the whole process tree's RSS every 0.1 s (with worker processes the tree's peak is
what the machine must have); once as `python -m checker screen` (worker processes on a big register)
and once in one process (`jobs=1`, as the browser runs). Goal: ≤ 2 minutes and ≤ 400 MB.

Run: .venv/bin/python -m bench.screen [--rows 10000] [--repeat 3] [--skip-browser] [--skip-node] [--site DIR]
     [--scale-rows 1000000 | --skip-scale]
"""
from __future__ import annotations

import argparse
import base64
import csv
import functools
import http.server
import io
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import checker  # noqa: E402
from checker.screen import screen_file  # noqa: E402
from checker.tables import xlsx_bytes  # noqa: E402
from registers import make_register  # noqa: E402

AS_OF = "2026-11-23"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def write_registers(folder: Path, rows_n: int):
    header, rows, _ = make_register(rows_n, seed=10, as_of=AS_OF)
    text = io.StringIO(newline="")
    csv.writer(text).writerows([header, *rows])
    paths = {"csv": folder / "register.csv", "xlsx": folder / "register.xlsx"}
    paths["csv"].write_text(text.getvalue(), encoding="utf-8")
    paths["xlsx"].write_bytes(xlsx_bytes([("登记表", header, rows)]))
    return paths


def timed(fn, repeat, cpu=True):
    """Wall-clock best and median; with `cpu`, also this process's best CPU time, which a shared,
    busy machine disturbs much less than wall-clock time."""
    times, cpus = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    out = {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3)}
    if cpu:
        out["best_cpu_s"] = round(min(cpus), 3)
    return out


def bench_cpython(paths, folder, repeat):
    engine = checker.engine()
    out = {}
    for src, dst in (("csv", "csv"), ("csv", "xlsx"), ("xlsx", "xlsx")):
        out[f"{src}→{dst}"] = timed(lambda: screen_file(paths[src], folder / f"out.{dst}", AS_OF, engine=engine), repeat)
    annex = timed(lambda: screen_file(paths["csv"], folder / "out.csv", AS_OF, annex1=folder / "a1.csv", engine=engine), repeat)
    out["csv→csv + 附件1"] = annex
    cmd = [sys.executable, "-m", "checker", "screen", str(paths["csv"]), "-o", str(folder / "cli.csv"), "--as-of", AS_OF]
    out["command line csv→csv (whole process)"] = timed(lambda: subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True),
                                                        repeat, cpu=False)
    return out


def bench_node(paths, repeat):
    from site_build import screen_assets
    with tempfile.TemporaryDirectory() as tmp:
        files = screen_assets.build_py(Path(tmp))
        data = base64.b64encode(paths["csv"].read_bytes()).decode()
        job = {"dir": tmp, **files, "as_of": AS_OF, "annex1": False, "out_ext": "csv",
               "files": [{"name": f"r{i}.csv", "b64": data} for i in range(repeat)]}
        out = screen_assets.run_node(job, timeout=900)
    ms = [r["ms"] / 1000 for r in out["results"]]
    return {"csv→csv": {"best_s": round(min(ms), 3), "median_s": round(statistics.median(ms), 3)},
            "python": out["python"]}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def bench_browser(paths, repeat, site: Path):
    from playwright.sync_api import sync_playwright
    if not (site / "screen" / "index.html").is_file() or not (site / "assets" / "screen" / "build.json").is_file():
        return {"skipped": "site/ is not built with the 批量排摸 page: run `make site`"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    result = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(accept_downloads=True).new_page()
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/screen/")
            page.wait_for_selector("body[data-screen-ready]", timeout=180_000)
            result["worker_ready_cold_s"] = round(time.perf_counter() - start, 2)
            for fmt in ("csv", "xlsx"):
                walls, worker = [], []
                for _ in range(repeat):
                    page.set_input_files("#ys-file", str(paths[fmt]))
                    page.fill("#ys-asof", AS_OF)
                    page.check(f"input[name=format][value={fmt}]")
                    start = time.perf_counter()
                    with page.expect_download(timeout=300_000) as download:
                        page.click("#ys-start")
                    download.value.path()
                    walls.append(time.perf_counter() - start)
                    text = page.inner_text("#ys-status-text")
                    worker.append(float(text.split("用时 ")[1].split(" 秒")[0]))
                result[f"{fmt}→{fmt} click to download"] = {"best_s": round(min(walls), 2), "median_s": round(statistics.median(walls), 2)}
                result[f"{fmt}→{fmt} in the worker"] = {"best_s": min(worker), "median_s": statistics.median(worker)}
            browser.close()
    finally:
        server.shutdown()
    return result


def _tree_rss_kb(pid: int) -> int:
    """Memory of `pid` and all its descendants (kB), from /proc: the sum of their proportional set
    sizes (Pss: a page shared by the forked workers counts once in all), else of VmRSS."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            try:
                with open(f"/proc/{p}/smaps_rollup") as fh:
                    total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
            except (OSError, StopIteration):
                with open(f"/proc/{p}/status") as fh:
                    total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(x) for x in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def _time_v(cmd, env=None) -> dict:
    """Run `cmd` under /usr/bin/time -v; wall, CPU, peak RSS of the largest process and of the tree."""
    import os
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", report.name, *cmd], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.1)
        out, err = proc.communicate()
        text = report.read()
    field = lambda name: next((line.split(": ", 1)[1].strip() for line in text.splitlines() if line.strip().startswith(name)), "")  # noqa: E731
    wall = field("Elapsed (wall clock) time")
    parts = [float(x) for x in wall.split(":")]
    seconds = sum(x * 60 ** i for i, x in enumerate(reversed(parts)))
    return {"exit": proc.returncode, "wall_s": round(seconds, 1),
            "cpu_s": round(float(field("User time") or 0) + float(field("System time") or 0), 1),
            "max_rss_largest_process_mb": round(int(field("Maximum resident set size") or 0) / 1024),
            "peak_pss_process_tree_mb": round(peak / 1024), "load_avg": os.getloadavg()[0],
            **({"stderr": err.decode()[-500:]} if proc.returncode else {}), "stdout_head": out.decode()[:200]}


def bench_scale(rows_n: int, folder: Path) -> dict:
    register = folder / "register-scale.csv"
    header, rows, _ = make_register(rows_n, seed=10, as_of=AS_OF)
    with open(register, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    del rows
    out = {"rows": rows_n, "register_mb": round(register.stat().st_size / 1e6, 1)}
    out["command line (worker processes)"] = _time_v(
        [sys.executable, "-m", "checker", "screen", str(register), "-o", str(folder / "scale-out.csv"), "--as-of", AS_OF])
    out["output_mb"] = round((folder / "scale-out.csv").stat().st_size / 1e6, 1)
    (folder / "scale-out.csv").unlink()
    out["one process (jobs=1, as in the browser)"] = _time_v(
        [sys.executable, "-c", "import sys; from checker.screen import screen_file; "
         f"screen_file(sys.argv[1], sys.argv[2], {AS_OF!r}, jobs=1)", str(register), str(folder / "scale-out.csv")])
    (folder / "scale-out.csv").unlink()
    register.unlink()
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.screen")
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-node", action="store_true")
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site to serve (default site/)")
    parser.add_argument("--scale-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_registers(folder, args.rows)
        out = {"python": platform.python_version(), "rows": args.rows,
               "register_bytes": {k: p.stat().st_size for k, p in paths.items()},
               "cpython": bench_cpython(paths, folder, args.repeat)}
        if not args.skip_node:
            out["pyodide_node"] = bench_node(paths, args.repeat)
        if not args.skip_browser:
            out["browser"] = bench_browser(paths, args.repeat, args.site)
        if not args.skip_scale:
            out["scale"] = bench_scale(args.scale_rows, folder)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return out


if __name__ == "__main__":
    main()
