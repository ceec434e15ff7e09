"""Artefact keys and the build cache: an artefact (every PDF handout, every page mkdocs writes) is
stored under a hash of exactly what it is made from, and a later build that computes the same key
reuses it instead of making it again. Pages: site_build/hooks.py (`input_key`, `page_key`), in
build/cache/pages/; each county file's compiled entry: site_build/catalogue.py, in build/cache/catalogue/;
the search index's per-county parts and the words jieba cut: site_build/search.py, in build/cache/search/;
what the offline step knows of each file: build/cache/offline/; and the record of what the last build
left in each site folder: site_build/state.py, in build/cache/state/.

A PDF's key (site_build/handouts.py `pdf_key`) hashes:
  - the handout's HTML as the templates render it from the catalogue (so its catalogue entries,
    the print templates and handout.css, which the HTML includes inline, and the helper code);
  - the font files it loads (the Noto Sans CJK subset, itself deterministic);
  - the PDF date written into its metadata (the source document's date);
  - the build version: this cache's format, site_build/handouts.py's own source (the printing
    and fitting code), the Chromium binary and Playwright's version.
An edit anywhere in one county changes the HTML of that county's handouts only (and a template
edit the HTML of every handout that uses it), so only those are printed again.

The cache lives in build/cache/<kind>/ (`MB_BUILD_CACHE` moves it; `MB_BUILD_CACHE=off` turns it
off): `<key[:2]>/<key>.pdf` with `<key>.json` beside it (pages, fit, seconds it took). Files are
written to a temporary name and renamed into place, so two builds may share a cache. Entries are
hard-linked into site/ (copied where links are impossible) and made read-only: site/'s PDFs are
to be replaced (mkdocs --clean, rsync), never written in place, or the cache entry changes with them.
Two jobs whose HTML is the same (the same form in two counties) share one entry. A build removes the entries it did not
use that are more than a day old (`prune`; a build does so at most hourly, `prune_due`).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMAT = "1"                     # bump to throw every cached artefact away
PRUNE_AFTER = 24 * 3600          # seconds an unused entry is kept (another build may still want it)
PRUNE_EVERY = 3600               # seconds between two prunes of one cache by the builds (`prune_due`)


def digest(*parts) -> str:
    """sha256 of the parts (str, bytes, or anything JSON can write), each length-prefixed."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            part = part.encode("utf-8")
        elif not isinstance(part, (bytes, bytearray)):
            part = json.dumps(part, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_folder(kind: str) -> Path | None:
    """build/cache/<kind>, `$MB_BUILD_CACHE/<kind>`, or None when MB_BUILD_CACHE=off."""
    env = os.environ.get("MB_BUILD_CACHE", "").strip()
    if env.lower() in ("off", "0", "no", "none"):
        return None
    return (Path(env) if env else ROOT / "build" / "cache") / kind


def prune_due(folder, every: float = PRUNE_EVERY) -> bool:
    """Whether the cache in `folder` was not pruned by a build in the last `every` seconds; if so it
    is marked as pruned now. A prune looks at every entry's mtime: at national size ≈ 3 s of each
    one-county edit's build for the pages alone, to find entries a day old. Pruning hourly keeps the
    same entries (an entry is removed a day after its last use either way, at most an hour later)."""
    marker = Path(folder) / ".pruned"
    now = time.time()
    try:
        if now - marker.stat().st_mtime < every:
            return False
    except OSError:
        pass
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass
    return True


class Cache:
    """Files under their key, with a small JSON of facts about each (pages, fit …)."""

    def __init__(self, folder, suffix: str = ".pdf"):
        self.folder = Path(folder)
        self.suffix = suffix
        self.used: set[str] = set()
        self.hits = self.misses = 0

    def _path(self, key: str, suffix: str) -> Path:
        return self.folder / key[:2] / f"{key}{suffix}"

    def get(self, key: str) -> dict | None:
        """The entry's facts if it is stored (and marks it used), else None."""
        data, meta = self._path(key, self.suffix), self._path(key, ".json")
        try:
            facts = json.loads(meta.read_text(encoding="utf-8"))
            if not data.is_file():
                raise FileNotFoundError(data)
            os.utime(meta)                       # prune() keeps what is in use
        except (OSError, ValueError):
            self.misses += 1
            return None
        self.used.add(key)
        self.hits += 1
        return facts

    def put(self, key: str, src: Path, facts: dict):
        """Store a copy of `src` under `key` (the file first, its facts last: facts mean complete)."""
        data, meta = self._path(key, self.suffix), self._path(key, ".json")
        data.parent.mkdir(parents=True, exist_ok=True)
        tmp = data.with_name(f".{data.name}.{os.getpid()}")
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o444)
        os.replace(tmp, data)
        tmp = meta.with_name(f".{meta.name}.{os.getpid()}")
        tmp.write_text(json.dumps(facts, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        os.replace(tmp, meta)
        self.used.add(key)

    def place(self, key: str, dest: Path, link: bool = True):
        """Put the stored file at `dest` (a hard link, else a copy; a copy when not `link`: pages,
        which later build steps rewrite in place)."""
        src = self._path(key, self.suffix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() or dest.is_symlink():
            dest.unlink()
        if link:
            try:
                os.link(src, dest)
                return
            except OSError:
                pass
        shutil.copyfile(src, dest)

    def prune(self, older_than: float = PRUNE_AFTER, every: float = 0) -> int:
        """Remove entries this build did not use and nobody used for `older_than` seconds; with
        `every`, only if no build pruned this cache in the last `every` seconds (`prune_due`)."""
        if not self.folder.is_dir() or (every and not prune_due(self.folder, every)):
            return 0
        now, n = time.time(), 0
        for meta in self.folder.glob("*/*.json"):
            key = meta.stem
            try:
                if key in self.used or now - meta.stat().st_mtime < older_than:
                    continue
                meta.unlink()
                self._path(key, self.suffix).unlink(missing_ok=True)
                n += 1
            except OSError:
                pass
        return n
