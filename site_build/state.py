"""What a successful `python -m site_build` left in its site folder, so that the next build redoes
only what changed (issue 17: one county's edit in seconds at national size).

At the end of a build (`record`) every file of the site folder is listed with its size and mtime,
beside the build's version (`site_version`: everything the site is made from other than the
counties' own data — the code, templates, hand-written pages, mkdocs.yml, shared.yaml, words.yaml,
the tools' versions and MB_SITE_URL) and what the steps report (the hooks: the page structure and
each page's input key; the handouts: each PDF's key).

The next build (`begin`) keeps the folder only when its version is the same. Then mkdocs leaves a
page whose inputs are unchanged as it is (hooks.py; the hooks empty the folder after all when the
page structure changed), and each later step — print footers, PDFs, offline manifests,
precompression — works only on the files whose size or mtime differ from the record (`changed`).
Otherwise the folder is emptied and built whole, as `mkdocs build --clean` does. The record is
removed when a build starts and written when it ends: a build that fails or is stopped leaves
none, and the next one starts clean. Anything else that writes into the folder (a hand-run
`mkdocs build`, an editor) changes sizes or mtimes, or removes the record (the hooks do)."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from checker.catalogue import read_json

from . import cache

ROOT = Path(__file__).resolve().parent.parent
FORMAT = "1"
# What every file of the site may depend on besides the counties' data (folders: every file in them).
INPUTS = ("site_build", "checker", "content", "mkdocs.yml", "catalogue/shared.yaml", "catalogue/words.yaml",
          "requirements.txt", "package-lock.json", "deploy",
          "tests/cases")   # the rule sheets show the test cases of each service
SKIP = {"checker/catalogue.json"}      # the counties' data: each step tracks what it reads of it
ENV = ("MB_SITE_URL", "SOURCE_DATE_EPOCH", "MB_CATALOGUE", "MB_TEMPLATES", "MB_CHROMIUM")


def site_version() -> str:
    """The hash of every input of the site other than the counties' data (see INPUTS, ENV)."""
    from importlib.metadata import PackageNotFoundError, version
    parts: list = [FORMAT, sys.version]
    for name in ("mkdocs", "mkdocs-material", "jieba", "playwright", "segno", "fonttools", "brotli", "pyyaml"):
        try:
            parts.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name}=-")
    for name in INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path] if path.is_file() else []
        for f in files:
            if f.relative_to(ROOT).as_posix() in SKIP:
                continue
            parts += [f.relative_to(ROOT).as_posix(), cache.file_digest(f)]
    parts += [f"{k}={os.environ.get(k, '')}" for k in ENV]
    chromium = os.path.realpath(os.environ.get("MB_CHROMIUM", "/usr/bin/chromium"))
    try:
        st = os.stat(chromium)
        parts.append(f"{chromium}:{st.st_size}:{int(st.st_mtime)}")
    except OSError:
        parts.append(chromium)
    return cache.digest(*parts)


def _path(site_dir: Path) -> Path | None:
    folder = cache.default_folder("state")
    return None if folder is None else folder / f"{cache.digest(str(Path(site_dir).resolve()))[:24]}.json"


def begin(site_dir: Path, version: str) -> dict | None:
    """The record of the last build of `site_dir` if it can be built on (same version, folder there),
    else None. Either way the record is removed: this build writes a new one when it ends."""
    path = _path(site_dir)
    if path is None:
        return None
    try:
        previous = read_json(path.read_text(encoding="utf-8"))     # 40 MB at national size
    except (OSError, ValueError):
        previous = None
    forget(site_dir)
    if not previous or previous.get("version") != version or not Path(site_dir).is_dir():
        return None
    return previous


def for_pages(previous: dict) -> dict:
    """What the page hooks read of a record (site_build/hooks.py): their own section and the HTML
    files' sizes and mtimes. At national size that is a third of the record (40 MB), which mkdocs'
    process would otherwise parse whole."""
    files = previous.get("files") or {}
    return {**{k: v for k, v in previous.items() if k not in ("files", "handouts")},
            "files": {rel: st for rel, st in files.items() if rel.endswith(".html")}}


def forget(site_dir: Path):
    """Remove the record: the next build starts clean."""
    path = _path(site_dir)
    if path is not None:
        path.unlink(missing_ok=True)


def scan(site_dir: Path) -> dict:
    """{path relative to site_dir: [size, mtime_ns]} of every file under it."""
    out, stack = {}, [(os.fspath(site_dir), "")]     # strings: a Path per folder (every page has one) costs seconds
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    stack.append((e.path, prefix + e.name + "/"))
                elif e.is_file(follow_symlinks=False):
                    st = e.stat(follow_symlinks=False)
                    out[prefix + e.name] = [st.st_size, st.st_mtime_ns]
    return out


def changed(site_dir: Path, previous: dict | None) -> set | None:
    """The files of site_dir that are new or differ in size or mtime from the record; None (all of
    them) without a record."""
    if previous is None:
        return None
    old = previous.get("files") or {}
    return {rel for rel, st in scan(site_dir).items() if old.get(rel) != st}


def unchanged(site_dir: Path, previous: dict | None, rel: str) -> bool:
    """Whether one file is as the record has it."""
    if previous is None:
        return False
    try:
        st = os.stat(Path(site_dir) / rel)
    except OSError:
        return False
    return (previous.get("files") or {}).get(rel) == [st.st_size, st.st_mtime_ns]


def record(site_dir: Path, version: str, **sections):
    """Write the record of this build (call last, after every step succeeded)."""
    path = _path(site_dir)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, "version": version, "files": scan(site_dir), **sections}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)
