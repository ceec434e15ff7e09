"""Builds the whole site into site/: catalogue JSON, mkdocs pages, the in-browser checker,
the offline cache and the printable handouts. Run `python -m site_build` (or `make site`)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from . import catalogue, checker_assets, handouts, offline, precompress, screen_assets

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")   # MB_SITE_DIR: build elsewhere (a test, a helper)


def step(name, fn, *args):
    start = time.perf_counter()
    fn(*args)
    print(f"site_build: {name} ({time.perf_counter() - start:.1f} s)", flush=True)


def mkdocs_build(site=None, **env):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", **env)
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(site or SITE)],
                   cwd=ROOT, env=env, check=True)


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
    try:
        step("mkdocs pages", mkdocs_build)
    except subprocess.CalledProcessError as err:  # mkdocs printed why above; no traceback of ours on top
        print(f"网页生成失败（见上面 mkdocs 的消息）/ mkdocs failed (exit {err.returncode}; its message is above)",
              file=sys.stderr)
        return 2
    step("checker (wheel, Pyodide)", checker_assets.build, SITE)
    step("batch screening (stdlib, build.json)", screen_assets.build, SITE)
    # The print footer (address, QR code, source) goes into every page; --no-pdf skips only the PDFs.
    pdf = "--no-pdf" not in argv
    step("print footers" + (" and handouts (PDF)" if pdf else ""), handouts.build, SITE, pdf)
    step("offline cache (service worker)", offline.build, SITE)
    step("precompressed .br and .gz (reused from build/precompress/)", precompress.build, SITE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
