"""Builds the whole site into site/: catalogue JSON, mkdocs pages, the in-browser checker,
the offline cache and the printable handouts. Run `python -m site_build` (or `make site`)."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

from . import catalogue, checker_assets, handouts, offline, precompress, screen_assets, state

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")   # MB_SITE_DIR: build elsewhere (a test, a helper)


def step(name, fn, *args):
    start = time.perf_counter()
    fn(*args)
    print(f"site_build: {name} ({time.perf_counter() - start:.1f} s)", flush=True)


def mkdocs_build(site=None, previous=None, **env):
    """mkdocs build into `site`; with `previous` (the last build's record, site_build/state.py) the
    hooks keep the folder and rewrite only the pages whose inputs changed. Returns the hooks'
    report (pages written, reused, kept; what the next build's record needs)."""
    import json
    import tempfile
    with tempfile.TemporaryDirectory(prefix="mb-mkdocs-") as tmp:
        report = Path(tmp) / "pages.json"
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MB_PAGES_REPORT=str(report), **env)
        if previous is not None:
            (Path(tmp) / "previous.json").write_text(json.dumps(state.for_pages(previous), ensure_ascii=False),
                                                     encoding="utf-8")
            env["MB_PREVIOUS_STATE"] = str(Path(tmp) / "previous.json")
        # mkdocs' command line, ended without freeing its heap one object at a time (site_build/exit.py)
        subprocess.run([sys.executable, "-m", "site_build.exit", "mkdocs", "build", "--strict", "--clean",
                        "--site-dir", str(site or SITE)], cwd=ROOT, env=env, check=True)
        try:
            return json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}


def shard_pages(shard):
    """The pages of shard K's provinces, drawn into the page cache (build/cache/pages/, see
    site_build/hooks.py); the folder mkdocs writes them to is thrown away: the shard's cache is its output."""
    import tempfile
    from . import cache
    folder = cache.default_folder("pages")
    if folder is None:
        raise ValueError("--shard stores its pages in the build cache: MB_BUILD_CACHE must not be off")
    folder.mkdir(parents=True, exist_ok=True)    # a shard of no province still has a cache to merge
    with tempfile.TemporaryDirectory(prefix="mb-shard-pages-") as tmp:
        mkdocs_build(Path(tmp) / "site", MB_PAGE_SHARD=f"{shard[0]}/{shard[1]}")


def _values(argv, option) -> list:
    """The words after `option` up to the next option ("--merge a b --no-pdf" → [a, b])."""
    if option not in argv:
        return []
    out = []
    for word in argv[argv.index(option) + 1:]:
        if word.startswith("--"):
            break
        out.append(word)
    return out


def main(argv=None) -> int:
    """python -m site_build [--no-pdf] [--merge CACHE ...] | --shard K/N [--no-pdf] (see README: building in shards)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        step("catalogue → checker/catalogue.json", catalogue.compile_catalogue)
    except catalogue.CatalogueError as err:
        print(f"目录有错误 / the catalogue has errors:\n{err}", file=sys.stderr)
        return 2
    try:
        if "--shard" in argv:      # only this shard's PDFs and pages, into the build cache
            shard = handouts.parse_shard((_values(argv, "--shard") or [""])[0])
            if "--no-pdf" not in argv:
                step(f"handouts (PDF) of shard {shard[0]}/{shard[1]}", handouts.print_shard, shard)
            step(f"pages of shard {shard[0]}/{shard[1]}", shard_pages, shard)
            return 0
        if "--merge" in argv:      # the shards' caches first: the build below then prints nothing they printed
            step("shard caches joined", handouts.merge_caches, _values(argv, "--merge"))
    except (ValueError, FileNotFoundError, subprocess.CalledProcessError) as err:
        print(err, file=sys.stderr)
        return 2
    # The last build's record of site/ (site_build/state.py): with it, every step below redoes only
    # what changed; without it (first build, code or templates changed, a failed build) all of it.
    pdf = "--no-pdf" not in argv
    version = state.site_version() + ("" if pdf else " no-pdf")    # a site/ with PDFs is not built on without, nor back
    previous = state.begin(SITE, version)
    pages = {}
    try:
        step("mkdocs pages", lambda: pages.update(mkdocs_build(previous=previous)))
    except subprocess.CalledProcessError as err:  # mkdocs printed why above; no traceback of ours on top
        print(f"网页生成失败（见上面 mkdocs 的消息）/ mkdocs failed (exit {err.returncode}; its message is above)",
              file=sys.stderr)
        return 2
    handouts_previous = previous
    if previous is not None and (previous.get("pages") or {}).get("structure") != (pages.get("state") or {}).get("structure"):
        # the hooks emptied site/: the steps below start from nothing, but the handouts of counties
        # whose inputs are the same are placed from the PDF cache by their recorded keys, unrendered
        previous, handouts_previous = None, {"files": {}, "handouts": previous.get("handouts")}
    print(f"site_build: {len(pages.get('written', ()))} pages drawn, {pages.get('reused', 0)} from the cache, "
          f"{pages.get('kept', 0)} left as they were", flush=True)
    # the compiled catalogue, read once for the steps below (at national size each read is seconds)
    from checker.catalogue import load_catalogue
    compiled = load_catalogue(catalogue.COMPILED)
    # it, and the last build's record, live to the end: frozen, the cycle collector stops walking them
    # each time a later step makes objects (a pass over the national catalogue is ≈ 0.8 s; the site
    # folder's scan alone took 3.5 s instead of 1.5 s for it)
    gc.freeze()
    step("checker (wheel, Pyodide)", checker_assets.build, SITE, compiled)
    step("batch screening (stdlib, build.json)", screen_assets.build, SITE)
    # The print footer (address, QR code, source) goes into every page; --no-pdf skips only the PDFs.
    step("print footers" + (" and handouts (PDF)" if pdf else ""), lambda: handouts.build(
        SITE, pdf, previous=handouts_previous, h=handouts.Handouts(compiled)))
    step("offline cache (service worker)", lambda: offline.build(SITE, previous=previous))
    step("precompressed .br and .gz (reused from build/precompress/)", lambda: precompress.build(SITE, previous=previous))
    state.record(SITE, version, pages=pages.get("state") or {},
                 handouts=getattr(handouts, "last_record", None) if pdf else (previous or {}).get("handouts"))
    return 0


if __name__ == "__main__":
    from .exit import hard_exit
    hard_exit(main())       # the catalogue and the records are not freed object by object (site_build/exit.py)
