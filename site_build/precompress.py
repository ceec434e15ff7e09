"""Precompressed files: writes X.br (brotli, quality 11) and X.gz (gzip -9) beside every file X of
site/ that compresses, so a host serves the smallest bytes without compressing on every request
(deploy/nginx.conf: `brotli_static` and `gzip_static`; most static hosts do the same with them).

- Which files: text and the runtime (HTML, CSS, JS, JSON, XML, SVG, CSV, the wasm, the stdlib
  zip and the wheel, which are stored uncompressed on purpose); never files that are already
  compressed (PNG, .gz, .br, XLSX …) nor the handout PDFs (their streams are compressed already:
  brotli saves ~11 % of them at ~10 s per MB, minutes for a county's handouts).
- Only where it pays: a file under MIN_BYTES, or whose compressed form is not at least
  (1 - MAX_RATIO) smaller, gets none (and a stale one left by an earlier build is removed).
- Reproducible: the same input gives byte-identical .br and .gz (gzip without name or time);
  each compressed file gets its source's modification time, so every encoding of a URL carries the
  same Last-Modified.
- Brotli at quality 11 is slow (~20 s for Pyodide's 9.6 MB wasm), so results are kept in
  build/precompress/ by the content's SHA-256 (and the compressor versions); a rebuild compresses
  only what changed. Two threads: both compressors release the GIL.
- Given the record of the last build of the folder (`previous`, site_build/state.py), a file whose
  size and mtime, and its copies', are as recorded is not read at all (python -m site_build after
  a one-county edit reads only that county's pages and the few files the edit changed).

Run on its own: `.venv/bin/python -m site_build.precompress [site-dir]`.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli

from .cache import prune_due

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "precompress"
CACHE_DAYS = 14            # cache entries not used for this long are removed
SITES = "sites"            # in the cache: the keys of each site folder's files (see build's `previous`)
SUFFIXES = {".html", ".css", ".js", ".mjs", ".json", ".xml", ".svg", ".txt", ".csv", ".map",
            ".wasm", ".zip", ".whl", ".ico", ".webmanifest"}
MIN_BYTES = 512            # below this a compressed response saves less than its headers cost
MAX_RATIO = 0.9            # keep a compressed file only if it is at most 90 % of the original
# Above BIG bytes, quality 11 takes minutes (≈ 1 MB/s): brotli 5 and gzip 6 instead. So too for
# FAST_NAMES at any size: files no page reads, rewritten by every edit (handouts.json, the list of
# every PDF: 15 MB nationally, 19 s at quality 11 after each one-county edit).
BIG = 16 << 20
FAST_NAMES = {"handouts.json"}
ENCODINGS = {".br": lambda data, fast=False: brotli.compress(data, quality=5 if fast or len(data) >= BIG else 11, lgwin=22),
             ".gz": lambda data, fast=False: gzip.compress(data, compresslevel=6 if fast or len(data) >= BIG else 9, mtime=0)}
DECODE = {".br": brotli.decompress, ".gz": gzip.decompress}
VERSIONS = f"brotli-{brotli.version}-q11-w22/zlib-{zlib.ZLIB_RUNTIME_VERSION}-9"
BIG_VERSIONS = f"{VERSIONS}/above-{BIG}-q5-6"      # the key of a big file's results


def _suffix(rel: str) -> str:
    """PurePath.suffix of the file's name, without making a Path of each of a national site's files."""
    name = rel.rsplit("/", 1)[-1]
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def candidates(site: Path) -> list[Path]:
    return sorted(p for p in Path(site).rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _key(data: bytes, fast: bool = False) -> str:
    return hashlib.sha256((BIG_VERSIONS if fast or len(data) >= BIG else VERSIONS).encode() + b"\0" + data).hexdigest()


def _cached(data: bytes, ext: str, cache: Path | None, key: str | None = None, fast: bool = False) -> bytes:
    if cache is None:
        return ENCODINGS[ext](data, fast)
    key = key or _key(data, fast)
    entry = cache / key[:2] / (key + ext)
    try:
        out = entry.read_bytes()
        os.utime(entry)               # used: keep it
        return out
    except OSError:
        pass
    out = ENCODINGS[ext](data, fast)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        tmp.write_bytes(out)
        os.replace(tmp, entry)        # atomic: a concurrent build reads a whole entry or none
    except OSError:
        pass
    return out


def _one(path: Path, cache: Path | None) -> dict:
    data = path.read_bytes()
    stat = path.stat()
    out = {"raw": len(data)}
    fast = path.name in FAST_NAMES
    if len(data) >= MIN_BYTES and cache is not None:
        out["key"] = _key(data, fast)
    for ext in ENCODINGS:
        target = path.with_name(path.name + ext)
        packed = _cached(data, ext, cache, out.get("key"), fast) if len(data) >= MIN_BYTES else None
        if packed is not None and len(packed) <= MAX_RATIO * len(data):
            if not (target.is_file() and target.read_bytes() == packed):
                target.write_bytes(packed)
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            out[ext] = len(packed)
            continue
        # does not pay: remove what an earlier build left, unless it is this file's content anyway
        # (mkdocs' own sitemap.xml.gz)
        if target.is_file():
            try:
                same = DECODE[ext](target.read_bytes()) == data
            except Exception:
                same = False
            if not same:
                target.unlink()
    return out


def wire_size(path: Path, ext: str = ".br", cache: Path | None = CACHE) -> int:
    """The bytes a host serving the precompressed copies sends for `path`: its `ext` copy where build()
    writes one (same rules, same cache: the offline step asks before this step runs), else the file."""
    path = Path(path)
    return wire_bytes(path.read_bytes(), path.suffix, ext, cache)


def wire_bytes(data: bytes, suffix: str, ext: str = ".br", cache: Path | None = CACHE) -> int:
    """wire_size of a file of these bytes whose name ends in `suffix`."""
    if suffix.lower() not in SUFFIXES or len(data) < MIN_BYTES:
        return len(data)
    packed = _cached(data, ext, cache)
    return len(packed) if len(packed) <= MAX_RATIO * len(data) else len(data)


def _prune(cache: Path):
    """Remove the entries nobody used for CACHE_DAYS (at most once a day: it reads the whole cache),
    but not those of the files of a site folder built since (an incremental build does not look its
    unchanged files up, _in_use)."""
    if not prune_due(cache, 86400):
        return
    cutoff = time.time() - CACHE_DAYS * 86400
    keep = _in_use(cache / SITES)
    for entry in cache.glob("*/*"):
        try:
            if entry.stat().st_mtime < cutoff and entry.name.split(".")[0] not in keep:
                entry.unlink()
        except OSError:
            pass


def _facts_path(site: Path, cache: Path | None) -> Path | None:
    """Where the cache keeps the keys of a site folder's files (SITES: a build that reused them
    without reading the files did not mark their entries used)."""
    return None if cache is None else cache / SITES / f"{hashlib.sha256(str(site.resolve()).encode()).hexdigest()[:24]}.json"


def _load_facts(path: Path | None) -> dict:
    try:
        facts = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return facts if facts.get("versions") == VERSIONS else {}


def _save_facts(path: Path | None, facts: dict):
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(facts, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def _in_use(facts_folder: Path | None) -> set:
    """The cache keys of every site folder's files, as the facts of each one's last build list them
    (a site built incrementally does not look its unchanged files up: their entries are in use all
    the same). Facts older than CACHE_DAYS are removed."""
    keys: set = set()
    if facts_folder is None or not facts_folder.is_dir():
        return keys
    cutoff = time.time() - CACHE_DAYS * 86400
    for path in facts_folder.glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                continue
            keys.update(v[2] for v in json.loads(path.read_text(encoding="utf-8"))["files"].values() if v[2])
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass
    return keys


def _orphans(site: Path, listing: dict) -> list[str]:
    """The .br and .gz files whose source is gone (of sources this step would compress)."""
    out = []
    for rel in listing:
        for ext in ENCODINGS:
            if rel.endswith(ext):
                source = rel[: -len(ext)]
                if source not in listing and _suffix(source).lower() in SUFFIXES:
                    out.append(rel)
    return out


def build(site_dir, previous: dict | None = None, cache: Path | None = CACHE) -> dict:
    """Write the .br and .gz files of site_dir; returns totals (bytes raw / brotli / gzip of the
    files that got them, and how many files were compressed or skipped).

    `previous`: the record of the last build of this folder (site_build/state.py). A file that is as
    it has it, with its .br and .gz as it has them, is as this step left it: it is not read again
    (its totals come from the sizes). Without it every file is compressed (from the cache), as a
    clean build does; either way the output is the same."""
    from . import state
    site = Path(site_dir)
    listing = state.scan(site)
    for rel in _orphans(site, listing):
        (site / rel).unlink()
        del listing[rel]
    old = (previous or {}).get("files")
    facts_path = _facts_path(site, cache)
    facts = _load_facts(facts_path) if previous is not None else {}
    old_keys = facts.get("files") or {}
    files = sorted(rel for rel in listing if _suffix(rel).lower() in SUFFIXES)

    def as_left(rel):
        if old is None or old.get(rel) != listing[rel]:
            return False
        return all(old.get(rel + ext) == listing.get(rel + ext) for ext in ENCODINGS)

    todo = [rel for rel in files if not as_left(rel)]
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        done_now = dict(zip(todo, pool.map(lambda rel: _one(site / rel, cache), todo)))
    results, keys = [], {}
    for rel in files:
        if rel in done_now:
            r = done_now[rel]
            keys[rel] = r.pop("key", None)
        else:                   # as the last build left it: its copies' sizes are what it wrote
            raw = listing[rel][0]
            r = {"raw": raw}
            for ext in ENCODINGS:
                st = listing.get(rel + ext)
                if raw >= MIN_BYTES and st is not None and st[0] <= MAX_RATIO * raw:
                    r[ext] = st[0]
            fact = old_keys.get(rel)
            keys[rel] = fact[2] if fact is not None and fact[:2] == listing[rel] else None
        results.append(r)
    if cache is not None:
        new_keys = {rel: [*listing[rel], k] for rel, k in keys.items() if k}
        if new_keys != old_keys:
            _save_facts(facts_path, {"versions": VERSIONS, "files": new_keys})
        else:
            facts_path.touch()        # still in use (_in_use)
        if cache.is_dir():
            _prune(cache)
    done = [r for r in results if ".br" in r or ".gz" in r]
    return {"files": len(files), "compressed": len(done), "skipped": len(files) - len(done),
            "raw": sum(r["raw"] for r in done), "br": sum(r.get(".br", r["raw"]) for r in done),
            "gz": sum(r.get(".gz", r["raw"]) for r in done), "read": len(todo)}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "site"
    start = time.perf_counter()
    totals = build(target)
    print(f"{totals['compressed']} of {totals['files']} files compressed: {totals['raw'] / 1e6:.2f} MB → "
          f"brotli {totals['br'] / 1e6:.2f} MB, gzip {totals['gz'] / 1e6:.2f} MB "
          f"({time.perf_counter() - start:.1f} s)")
