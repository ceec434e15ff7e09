"""Benchmark of the whole `make site` (`python -m site_build`) after one county's edit, at national
size (issue 17): a copy of the project whose catalogue/ holds N synthetic counties (the real county
files re-coded, bench/site_build.py synthetic_catalogue) is built whole, built again with nothing
changed, then one amount in one county's YAML is changed and it is built again — each time the real
command in a child process, its steps' times as it prints them, its wall and CPU time (children
included: mkdocs, its page writers, Chromium) and the peak memory of its largest process.

PDFs: printing every county's handouts once takes hours at national size (≈ 3 s of Chromium a
county), so by default the builds run with --no-pdf; with --pdf they print everything. With
--pdf-placeholders the whole build renders, keys and records every handout but writes a one-page
placeholder instead of printing it; the builds after it are real — an edit then prints the edited
county's changed PDFs with Chromium and leaves every other as the record has it, which is exactly
what it would do after a whole build that printed them.

Run: .venv/bin/python -m bench.make_site [--counties 2850] [--work DIR] [--keep] [--pdf]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.site_build import PER_PROVINCE, synthetic_catalogue  # noqa: E402

STEP = re.compile(r"^site_build: (.+?) \((\d+\.\d) s\)$", re.M)
PAGES = re.compile(r"^site_build: (\d+) pages drawn, (\d+) from the cache, (\d+) left as they were$", re.M)


def project_copy(dest: Path, n: int, per_province: int) -> Path:
    """The project's tracked files as they are in the working tree, catalogue/ replaced by n
    synthetic counties; .venv and node_modules linked."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        parts = name.split("/")
        if parts[0] == "catalogue" and len(parts) >= 3 and parts[1] not in ("reviews",) \
                and (parts[1] != "sources" or len(parts) >= 4):
            continue                                  # the real counties and their documents
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for link in ("node_modules", ".venv"):
        (dest / link).symlink_to(ROOT / link)
    tmp = dest / "build" / "synthetic"
    synthetic_catalogue(n, tmp, per_province)
    for p in sorted(tmp.iterdir()):
        if p.is_dir() and p.name != "sources":
            shutil.move(str(p), dest / "catalogue" / p.name)
    (dest / "catalogue" / "sources").mkdir(parents=True, exist_ok=True)
    for p in sorted((tmp / "sources").iterdir()):
        shutil.move(str(p), dest / "catalogue" / "sources" / p.name)
    shutil.rmtree(tmp)
    return dest


def edit_one_county(project: Path, extra: str = "") -> str:
    """One amount in the first county's YAML, as an official's edit: its first `yuan: N` and the N in
    the amount's text both become N + 1; `extra` is appended to that text (--new-character: a
    character no handout had before)."""
    path = sorted((project / "catalogue").glob("p*/*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    m = re.search(r"(\n\s+yuan: )(\d+)\n((?:\s+\w+: .*\n){0,3}?\s+text: )([^\n]*)", text)
    n = int(m.group(2))
    amount_text = m.group(4).replace(str(n), str(n + 1), 1) + extra
    path.write_text(text[:m.start()] + f"{m.group(1)}{n + 1}\n{m.group(3)}{amount_text}" + text[m.end():],
                    encoding="utf-8")
    return path.relative_to(project).as_posix()


# --pdf-placeholders: the whole build's printer writes this one-page PDF instead of starting Chromium
# (the handouts are still rendered, keyed and recorded as in a real build); later builds print for real.
PLACEHOLDER = """
import hashlib
from site_build import handouts as _h
_PDF = (b"%PDF-1.4\\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\\ntrailer<</Root 1 0 R>>\\n%%EOF\\n")
class _Printer:
    def close(self): pass
def _print_one(printer, h, job, fonts, work, out):
    out.parent.mkdir(parents=True, exist_ok=True)
    data = _PDF + b"%" + hashlib.sha256(job.url.encode()).hexdigest().encode() + b"\\n"
    out.write_bytes(data)
    return {"pages": 1, "bytes": len(data), "fit": 0, "seconds": 0.0, "prints": 0}
_h.Printer, _h.print_one = _Printer, _print_one
"""


def site_build(project: Path, *args, placeholders: bool = False) -> dict:
    """`python -m site_build` in the copy: wall, CPU (with children), peak memory, its steps. A small
    process runs it and reports what it cost (site_build ends with os._exit: site_build/exit.py)."""
    inner = ((PLACEHOLDER if placeholders else "")
             + "import runpy, sys\n"
               "sys.argv = ['site_build', *sys.argv[1:]]\n"
               "runpy.run_module('site_build', run_name='__main__')\n")
    outer = ("import resource, subprocess, sys, time\n"
             "t = time.perf_counter()\n"
             "code = subprocess.run([sys.executable, '-c', *sys.argv[1:]]).returncode\n"
             "c = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
             "print(f'MAKESITE {time.perf_counter() - t} {c.ru_utime + c.ru_stime} {c.ru_maxrss} {code}', flush=True)\n")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    for name in ("MB_BUILD_CACHE", "MB_SITE_DIR", "MB_CATALOGUE"):
        env.pop(name, None)
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, "-c", outer, inner, *args], cwd=project, env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    line = next((ln for ln in out.splitlines() if ln.startswith("MAKESITE ")), None)
    if done.returncode or not line or line.split()[-1] != "0":
        raise RuntimeError(f"python -m site_build failed:\n{out[-4000:]}")
    wall, cpu, peak_kb, _ = line.split()[1:]
    pages = PAGES.search(out)
    return {"wall_s": float(wall), "cpu_s": float(cpu), "peak_mb": int(peak_kb) / 1024,
            "load_before": round(load, 1), "load_after": round(os.getloadavg()[0], 1),
            "steps": {name: float(s) for name, s in STEP.findall(out)},
            "pages": dict(zip(("drawn", "reused", "kept"), map(int, pages.groups()))) if pages else None}


def show(name: str, r: dict):
    steps = ", ".join(f"{k.split(' (')[0]} {v:.1f} s" for k, v in r["steps"].items())
    print(f"{name}: {r['wall_s']:.1f} s ({r['cpu_s']:.1f} s CPU, peak {r['peak_mb']:.0f} MB, load "
          f"{r['load_before']}→{r['load_after']}); pages {r['pages']}\n    {steps}", flush=True)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=2850)
    parser.add_argument("--provinces", type=int, default=31)
    parser.add_argument("--work", help="the project copy's folder (default: a temp folder); reused if it has a site/")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--pdf", action="store_true", help="print the PDFs too (hours at national size)")
    parser.add_argument("--pdf-placeholders", action="store_true",
                        help="PDFs too, but the whole build writes placeholders instead of printing (the handouts "
                             "are rendered, keyed and recorded); the builds after it print for real")
    parser.add_argument("--skip-whole", action="store_true", help="the copy in --work is built already")
    parser.add_argument("--new-character", default="",
                        help="also append these characters to the edited amount's text (e.g. 鑫: in GB 2312, "
                             "which the handouts' fonts hold whole, so no font change; 赟: outside it, every PDF)")
    parser.add_argument("--write", help="write the results (JSON) to this file")
    args = parser.parse_args(argv)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="mb-bench-make-site-"))
    pdf = args.pdf or args.pdf_placeholders
    flags = [] if pdf else ["--no-pdf"]
    out: dict = {"counties": args.counties, "pdf": pdf, "placeholders": args.pdf_placeholders, "cores": os.cpu_count()}
    try:
        project = work / "project"
        if not project.is_dir():
            start = time.perf_counter()
            project_copy(project, args.counties, max(PER_PROVINCE, -(-args.counties // args.provinces)))
            out["generate_s"] = time.perf_counter() - start
            print(f"{args.counties} counties generated in {out['generate_s']:.0f} s", flush=True)
        if not args.skip_whole:
            out["whole"] = site_build(project, *flags, placeholders=args.pdf_placeholders)
            show("whole build" + (" (placeholder PDFs)" if args.pdf_placeholders else ""), out["whole"])
        out["again"] = site_build(project, *flags)
        show("nothing changed", out["again"])
        out["edited_file"] = edit_one_county(project, args.new_character)
        out["new_character"] = args.new_character
        out["edit"] = site_build(project, *flags)
        show(f"one amount in {out['edited_file']} changed" + (f", with {args.new_character}" if args.new_character else ""),
             out["edit"])
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.write:
        Path(args.write).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
