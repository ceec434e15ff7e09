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

Run on its own: `.venv/bin/python -m site_build.precompress [site-dir]`.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "precompress"
CACHE_DAYS = 14            # cache entries not used for this long are removed
SUFFIXES = {".html", ".css", ".js", ".mjs", ".json", ".xml", ".svg", ".txt", ".csv", ".map",
            ".wasm", ".zip", ".whl", ".ico", ".webmanifest"}
MIN_BYTES = 512            # below this a compressed response saves less than its headers cost
MAX_RATIO = 0.9            # keep a compressed file only if it is at most 90 % of the original
ENCODINGS = {".br": lambda data: brotli.compress(data, quality=11, lgwin=22),
             ".gz": lambda data: gzip.compress(data, compresslevel=9, mtime=0)}
DECODE = {".br": brotli.decompress, ".gz": gzip.decompress}
VERSIONS = f"brotli-{brotli.version}-q11-w22/zlib-{zlib.ZLIB_RUNTIME_VERSION}-9"


def candidates(site: Path) -> list[Path]:
    return sorted(p for p in Path(site).rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _cached(data: bytes, ext: str, cache: Path | None) -> bytes:
    if cache is None:
        return ENCODINGS[ext](data)
    key = hashlib.sha256(VERSIONS.encode() + b"\0" + data).hexdigest()
    entry = cache / key[:2] / (key + ext)
    try:
        out = entry.read_bytes()
        os.utime(entry)               # used: keep it
        return out
    except OSError:
        pass
    out = ENCODINGS[ext](data)
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
    for ext in ENCODINGS:
        target = path.with_name(path.name + ext)
        packed = _cached(data, ext, cache) if len(data) >= MIN_BYTES else None
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
    data = path.read_bytes()
    if path.suffix.lower() not in SUFFIXES or len(data) < MIN_BYTES:
        return len(data)
    packed = _cached(data, ext, cache)
    return len(packed) if len(packed) <= MAX_RATIO * len(data) else len(data)


def _prune(cache: Path):
    cutoff = time.time() - CACHE_DAYS * 86400
    for entry in cache.glob("*/*"):
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            pass


def build(site_dir, cache: Path | None = CACHE) -> dict:
    """Write the .br and .gz files of site_dir; returns totals (bytes raw / brotli / gzip of the
    files that got them, and how many files were compressed or skipped)."""
    site = Path(site_dir)
    files = candidates(site)
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        results = list(pool.map(lambda p: _one(p, cache), files))
    if cache is not None and cache.is_dir():
        _prune(cache)
    done = [r for r in results if ".br" in r or ".gz" in r]
    return {"files": len(files), "compressed": len(done), "skipped": len(files) - len(done),
            "raw": sum(r["raw"] for r in done), "br": sum(r.get(".br", r["raw"]) for r in done),
            "gz": sum(r.get(".gz", r["raw"]) for r in done)}


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "site"
    start = time.perf_counter()
    totals = build(target)
    print(f"{totals['compressed']} of {totals['files']} files compressed: {totals['raw'] / 1e6:.2f} MB → "
          f"brotli {totals['br'] / 1e6:.2f} MB, gzip {totals['gz'] / 1e6:.2f} MB "
          f"({time.perf_counter() - start:.1f} s)")
