"""Offline after one visit: writes site/sw.js (the service worker, from sw.template.js) with this
build's precache list, and adds the registering script (assets/offline.js) to every page.

The precache holds the site's shell: home, province, comparison, glossary, away, search and tool
pages with the CSS, JS and search index they use. Two kinds of files are cached on demand instead,
so the download after a first visit does not grow with the number of counties (≈ 2,800 one day):
- a county's own pages form a group `county/<province>/<county>/`, listed in that folder's
  offline.json; a page of the county asks for it (its script tag carries data-offline-group). While
  all the counties' pages together stay under ALL_COUNTIES_BELOW (today's five counties: ~2.5 MB
  raw, ~0.6 MB compressed) they are simply precached with the shell, so a cadre who only opened
  the checker can still read every service page offline. The checker itself never asks for a
  county: a request that depended on the profile would tell the server where the elder lives;
- the search index's word and document shards (search/t<i>.json, d<k>.json, site_build/search.py)
  once the whole index reaches ALL_SEARCH_BELOW (national size: ≈ 50 MB in 5,300 files, which
  every reader's first visit would download): then only meta.json and hints.json are precached, and
  the service worker keeps each shard the search page fetches (its fetch handler keeps what it
  serves from the network), so a search done once online works offline. "出门前下载" then keeps no
  shards either;
- the heavy files of the in-browser tools (Pyodide's runtime, the trimmed stdlib, the lock file and
  the wheel with the catalogue — ~4 MB compressed) form groups cached when a tool page asks
  (GROUP_PAGES), so a reader who only opens a guide page does not download Pyodide;
- "出门前下载，没有网络也能查" (offline.js, on the home, checker and screening pages): one tap keeps the
  shell and the PREPARE groups, file by file with progress (sw.js's SIZES: raw and brotli bytes from
  the build, whose total the pages show as "约 N MB"); nothing is prefetched without that tap. Left out: source maps, sitemaps, the theme's own
scripts no page references, and PDFs (kept by the service worker once opened). The cache name is a
hash of every cached file, so a new build replaces the old cache as a whole.

The script tag is added here rather than in the theme so the service worker, its file list and its
registration always come from the same build step.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

TEMPLATE = Path(__file__).with_name("sw.template.js")
REGISTER = "assets/offline.js"
SKIP_SUFFIXES = (".map", ".gz", ".br", ".pdf", ".xlsx")   # .gz, .br: precompressed copies (precompress.py)
SKIP_NAMES = {"sitemap.xml", "sw.js"}
THEME_DIRS = ("assets/javascripts/", "assets/stylesheets/")   # mkdocs-material's: only what pages use
# on-demand groups: files (by path prefix) a tool page needs, cached when that page asks
GROUPS = {
    # the checker keeps the screening page's small extra stdlib too (csv, xml: ~24 KB brotli), which its
    # visit list's export and import load on demand (issue 14), so they work offline after the checker
    "checker": ("assets/pyodide/", "assets/checker/py/", "assets/screen/py/screen-stdlib-"),
    "screen": ("assets/pyodide/", "assets/checker/py/", "assets/screen/py/"),
}
GROUPED = tuple(sorted({prefix for prefixes in GROUPS.values() for prefix in prefixes}))
# the pages that ask for a group (the registering script tag carries data-offline-group)
GROUP_PAGES = {"checker/index.html": "checker", "screen/index.html": "screen"}
COUNTY_MANIFEST = "offline.json"
ALL_COUNTIES_BELOW = 8 * 2**20   # bytes (raw) of all county pages together: precache them all below this
# Bytes (raw) of the whole search index (search/*.json) below which all of it is precached with the
# shell. Today's 0.1 MB (30 counties: 0.4 MB, 300: 4.7 MB, 2,850: 50 MB, BENCHMARKS.md), reached
# near 120 counties: 2 MB raw is ≈ 0.6 MB brotli (today's index: 99 KB → 29 KB), which would add
# two thirds to today's whole shell (4.8 MB raw, 0.94 MB brotli): the most a reader who may never
# search should download for it. Above it the index of counties they never search for is left to
# the network, and the shards of one search (≈ 20–140 KB gzip) are kept when fetched.
ALL_SEARCH_BELOW = 2 * 2**20
SEARCH_INDEX = re.compile(r"search/(?:meta|hints|[td][0-9]+)\.json")
SEARCH_ALWAYS = ("search/meta.json", "search/hints.json")   # precached at any size: every search reads meta.json
REF_RE = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#?]+)""")


def _rel(path: Path, site: Path) -> str:
    return path.relative_to(site).as_posix()


def _referenced(site: Path, pages: list[Path]) -> set[str]:
    """Site files named by a src= or href= in any page (resolved against the page's URL)."""
    import posixpath
    out = set()
    for page in pages:
        base = _rel(page.parent, site)
        for ref in set(REF_RE.findall(page.read_text(encoding="utf-8", errors="replace"))):
            if "://" in ref or ref.startswith(("mailto:", "tel:", "data:", "javascript:")):
                continue
            # as strings (the site has no symlinks): Path.resolve() of each of a national site's
            # ≈ 20 million links asked the file system every time
            target = posixpath.normpath(ref.lstrip("/") if ref.startswith("/") else posixpath.join(base, ref))
            if target == ".." or target.startswith("../"):
                continue                      # outside the site
            out.add(target)
    return out


def precache_files(site: Path) -> list[Path]:
    site = Path(site)
    files = sorted(p for p in site.rglob("*") if p.is_file())
    pages = [p for p in files if p.suffix == ".html"]
    used = _referenced(site, pages)
    out = []
    for path in files:
        rel = _rel(path, site)
        if path.name in SKIP_NAMES or path.suffix in SKIP_SUFFIXES:
            continue
        if rel.startswith(THEME_DIRS) and rel not in used:
            continue
        out.append(path)
    return out


def search_on_demand(site: Path, files: list[Path]) -> set[str]:
    """The search shards (rel paths) left out of the precache: none while the index is smaller than
    ALL_SEARCH_BELOW, else every word and document shard (the fetch handler keeps them when fetched)."""
    index = {_rel(p, site): p for p in files if SEARCH_INDEX.fullmatch(_rel(p, site))}
    if sum(p.stat().st_size for p in index.values()) < ALL_SEARCH_BELOW:
        return set()
    return {rel for rel in index if rel not in SEARCH_ALWAYS}


def url_of(rel: str) -> str:
    """The URL (relative to the site root) a browser asks for: directory form for index pages."""
    if rel == "index.html":
        return "./"
    if rel.endswith("/index.html"):
        return rel[: -len("index.html")]
    return rel


def county_dirs(site: Path) -> list[str]:
    """The county folders of the site ("zhejiang/yongjia/"), from the compiled catalogue the pages
    were built from (MB_CATALOGUE's, as site_build/hooks.py reads it, else the project's)."""
    import os
    from checker.catalogue import load_catalogue
    catalogue = load_catalogue(os.environ.get("MB_CATALOGUE") or None)
    return sorted(c["url"] for c in catalogue["counties"].values() if (site / c["url"]).is_dir())


def _county_of(rel: str, counties) -> str | None:
    """The county folder holding `rel`, looked up by its leading path parts ("a/", "a/b/" …, the
    shortest first): a set of 2,850 counties costs no more than five."""
    end = rel.find("/")
    while end != -1:
        if rel[: end + 1] in counties:
            return rel[: end + 1]
        end = rel.find("/", end + 1)
    return None


def _with_register(text: str, rel: str, counties) -> str:
    """The page with <script src=".../assets/offline.js" defer> before </head> (once)."""
    if rel == "404.html":   # served at any depth, so a relative src would point nowhere
        return text
    if REGISTER in text:
        return text
    depth = rel.count("/")
    src = "../" * depth + REGISTER
    county = _county_of(rel, counties)
    name = GROUP_PAGES.get(rel) or (f"county/{county}" if county else None)
    group = f' data-offline-group="{name}"' if name else ""
    tag = f'<script src="{src}"{group} defer></script>'
    if "</head>" not in text:
        return text
    return text.replace("</head>", f"{tag}\n</head>", 1)


def inject_register(site: Path, counties: list[str]):
    """Add <script src=".../assets/offline.js" defer> before </head> in every page (once)."""
    counties = set(counties)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        new = _with_register(text, _rel(page, site), counties)
        if new != text:
            page.write_text(new, encoding="utf-8")


# Content-Security-Policy of every page, as a <meta> so it holds on any static host: only the site
# itself. Pyodide (in the tools' module workers) needs 'wasm-unsafe-eval' to compile WebAssembly;
# the theme's CSS draws icons from data: SVGs. Inline scripts and styles (the 大字 switch in the
# head, Material's small helpers, the print footer's @page style) are allowed by their hashes,
# computed per page after every build step that writes HTML, so nothing else inline can run.
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n?')
INLINE = {"script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S),
          "style": re.compile(r"<style[^>]*>(.*?)</style>", re.S)}


def _hashes(text: str, kind: str) -> str:
    found = dict.fromkeys(base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
                          for body in INLINE[kind].findall(text))
    return "".join(f" 'sha256-{h}'" for h in found)


def content_security_policy(text: str) -> str:
    """The policy for one page (its inline scripts and styles by hash)."""
    return ("default-src 'self'; "
            f"script-src 'self' 'wasm-unsafe-eval'{_hashes(text, 'script')}; "
            f"style-src 'self'{_hashes(text, 'style')}; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'")


def _with_policy(text: str) -> str | None:
    """The page with its Content-Security-Policy <meta> first in <head>; None if it has no head."""
    text = CSP_META.sub("", text)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(text)}">\n'
    charset = re.search(r"<meta charset=[^>]*>\n?", text, re.I)
    head = re.search(r"<head[^>]*>\n?", text, re.I)
    at = charset or head
    if at is None:
        return None
    return text[: at.end()] + meta + text[at.end():]


def add_security_policy(site: Path):
    """Put the Content-Security-Policy <meta> first in every page's <head> (again on a rebuild)."""
    for page in site.rglob("*.html"):
        new = _with_policy(page.read_text(encoding="utf-8"))
        if new is not None:
            page.write_text(new, encoding="utf-8")


def rewrite_pages(site: Path, counties) -> dict:
    """inject_register and then add_security_policy, reading and writing each page once:
    {rel: sha256 digest of the page as written} (build() hashes every file for the cache name)."""
    counties, out = set(counties), {}
    for page in site.rglob("*.html"):
        rel = _rel(page, site)
        raw = page.read_bytes()
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")   # as read_text reads it
        new = _with_register(text, rel, counties)
        new = _with_policy(new) or new
        data = new.encode("utf-8")
        if data != raw:
            page.write_bytes(data)
        out[rel] = hashlib.sha256(data).digest()
    return out


def groups(site: Path, files: list[Path]) -> dict:
    """{group: [urls]} of the on-demand groups, from the cacheable files."""
    rels = [_rel(p, site) for p in files]
    return {name: [url_of(r) for r in rels if r.startswith(prefixes)] for name, prefixes in GROUPS.items()}


# "出门前下载，没有网络也能查" (issue 14; offline.js): one tap keeps the shell and these groups. The
# pages carrying that block show its size ("约 N MB": brotli bytes, as deploy/nginx.conf serves them).
PREPARE = ("checker", "screen")
PREPARE_PAGES = ("index.html", "checker/index.html", "screen/index.html")
PREPARE_SIZE = re.compile(r"(<span data-prepare-size>)[^<]*(</span>)")


def rel_of(url: str) -> str:
    """The file behind a URL of url_of()."""
    return "index.html" if url == "./" else url + "index.html" if url.endswith("/") else url


def prepare_sizes(site: Path, shell: list[str], grouped: dict) -> dict:
    """{url: [raw bytes, bytes on the wire]} of everything "prepare" downloads (the shell and the
    PREPARE groups); on the wire: the .br copy precompress.py writes (from its cache), else the file."""
    from concurrent.futures import ThreadPoolExecutor
    from . import precompress
    urls = sorted(set(shell).union(*(grouped[name] for name in PREPARE)))
    paths = [site / rel_of(u) for u in urls]
    with ThreadPoolExecutor(max_workers=2) as pool:
        wire = list(pool.map(precompress.wire_size, paths))
    return {u: [p.stat().st_size, w] for u, p, w in zip(urls, paths, wire)}


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f}" if n < 10e6 else f"{n / 1e6:.0f}"


def fill_prepare_size(site: Path, wire: int):
    """Write "N" of "约 N MB" into the pages that offer the download."""
    for rel in PREPARE_PAGES:
        page = site / rel
        if page.is_file():
            text = page.read_text(encoding="utf-8")
            new = PREPARE_SIZE.sub(lambda m: m[1] + megabytes(wire) + m[2], text)
            if new != text:
                page.write_text(new, encoding="utf-8")


def build(site_dir) -> dict:
    site = Path(site_dir)
    if not (site / REGISTER).exists():
        raise FileNotFoundError(f"{site / REGISTER} is missing: it comes from content/pages/{REGISTER}")
    counties = county_dirs(site)
    files = precache_files(site)
    county_set = set(counties)
    county_bytes = sum(p.stat().st_size for p in files if _county_of(_rel(p, site), county_set))
    grouped_counties = counties if county_bytes >= ALL_COUNTIES_BELOW else []
    grouped_set = set(grouped_counties)
    page_digests = rewrite_pages(site, grouped_set)     # inject_register, add_security_policy
    per_county: dict = {c: [] for c in grouped_counties}
    for path in files:
        county = _county_of(_rel(path, site), grouped_set)
        if county:
            per_county[county].append(url_of(_rel(path, site)))
    for county, urls in per_county.items():
        manifest = site / county / COUNTY_MANIFEST
        manifest.write_text(json.dumps(sorted(urls), ensure_ascii=False), encoding="utf-8")
    digest = hashlib.sha256()
    for path in files:
        rel = _rel(path, site)
        digest.update(rel.encode())
        digest.update(page_digests.get(rel) or hashlib.sha256(path.read_bytes()).digest())
    cache = f"yanglao-{digest.hexdigest()[:16]}"
    on_demand = search_on_demand(site, files)
    base = [p for p in files if not _rel(p, site).startswith(GROUPED) and not _county_of(_rel(p, site), grouped_set)
            and _rel(p, site) not in on_demand]
    urls = [url_of(_rel(p, site)) for p in base]
    grouped = groups(site, files)
    sizes = prepare_sizes(site, urls, grouped)
    fill_prepare_size(site, sum(w for _, w in sizes.values()))
    sw = TEMPLATE.read_text(encoding="utf-8")
    sw = (sw.replace("__CACHE__", cache)
            .replace("__PRECACHE__", json.dumps(urls, ensure_ascii=False, indent=0))
            .replace("__GROUPS__", json.dumps(grouped, ensure_ascii=False, indent=0))
            .replace("__PREPARE__", json.dumps(list(PREPARE)))
            .replace("__SIZES__", json.dumps(sizes, ensure_ascii=False, separators=(",", ":"))))
    (site / "sw.js").write_text(sw, encoding="utf-8")
    return {"cache": cache, "files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "precache_bytes": sum(p.stat().st_size for p in base), "county_groups": len(grouped_counties),
            "search_on_demand": len(on_demand),
            "prepare_files": len(sizes), "prepare_bytes": sum(r for r, _ in sizes.values()),
            "prepare_wire": sum(w for _, w in sizes.values())}
