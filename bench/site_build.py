"""Benchmark of the guide site's build: a synthetic catalogue of N counties (copies of the real county
files, re-coded into provinces of 30 counties) built stage by stage into a temp dir, each stage in a
child process (wall time, CPU time of the stage and its children, peak resident memory):

  compile     site_build.catalogue: the YAML files → catalogue.json
  mkdocs      mkdocs build --strict (pages, and the search index in its post-build hook), with an
              empty page cache (site_build/hooks.py: it fills it) and MB_PAGE_JOBS page writers
  rebuild     mkdocs again after one amount of one county is changed (edit_one_amount), with the
              cache the first build filled: the pages drawn again and the pages reused
  search      site_build.search.build_index alone (it also runs inside mkdocs)
  offline     site_build.offline.build: the service worker, county manifests, CSP
  footers     site_build.handouts.stamp_pages: the print footer and QR code in every page
  pdf keys    every handout's HTML rendered and keyed (what an incremental build does before it
              knows there is nothing to print)
  pdf county  the PDFs of one county (booklet, 核对表, every 明白卡 …), printed with one Chromium
              per core, no cache

and what a reader downloads: a service page's first visit, a search for 高龄津贴, a county's
offline cache. Plus the real site's build time and first visit.

Run: .venv/bin/python -m bench.site_build [--counties 30,300,2850] [--skip-real] [--stages ...]
     .venv/bin/python -m bench.site_build --search-only --counties 5,300   (search index and queries only, no mkdocs)
     .venv/bin/python -m bench.site_build --shards 3 --counties 300       (merged shards = single build?)
     .venv/bin/python -m bench.site_build --shards 3 --counties 300 --pdf (the same with every PDF: ~2 printings)
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checker.profile import PROVINCE_PREFIXES  # noqa: E402
from site_build import catalogue as loader  # noqa: E402
from site_build import search as site_search  # noqa: E402

PER_PROVINCE = 30
LOADS = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"', re.I)


def first_visit_bytes(page: Path) -> tuple[int, int, list]:
    """HTML + the stylesheets and scripts it loads: (raw bytes, gzip -9 bytes, files)."""
    files = [page]
    for match in LOADS.finditer(page.read_text(encoding="utf-8")):
        ref = next(g for g in match.groups() if g)
        target = (page.parent / urlparse(ref).path).resolve()
        if target.is_file():
            files.append(target)
    raw = sum(f.stat().st_size for f in files)
    gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    return raw, gz, files


def synthetic_catalogue(n: int, out: Path, per_province: int = PER_PROVINCE) -> Path:
    """Write n county files into out/<province>/ (re-coded copies of the real ones, `per_province`
    to a province) and compile them."""
    real = loader.county_files()
    if not real:
        raise SystemExit("catalogue/ has no county files to copy")
    prefixes = sorted(PROVINCE_PREFIXES)
    for i in range(n):
        src = real[i % len(real)]
        text = src.read_text(encoding="utf-8")
        old_code = re.search(r'^\s*code:\s*"(\d{6})"', text, re.M).group(1)
        p = i // per_province
        k = i % per_province
        # code: province prefix, then a 2-digit "city" and a 2-digit county number, both from 01
        city, county = (p // len(prefixes)) * (per_province // 99 + 1) + k // 99, k % 99
        code = f"{prefixes[p % len(prefixes)]}{city + 1:02d}{county + 1:02d}"
        province_slug, slug = f"p{p:02d}", f"c{i:04d}"
        text = text.replace(f'"{old_code}', f'"{code}')
        text = re.sub(r"^(\s*slug:\s*)\S+\s*$", rf"\g<1>{slug}", text, count=1, flags=re.M)
        text = re.sub(r"^(\s*province_slug:\s*)\S+\s*$", rf"\g<1>{province_slug}", text, count=1, flags=re.M)
        text = re.sub(r"^(\s*province:\s*)\S+\s*$", rf"\g<1>样本省{p:02d}", text, count=1, flags=re.M)
        text = re.sub(r"^(\s*name:\s*)(\S+?)([县市区])\s*$", rf"\g<1>\g<2>{i}\g<3>", text, count=1, flags=re.M)
        folder = out / province_slug
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{slug}.yaml").write_text(text, encoding="utf-8")
        # the loader checks each county's document in sources/<province>/<county>/: link the real one
        sources = loader.SEEDS_DIR / src.parent.name / src.stem
        if sources.is_dir():
            (out / "sources" / province_slug).mkdir(parents=True, exist_ok=True)
            (out / "sources" / province_slug / slug).symlink_to(sources, target_is_directory=True)
    catalogue = loader.load_catalogue(out)
    return loader.write_compiled(catalogue, out / "catalogue.json")


def mkdocs_build(site_dir: Path, catalogue_json: Path | None = None, cache: Path | None = None) -> dict:
    """Build in a child process; wall time and the child's peak resident memory (with its page
    writers: site_build/hooks.py forks MB_PAGE_JOBS of them), pages written and reused. The page
    cache is `cache` (off when None: every page drawn, none stored)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MB_BUILD_CACHE=str(cache) if cache else "off",
               MB_PAGES_REPORT=str(site_dir) + ".pages.json")
    if catalogue_json:
        env["MB_CATALOGUE"] = str(catalogue_json)
    code = ("import resource, sys, time; from mkdocs.__main__ import cli; t = time.perf_counter()\n"
            "try: cli(['build', '--strict', '--clean', '--quiet', '--site-dir', sys.argv[1]])\n"
            "except SystemExit as e:\n    assert not e.code, e.code\n"
            "u, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "hwm = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')] or [u.ru_maxrss]\n"
            "print(time.perf_counter() - t, u.ru_utime + u.ru_stime + c.ru_utime + c.ru_stime, hwm[0], c.ru_maxrss)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(site_dir)], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    build_s, cpu_s, peak_kb, child_kb = done.stdout.split()[-4:]
    report = json.loads(Path(env["MB_PAGES_REPORT"]).read_text(encoding="utf-8"))
    # peak: the parent's; with its forked writers, which share most of its memory, at most
    # parent + children (ru_maxrss of the largest child counted for each: an upper bound)
    jobs = int(os.environ.get("MB_PAGE_JOBS") or min(os.cpu_count() or 1, 4))
    return {"wall_s": wall, "build_s": float(build_s), "cpu_s": float(cpu_s), "peak_mb": int(peak_kb) / 1024,
            "child_peak_mb": int(child_kb) / 1024, "jobs": jobs,
            "written": len(report["written"]), "reused": report["reused"]}


def edit_one_amount(compiled: Path) -> str:
    """Change one amount of the first county in the compiled catalogue (its first service with an
    amount text: the first number in it + 1), as a county official's one edit. Returns the service id."""
    catalogue = json.loads(compiled.read_text(encoding="utf-8"))
    county = min(catalogue["counties"].values(), key=lambda c: c["code"])
    service = next(s for s in county["services"] if (s.get("amount") or {}).get("text") and re.search(r"\d+", s["amount"]["text"]))
    service["amount"]["text"] = re.sub(r"\d+", lambda m: str(int(m[0]) + 1), service["amount"]["text"], count=1)
    compiled.write_text(json.dumps(catalogue, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return service["id"]


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
t = time.perf_counter()
result = {code}
s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
# VmHWM: this process's own peak (ru_maxrss would start from the parent's at fork)
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")] or [s.ru_maxrss]
print("MBBENCH " + json.dumps({{"build_s": time.perf_counter() - t, "cpu_s": s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime,
                             "peak_mb": max(hwm[0], c.ru_maxrss) / 1024, "result": result}}, default=str))
"""


def run_child(code: str, env: dict | None = None, timeout: float | None = None) -> dict:
    """Run the Python expression `code` in a child process (its statements may come before it,
    separated by ';'): wall time, CPU time (with its own children: Chromium), peak memory, result."""
    *setup, expr = [part.strip() for part in code.split(";")]
    program = "\n".join(setup) + CHILD.format(root=str(ROOT), code=expr)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=dict(os.environ, **(env or {})),
                          capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("MBBENCH ")), None)
    if done.returncode or not line:
        raise RuntimeError(f"stage failed (exit {done.returncode}): {code}\n{done.stderr[-2000:]}")
    out = json.loads(line[len("MBBENCH "):])
    out["wall_s"] = wall
    return out


def stages(work: Path, catalogue_dir: Path, compiled: Path, site_dir: Path, wanted: set, timeout=None) -> dict:
    """Each stage of the build of the catalogue in `catalogue_dir`, in a child process. A stage that
    takes longer than `timeout` seconds is stopped and recorded as {"timeout_s": timeout}."""
    # the stages' build caches (pages, search words, QR masks, PDFs) in the work folder, never the project's
    out, env = {}, {"MB_CATALOGUE": str(compiled), "NO_MKDOCS_2_WARNING": "1",
                    "MB_BUILD_CACHE": os.environ.get("MB_BUILD_CACHE") or str(work / "cache")}

    def child(code, env=None):
        try:
            r = run_child(code, env, timeout)
        except subprocess.TimeoutExpired:
            print(f"  (a stage passed {timeout} s and was stopped: {code[-80:]})", flush=True)
            return {"timeout_s": timeout, "build_s": float("nan"), "cpu_s": float("nan"), "peak_mb": float("nan"),
                    "result": None}
        print(f"  … {r['build_s']:.1f} s ({r['cpu_s']:.1f} s CPU, peak {r['peak_mb']:.0f} MB): {code[-60:]}", flush=True)
        return r
    load = f"from checker.catalogue import load_catalogue; cat = load_catalogue({str(compiled)!r})"
    if "compile" in wanted:
        out["compile"] = child(f"from pathlib import Path; from site_build import catalogue as L; "
                               f"L.write_compiled(L.load_catalogue(Path({str(catalogue_dir)!r})), Path({str(compiled)!r})) and None")
    out["mkdocs"] = mkdocs_build(site_dir, compiled, work / "cache")
    print(f"  … mkdocs {out['mkdocs']['build_s']:.1f} s ({out['mkdocs']['cpu_s']:.1f} s CPU, "
          f"peak {out['mkdocs']['peak_mb']:.0f} MB + {out['mkdocs']['jobs'] - 1} writers ≤ "
          f"{out['mkdocs']['child_peak_mb']:.0f} MB each; {out['mkdocs']['written']} pages written)", flush=True)
    if "rebuild" in wanted:   # one amount edited, the same page cache: only what shows it is drawn again
        service = edit_one_amount(compiled)
        out["rebuild"] = r = mkdocs_build(site_dir, compiled, work / "cache")
        print(f"  … mkdocs after one amount of {service} changed: {r['build_s']:.1f} s ({r['cpu_s']:.1f} s CPU, "
              f"peak {r['peak_mb']:.0f} MB): {r['written']} pages written, {r['reused']} reused", flush=True)
    if "search" in wanted:
        out["search"] = child(f"{load}; from site_build import pages, search; "
                              f"len(search.build_index(pages.Site(cat)))", env)
    if "offline" in wanted:   # offline.county_dirs reads MB_CATALOGUE's catalogue, as the pages did
        out["offline"] = child(f"from site_build import offline; offline.build({str(site_dir)!r})", env)
    if "footers" in wanted:
        out["footers"] = child(f"{load}; from site_build import handouts; "
                               f"handouts.stamp_pages(__import__('pathlib').Path({str(site_dir)!r}), handouts.Handouts(cat))", env)
    if "pdfkeys" in wanted:
        out["pdf_keys"] = child(
            f"{load}; from site_build import handouts as H; h = H.Handouts(cat); js = H.jobs(h); "
            f"[len(js), len({{H.pdf_key(j, h.render(j.template, job=j, fonts=None, page_of={{}}, **j.context), '', '') for j in js}})]",
            env)
    if "pdfcounty" in wanted:
        out["pdf_county"] = child(
            f"{load}; from pathlib import Path; from site_build import handouts as H; h = H.Handouts(cat); "
            f"first = h.site.counties[0]['code']; all_jobs = H.jobs; "
            f"H.jobs = lambda h: [j for j in all_jobs(h) if j.context['county']['code'] == first]; "
            f"[(j.kind, j.pages, j.bytes) for j in H.render_all(h, Path({str(site_dir)!r}), work=Path({str(work / 'hwork')!r}), "
            f"cache=None, log=lambda *a: None)]", env)
    return out


PDF_OBJECT = re.compile(rb"(?<![0-9])(\d+) 0 obj\b(.*?)\bendobj", re.S)


def pdf_difference(a: Path, b: Path) -> str:
    """What differs between two PDFs, object by object (Chromium writes plain, uncompressed object
    dictionaries; streams are compared as bytes): the objects that differ, each with its first words,
    and whether the only difference is the order of the tagged-PDF IDTree's names (its entries
    sorted by Chromium by the DOM node numbers, which normalise_pdf renumbers but does not re-sort)."""
    objects = [{int(m[1]): m[2] for m in PDF_OBJECT.finditer(f.read_bytes())} for f in (a, b)]
    differ = sorted(n for n in objects[0].keys() | objects[1].keys() if objects[0].get(n) != objects[1].get(n))
    if not differ:
        return "same objects, other bytes (header, cross-reference table or trailer)"

    def names(body):
        return sorted(re.findall(rb"\((node\d+)\) (\d+ 0 R)", body))
    order_only = all(b"/Names [" in (objects[0].get(n) or b"") and objects[1].get(n) is not None
                     and names(objects[0][n]) == names(objects[1][n]) for n in differ)
    shown = "; ".join(f"obj {n}: {(objects[0].get(n) or b'(none)')[:60]!r} / {(objects[1].get(n) or b'(none)')[:60]!r}"
                      for n in differ[:3])
    return (f"{len(differ)} objects differ" + (" (only the order of the IDTree names)" if order_only else "")
            + f": {shown}")


def shard_comparison(n: int, shards: int, work: Path, per_province: int, pdf: bool = False) -> dict:
    """The sharded build against the single one: the synthetic catalogue of n counties drawn in
    `shards` shards (MB_PAGE_SHARD, each its own build cache), the caches joined, the merging build;
    and one build without any cache. Every file of the two sites is compared.

    With `pdf`, the handouts too, as a CI matrix does (site_build/__main__.py `--shard K/N`, then
    `--merge`): each shard prints its provinces' PDFs into its own cache (handouts.print_shard) before
    drawing its pages, the caches are joined (handouts.merge_caches), the merging build places every
    PDF from the joined cache (handouts.build: it must print none) and the single build prints them
    all into an empty cache; PDFs and handouts.json are compared with everything else. Without it,
    the pages and the offline step only (tests/test_incremental.py shows the PDFs on the real catalogue)."""
    import filecmp
    from site_build import handouts, offline
    compiled = synthetic_catalogue(n, work / "catalogue", per_province)
    out = {"counties": n, "shards": shards, "pdf": pdf}
    # Handouts() reads the project's compiled catalogue (checker/catalogue.json): in the children that
    # print, it reads this synthetic catalogue's instead (what the pages are built from)
    handouts_of = (f"from checker.catalogue import load_catalogue as L; from site_build import handouts as H; "
                   f"H.compiled_catalogue = lambda: L({str(compiled)!r})")

    def pdf_step(name, code, cache):
        r = run_child(f"{handouts_of}; from pathlib import Path; {code}",
                      {"MB_CATALOGUE": str(compiled), "NO_MKDOCS_2_WARNING": "1", "MB_BUILD_CACHE": str(cache)})
        out[name] = r
        return r

    env_before = dict(os.environ)
    try:
        for k in range(1, shards + 1):
            (work / f"shard{k}").mkdir(parents=True, exist_ok=True)   # a shard of no province: an empty cache
            if pdf:   # `--shard K/N`: its PDFs first, into its cache
                r = pdf_step(f"shard{k}_pdf", f"mine = H.print_shard(({k}, {shards}), log=lambda *a: None); "
                                              f"[len(mine), sum(not j.reused for j in mine), sum(j.bytes for j in mine)]",
                             work / f"shard{k}")
                print(f"  shard {k}/{shards}: {r['result'][0]} PDFs ({r['result'][1]} printed, {r['result'][2] / 1e6:.0f} MB), "
                      f"{r['wall_s']:.0f} s ({r['cpu_s']:.0f} s CPU, peak {r['peak_mb']:.0f} MB)", flush=True)
            os.environ["MB_PAGE_SHARD"] = f"{k}/{shards}"
            r = mkdocs_build(work / f"shard{k}-site", compiled, work / f"shard{k}")
            del os.environ["MB_PAGE_SHARD"]
            out[f"shard{k}"] = r
            print(f"  shard {k}/{shards}: {r['written']} pages drawn, {r['build_s']:.1f} s ({r['cpu_s']:.1f} s CPU)", flush=True)
            subprocess.run(["rm", "-rf", str(work / f"shard{k}-site")], check=True)
        os.environ["MB_BUILD_CACHE"] = str(work / "merged")
        t = time.perf_counter()
        joined = handouts.merge_caches([work / f"shard{k}" for k in range(1, shards + 1)], log=lambda *a: None)
        out["join"] = {"wall_s": time.perf_counter() - t, "files": joined}
        print(f"  caches joined: {joined} files, {out['join']['wall_s']:.1f} s", flush=True)
        out["merge"] = r = mkdocs_build(work / "merged-site", compiled, work / "merged")
        print(f"  merging build: {r['written']} pages drawn, {r['reused']} from the shards, {r['build_s']:.1f} s "
              f"({r['cpu_s']:.1f} s CPU)", flush=True)
        if pdf:   # print footers, then every PDF from the joined cache: none printed
            r = pdf_step("merge_pdf", f"done = H.build(Path({str(work / 'merged-site')!r}), pdf=True, log=lambda *a: None); "
                                      f"[len(done), sum(not j.reused for j in done), sum(j.bytes for j in done)]",
                         work / "merged")
            out["merge_printed"] = r["result"][1]
            print(f"  merging build's handouts: {r['result'][0]} PDFs, {r['result'][1]} printed, {r['wall_s']:.1f} s "
                  f"({r['cpu_s']:.1f} s CPU)", flush=True)
        out["single"] = r = mkdocs_build(work / "single-site", compiled, None)
        print(f"  single build: {r['written']} pages, {r['build_s']:.1f} s ({r['cpu_s']:.1f} s CPU)", flush=True)
        if pdf:   # everything printed, the build cache empty
            (work / "single-cache").mkdir(parents=True, exist_ok=True)
            r = pdf_step("single_pdf", f"done = H.build(Path({str(work / 'single-site')!r}), pdf=True, log=lambda *a: None); "
                                       f"[len(done), sum(not j.reused for j in done), sum(j.bytes for j in done)]",
                         work / "single-cache")
            print(f"  single build's handouts: {r['result'][0]} PDFs, {r['result'][1]} printed, {r['wall_s']:.0f} s "
                  f"({r['cpu_s']:.0f} s CPU, peak {r['peak_mb']:.0f} MB)", flush=True)
        os.environ["MB_CATALOGUE"] = str(compiled)
        t = time.perf_counter()
        for name in ("merged-site", "single-site"):
            offline.build(work / name)
        out["offline_both_s"] = time.perf_counter() - t
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    a, b = work / "merged-site", work / "single-site"
    names = sorted({p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
                   | {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()})
    differ = [x for x in names if not ((a / x).is_file() and (b / x).is_file() and filecmp.cmp(a / x, b / x, shallow=False))]
    pdfs = [x for x in names if x.endswith(".pdf")]
    out.update(files=len(names), pdfs=len(pdfs), differ=differ[:20], n_differ=len(differ),
               pdfs_differ=sum(x.endswith(".pdf") for x in differ))
    out["pdf_differences"] = {x: pdf_difference(a / x, b / x) for x in differ
                              if x.endswith(".pdf") and (a / x).is_file() and (b / x).is_file()}
    print(f"  merged vs single: {len(names)} files ({len(pdfs)} PDFs), {len(differ)} differ "
          f"({out['pdfs_differ']} PDFs) {differ[:5]}", flush=True)
    for x, why in out["pdf_differences"].items():
        print(f"    {x}: {why}", flush=True)
    return out


def county_cache_bytes(site_dir: Path, county_url: str) -> tuple[int, int]:
    """What the service worker caches for a reader of one county: (raw, gzip -9) bytes of the
    precached shell and, when counties are cached one at a time, that county's offline.json files."""
    from site_build import offline
    sw = (site_dir / "sw.js").read_text(encoding="utf-8")
    urls = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", sw, re.S).group(1)) if "const PRECACHE" in sw else []
    manifest = site_dir / county_url / offline.COUNTY_MANIFEST
    if manifest.is_file():
        urls += json.loads(manifest.read_text(encoding="utf-8"))
    files = []
    for url in urls:
        path = site_dir / url.lstrip("/")
        if url.endswith("/") or not path.suffix:
            path = path / "index.html"
        if path.is_file():
            files.append(path)
    return sum(f.stat().st_size for f in files), sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)


def search_download(search_dir: Path, query: str) -> tuple[int, int]:
    """Bytes (raw, gzip -9) the /search/ page fetches for `query` (site_build.search.query does
    what search.js does): meta.json, the word shards it needs, the document shards of 40 results."""
    _, names = site_search.query(search_dir, query)
    data = [(search_dir / name).read_bytes() for name in names]
    return sum(map(len, data)), sum(len(gzip.compress(b, 9)) for b in data)


# What a search downloads, for queries of every kind the page meets: the (everyday words,
# spoken questions, ages in words), the documents' own words, a county with a service, nothing found.
SEARCHES = ["高龄津贴", "低保", "体检", "敬老院", "瘫痪在床", "老年大学", "打官司不要钱", "老兵补贴", "老人摔跤",
            "我今年85岁能领什么钱", "九十多岁老人有什么待遇", "失能老人护理补贴", "坐公交免费吗", "永嘉高龄津贴", "火星移民"]


def search_only(n: int | None, work: Path) -> dict:
    """Build only the search index (the real catalogue when n is None, else n synthetic counties) and
    measure each of SEARCHES: files and bytes (raw, gzip -9) it fetches."""
    from site_build import pages
    if n is None:
        catalogue = loader.load_catalogue()
    else:
        catalogue = json.loads(synthetic_catalogue(n, work / "catalogue").read_text(encoding="utf-8"))
    out = work / "search"
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    for name, content in site_search.build_index(pages.Site(catalogue)).items():
        (out / name).write_text(json.dumps(content, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    build_s = time.perf_counter() - t
    files = list(out.glob("*.json"))
    r = {"counties": len(catalogue["counties"]), "index_build_s": build_s, "index_files": len(files),
         "index_kb": sum(f.stat().st_size for f in files) / 1024,
         "meta_gz_kb": len(gzip.compress((out / "meta.json").read_bytes(), 9)) / 1024, "queries": {}}
    for q in SEARCHES:
        urls, names = site_search.query(out, q)
        raw, gz = search_download(out, q)
        r["queries"][q] = {"files": len(names), "kb": raw / 1024, "gz_kb": gz / 1024, "results": len(urls)}
    return r


def sizes(site_dir: Path, catalogue: dict) -> dict:
    county = next(iter(catalogue["counties"].values()))
    service = county["services"][0]
    service_page = site_dir / service["url"] / "index.html"
    raw, gz, _ = first_visit_bytes(service_page)
    index = [p for p in (site_dir / "search").glob("*.json")]
    one_raw, one_gz = search_download(site_dir / "search", "高龄津贴")
    html_files = list(site_dir.rglob("*.html"))
    return {
        "pages": len(html_files),
        "service_html_kb": service_page.stat().st_size / 1024,
        "county_html_kb": (site_dir / county["url"] / "index.html").stat().st_size / 1024,
        "first_visit_kb": raw / 1024, "first_visit_gz_kb": gz / 1024,
        "search_index_kb": sum(p.stat().st_size for p in index) / 1024,
        "search_index_files": len(index),
        "search_gaoling_kb": one_raw / 1024, "search_gaoling_gz_kb": one_gz / 1024,
        "site_mb": sum(f.stat().st_size for f in site_dir.rglob("*") if f.is_file()) / 2**20,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", default="30,300", help="comma-separated synthetic sizes")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--search-only", action="store_true", help="only the search index and SEARCHES (5 = the real catalogue)")
    parser.add_argument("--stages", default="compile,rebuild,search,offline,footers,pdfkeys,pdfcounty",
                        help="stages besides mkdocs (compile,rebuild,search,offline,footers,pdfkeys,pdfcounty; "
                             "rebuild: mkdocs again after one amount is changed, with the first build's page cache)")
    parser.add_argument("--provinces", type=int, default=31, help="spread N counties over this many provinces, at least 30 to a province")
    parser.add_argument("--per-province", type=int, default=0, help="counties to a province (instead of --provinces)")
    parser.add_argument("--stage-timeout", type=float, default=None, help="stop a stage (not mkdocs) after this many seconds")
    parser.add_argument("--shards", type=int, default=0,
                        help="instead: the sharded build (pages, offline) of each size against the single one")
    parser.add_argument("--pdf", action="store_true", help="with --shards: the handouts too (each printed twice: heavy)")
    parser.add_argument("--keep", default="", help="with --shards: work in this folder and keep it (to look at what differs)")
    args = parser.parse_args(argv)
    wanted = set(args.stages.split(","))
    results = {}
    if args.shards:
        with tempfile.TemporaryDirectory(prefix="mb-bench-shards-") as tmp:
            for n in (int(x) for x in args.counties.split(",") if x):
                print(f"{n} counties in {args.shards} shards" + (" with their PDFs:" if args.pdf else ":"), flush=True)
                results[f"shards_{n}"] = shard_comparison(n, args.shards, Path(args.keep or tmp) / f"s{n}",
                                                          args.per_province or max(PER_PROVINCE, -(-n // args.provinces)),
                                                          pdf=args.pdf)
        print(json.dumps(results, ensure_ascii=False, indent=1))
        # a failure too: a merging build that printed (the shards' caches did not hold every PDF)
        return 0 if all(not r["n_differ"] and not r.get("merge_printed") for r in results.values()) else 1
    if args.search_only:
        with tempfile.TemporaryDirectory(prefix="mb-bench-search-") as tmp:
            real = len(loader.load_catalogue()["counties"])
            for n in (int(x) for x in args.counties.split(",") if x):
                r = search_only(None if n == real else n, Path(tmp) / f"s{n}")
                results[f"search_{n}"] = r
                print(f"{r['counties']} counties: index {r['index_kb']:.0f} KB in {r['index_files']} files "
                      f"(built in {r['index_build_s']:.1f} s), meta.json {r['meta_gz_kb']:.1f} KB gzip", flush=True)
                for q, m in r["queries"].items():
                    print(f"  {q}: {m['files']} files, {m['kb']:.1f} KB raw / {m['gz_kb']:.1f} KB gzip, {m['results']} results",
                          flush=True)
        print(json.dumps(results, ensure_ascii=False, indent=1))
        return 0
    with tempfile.TemporaryDirectory(prefix="mb-bench-") as tmp:
        tmp = Path(tmp)
        if not args.skip_real:
            t = time.perf_counter()
            compiled = loader.compile_catalogue(tmp / "real.json")
            compile_s = time.perf_counter() - t
            real = json.loads(compiled.read_text(encoding="utf-8"))
            r = mkdocs_build(tmp / "real-site")
            r.update(sizes(tmp / "real-site", real), compile_s=compile_s, counties=len(real["counties"]),
                     services=sum(len(c["services"]) for c in real["counties"].values()))
            # the heaviest service page a phone can open first
            pages = [tmp / "real-site" / s["url"] / "index.html" for c in real["counties"].values() for s in c["services"]]
            worst = max(pages, key=lambda p: first_visit_bytes(p)[1])
            raw, gz, files = first_visit_bytes(worst)
            r.update(worst_page=str(worst.relative_to(tmp / "real-site")), worst_first_visit_kb=raw / 1024,
                     worst_first_visit_gz_kb=gz / 1024, first_visit_files=[f.name for f in files])
            results["real"] = r
            print(f"real site: {r['counties']} counties, {r['services']} services, {r['pages']} pages: "
                  f"catalogue {compile_s:.2f} s, mkdocs {r['build_s']:.1f} s ({r['cpu_s']:.1f} s CPU), peak {r['peak_mb']:.0f} MB; "
                  f"service page first visit {r['first_visit_kb']:.1f} KB raw / {r['first_visit_gz_kb']:.1f} KB gzip "
                  f"(heaviest {r['worst_page']}: {r['worst_first_visit_kb']:.1f} / {r['worst_first_visit_gz_kb']:.1f} KB)",
                  flush=True)
        for n in (int(x) for x in args.counties.split(",") if x):
            work = tmp / f"syn{n}"
            t = time.perf_counter()
            compiled = synthetic_catalogue(n, work / "catalogue", args.per_province or max(PER_PROVINCE, -(-n // args.provinces)))
            generate_s = time.perf_counter() - t
            print(f"synthetic {n} counties generated and compiled in {generate_s:.1f} s", flush=True)
            catalogue = json.loads(compiled.read_text(encoding="utf-8"))
            st = stages(work, work / "catalogue", compiled, work / "site", wanted, args.stage_timeout)
            r = dict(st["mkdocs"])
            r.update(sizes(work / "site", catalogue), generate_s=generate_s, counties=n, stages=st,
                     compile_s=st.get("compile", {}).get("build_s", generate_s),
                     catalogue_json_mb=compiled.stat().st_size / 2**20,
                     services=sum(len(c["services"]) for c in catalogue["counties"].values()))
            if "offline" in st and "timeout_s" not in st["offline"]:
                county = next(iter(catalogue["counties"].values()))
                raw, gz = county_cache_bytes(work / "site", county["url"])
                r.update(county_cache_kb=raw / 1024, county_cache_gz_kb=gz / 1024,
                         county_groups=(st["offline"]["result"] or {}).get("county_groups"))
            results[f"synthetic_{n}"] = r
            print(f"synthetic {n} counties, {r['services']} services, {r['pages']} pages (catalogue.json "
                  f"{r['catalogue_json_mb']:.1f} MB): service page {r['service_html_kb']:.1f} KB, "
                  f"county page {r['county_html_kb']:.1f} KB, first visit {r['first_visit_gz_kb']:.1f} KB gzip; "
                  f"search index {r['search_index_kb']:.0f} KB in {r['search_index_files']} files, a search for 高龄津贴 "
                  f"fetches {r['search_gaoling_kb']:.0f} KB / {r['search_gaoling_gz_kb']:.0f} KB gzip; "
                  + (f"a county's offline cache {r['county_cache_kb']:.0f} KB / {r['county_cache_gz_kb']:.0f} KB gzip; "
                     if "county_cache_kb" in r else "")
                  + f"site {r['site_mb']:.0f} MB", flush=True)
            for name, stage in st.items():
                print(f"  {name:10} {stage['build_s']:7.1f} s  ({stage['cpu_s']:7.1f} s CPU, peak {stage['peak_mb']:6.0f} MB)"
                      + (f"  {stage['result']}" if name == "pdf_keys" else ""), flush=True)
            if st.get("pdf_county", {}).get("result"):
                made = st["pdf_county"]["result"]
                print(f"  one county's PDFs: {len(made)} files, {sum(x[1] for x in made)} pages, "
                      f"{sum(x[2] for x in made) / 1e6:.1f} MB", flush=True)
            subprocess.run(["rm", "-rf", str(work)], check=True)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
