"""Offline after one visit: writes site/sw.js (the service worker, from sw.template.js) with this
build's precache list, and adds the registering script (assets/offline.js) to every page.

The precache holds the site's shell: home, province, comparison, glossary, away, search and tool
pages with the CSS, JS and search index they use. Two kinds of files are cached on demand instead,
so the download after a first visit does not grow with the number of counties (≈ 2,800 one day):
- a county's own pages form a group `county/<province>/<county>/`, listed in that folder's
  offline.json; a page of the county asks for it (its script tag carries data-offline-group). While
  all the counties' pages together stay under ALL_COUNTIES_BELOW (today's five counties: ~2.5 MB
  raw, ~0.6 MB compressed) they are simply precached with the shell, so a cadre who only opened
  the checker can still read every service page offline. A county's folder also holds its
  catalogue entry for the checker (checker-<hash>.json, site_build/checker_assets.py). While the
  checker's worker fetches every entry at its start (build.json `all_at_start`: a small catalogue,
  today's), the entries join the checker and screening groups too, so the tools start offline after
  "出门前下载" however the county pages are cached, and no request depends on a profile; above it
  the worker fetches a county's entry when a profile names the county (as a reader opening that
  county's page tells the server the county), and the entry is kept with the county's group;
- the search index's word and document shards (search/t<i>.json, d<k>.json, site_build/search.py)
  once the whole index reaches ALL_SEARCH_BELOW (national size: ≈ 50 MB in 5,300 files, which
  every reader's first visit would download): then only meta.json and hints.json are precached, and
  the service worker keeps each shard the search page fetches (its fetch handler keeps what it
  serves from the network), so a search done once online works offline. "出门前下载" then keeps no
  shards either;
- a page outside the county folders of over SHELL_PAGE_BELOW (256 KB raw: at national size the
  province pages, the comparisons and the 人户分离 page, which list counties), kept once opened;
- the heavy files of the in-browser tools (Pyodide's runtime, the trimmed stdlib, the lock file and
  the wheel and the catalogue's index — ~4 MB compressed) form groups cached when a tool page asks
  (GROUP_PAGES), so a reader who only opens a guide page does not download Pyodide;
- "出门前下载，没有网络也能查" (offline.js, on the home, checker and screening pages): one tap keeps the
  shell and the PREPARE groups, file by file with progress (sw.js's SIZES: raw and brotli bytes from
  the build, whose total the pages show as "约 N MB"); nothing is prefetched without that tap. Left out: source maps, sitemaps, handouts.json (no page reads it), the theme's own
scripts no page references, and PDFs (kept by the service worker once opened). The cache name is a
hash of every cached file, so a new build replaces the old cache as a whole.

The script tag is added here rather than in the theme so the service worker, its file list and its
registration always come from the same build step. Nothing the whole site decides goes into every
page (a page's tag names its own county group, its policy hashes its own inline code; only the
three pages that offer the download carry a site-wide number), so after a one-county edit only that
county's pages, those three and sw.js change. Given the last build's record (`previous`), build()
reads only the files that changed since (what it needs of the others is in its facts, see build).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("sw.template.js")
REGISTER = "assets/offline.js"
SKIP_SUFFIXES = (".map", ".gz", ".br", ".pdf", ".xlsx")   # .gz, .br: precompressed copies (precompress.py)
# handouts.json: the list of every PDF for people and tools (site_build/handouts.py), read by no page:
# 28 KB today, 15 MB nationally, rewritten by every edit (its brotli size alone took 19 s to measure)
SKIP_NAMES = {"sitemap.xml", "sw.js", "handouts.json"}
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
# Bytes (raw, as mkdocs wrote it) from which a page outside the county folders leaves the precache:
# it is kept when opened (the fetch handler keeps every page it serves). These pages list the counties
# of a province or of the country and grow with them: at 2,850 counties a province page is 0.5 MB, a
# comparison 1.4–4 MB, the 人户分离 page 10.5 MB, and the shell every reader's first visit stores was
# 78.6 MB (2.2 MB gzip), nearly all of it counties the reader never looks at. Today's largest such
# page is 30 KB. (A county's own pages follow ALL_COUNTIES_BELOW: with their county, whatever their size.)
SHELL_PAGE_BELOW = 256 * 2**10
SEARCH_INDEX = re.compile(r"search/(?:meta|hints|[td][0-9]+)\.json")
SEARCH_ALWAYS = ("search/meta.json", "search/hints.json")   # precached at any size: every search reads meta.json
REF_RE = re.compile(r"""(?:src|href)\s*=\s*["']([^"'#?]+)""")


def _rel(path: Path, site: Path) -> str:
    return path.relative_to(site).as_posix()


def _page_refs(rel: str, text: str) -> set[str]:
    """Site files named by a src= or href= in the page `rel` (resolved against the page's URL)."""
    import posixpath
    out = set()
    base = posixpath.dirname(rel)
    for ref in set(REF_RE.findall(text)):
        if "://" in ref or ref.startswith(("mailto:", "tel:", "data:", "javascript:")):
            continue
        # as strings (the site has no symlinks): Path.resolve() of each of a national site's
        # ≈ 20 million links asked the file system every time
        target = posixpath.normpath(ref.lstrip("/") if ref.startswith("/") else posixpath.join(base, ref))
        if target == ".." or target.startswith("../"):
            continue                      # outside the site
        out.add(target)
    return out


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


ENTRY_RE = re.compile(r"checker-[0-9a-f]{12}\.json")   # a county's catalogue entry (site_build/checker_assets.py)
GROUPS_WITH_ENTRIES = ("checker", "screen")


def catalogue_entries(site: Path, files, county_set) -> set:
    """The counties' catalogue entries, when the checker's worker fetches them all at its start
    (assets/checker/build.json `all_at_start`): then its group (and screening's) holds them too."""
    try:
        config = json.loads((site / "assets" / "checker" / "build.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not config.get("all_at_start"):
        return set()
    return {r for r in files if ENTRY_RE.fullmatch(r.rsplit("/", 1)[-1]) and _county_of(r, county_set)}


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


# "出门前下载，没有网络也能查" (issue 14; offline.js): one tap keeps the shell and these groups. The
# pages carrying that block show its size ("约 N MB": brotli bytes, as deploy/nginx.conf serves them).
PREPARE = ("checker", "screen")
PREPARE_PAGES = ("index.html", "checker/index.html", "screen/index.html")
PREPARE_SIZE = re.compile(r"(<span data-prepare-size>)[^<]*(</span>)")


def rel_of(url: str) -> str:
    """The file behind a URL of url_of()."""
    return "index.html" if url == "./" else url + "index.html" if url.endswith("/") else url


def megabytes(n: int) -> str:
    return f"{n / 1e6:.1f}" if n < 10e6 else f"{n / 1e6:.0f}"


def unfilled(data: bytes) -> bytes:
    """A page that offers the download as the service worker counts it: without the size filled in
    (which depends on the sizes counted), so its digest and sizes are the same whatever the page
    says now (a clean build's "5" of the source or the last build's number)."""
    return PREPARE_SIZE.sub(r"\1\2", data.decode("utf-8")).encode("utf-8")


def fill_prepare_size(site: Path, wire: int, rels=PREPARE_PAGES) -> bool:
    """Write "N" of "约 N MB" into the pages that offer the download; whether a page changed."""
    wrote = False
    for rel in rels:
        page = site / rel
        if page.is_file():
            text = page.read_text(encoding="utf-8")
            new = PREPARE_SIZE.sub(lambda m: m[1] + megabytes(wire) + m[2], text)
            if new != text:
                page.write_text(new, encoding="utf-8")
                wrote = True
    return wrote


def _suffix(name: str) -> str:
    """PurePath.suffix of a file name, without making a Path of each of a national site's files."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def _order(rel: str) -> list:
    """The sort key that orders rel paths as sorted(Path) orders the paths (by their parts)."""
    return rel.split("/")


# The registering tag as _with_register writes it (before </head>): taken out before a page is
# rewritten again, so a county page whose group changed gets the new one.
REGISTER_TAG = re.compile(r'<script src="(?:\.\./)*assets/offline\.js"(?: data-offline-group="[^"]*")? '
                          r'defer></script>\n(?=</head>)')
FACTS_FORMAT = "1"


def _unprocessed(raw: bytes) -> bytes:
    """A page without what this step adds (its registering tag and policy): as mkdocs wrote it."""
    if REGISTER.encode() in raw:
        raw = re.sub(REGISTER_TAG.pattern.encode(), b"", raw, count=1)
    if b"Content-Security-Policy" in raw:
        raw = re.sub(CSP_META.pattern.encode(), b"", raw)
    return raw


def _facts_path(site: Path) -> Path | None:
    from . import cache
    folder = cache.default_folder("offline")
    return None if folder is None else folder / f"{cache.digest(str(site.resolve()))[:24]}.json"


def _load_facts(site: Path) -> dict:
    path = _facts_path(site)
    try:
        facts = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        facts = {}
    return facts if facts.get("format") == FACTS_FORMAT else {}


def _save_facts(site: Path, facts: dict):
    import os
    path = _facts_path(site)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(facts, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def build(site_dir, previous: dict | None = None) -> dict:
    """Write sw.js, the county manifests, and each page's registering tag and policy.

    `previous`: the record of the last build of this folder (site_build/state.py). The files whose
    size and mtime are as it has them are as this step left them then, and what this step knows of
    each (its digest, its size before the page was rewritten, its brotli size, the theme files it
    links) is taken from its facts (build/cache/offline/, kept by each file's size and mtime):
    only the new or changed files are read. Without it every file is read, as a clean build does;
    either way the output is the same."""
    import os
    from . import state
    site = Path(site_dir)
    if not (site / REGISTER).exists():
        raise FileNotFoundError(f"{site / REGISTER} is missing: it comes from content/pages/{REGISTER}")
    listing = state.scan(site)                     # {rel: [size, mtime_ns]}
    old_files = (previous or {}).get("files")
    old_facts = _load_facts(site) if previous is not None else {}
    known_facts = old_facts.get("files") or {}
    if previous is not None and not old_facts:
        print(f"offline: no facts of the last build in {_facts_path(site)}: every file is read again", file=sys.stderr)

    def known(rel):
        """What the last build knew of `rel` if it is as that build left it, else None."""
        if old_files is None:
            return None
        fact = known_facts.get(rel)
        st = listing.get(rel)
        if fact is None or st is None or old_files.get(rel) != st or fact[:2] != st:
            return None
        return fact

    # the county folders: the same as the last build's when there is a record (site_build/__main__.py
    # passes one only when the page structure is the same), so the national catalogue is not read again
    counties = old_facts.get("counties") if previous is not None else None
    if counties is None:
        counties = county_dirs(site)
    county_set = set(counties)
    manifests = {c + COUNTY_MANIFEST for c in counties}   # this step's own output, not the pages'
    rels = sorted(listing, key=_order)
    pages = [r for r in rels if r.endswith(".html")]

    # Each page's theme links and its bytes as this step found it: from the facts, else read now.
    refsets = old_facts.get("refsets") or []
    texts: dict = {}          # rel: bytes of each page read in this build (rewritten below)
    page_refs: dict = {}      # rel: the theme files it links
    pre_size: dict = {}       # rel: the page's size before this step rewrote it (a clean build's size)
    for rel in pages:
        fact = known(rel)
        if fact is not None and fact[6] is not None:
            page_refs[rel] = refsets[fact[6]]
            pre_size[rel] = fact[3]
            continue
        raw = (site / rel).read_bytes()
        text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
        texts[rel] = raw
        page_refs[rel] = sorted(r for r in _page_refs(rel, text) if r.startswith(THEME_DIRS))
        pre_size[rel] = len(_unprocessed(raw))
    used = set().union(*page_refs.values()) if page_refs else set()
    files = []
    for rel in rels:
        name = rel.rsplit("/", 1)[-1]
        if name in SKIP_NAMES or _suffix(name) in SKIP_SUFFIXES or rel in manifests:
            continue
        if rel.startswith(THEME_DIRS) and rel not in used:
            continue
        files.append(rel)

    def size_before(rel):
        if rel in pre_size:
            return pre_size[rel]
        fact = known(rel)
        return fact[3] if fact is not None else listing[rel][0]

    county_bytes = sum(size_before(r) for r in files if _county_of(r, county_set))
    grouped_counties = counties if county_bytes >= ALL_COUNTIES_BELOW else []
    grouped_set = set(grouped_counties)

    # Rewrite the pages read above, and the pages of a county that joined or left the groups.
    flipped = set(old_facts.get("grouped") or []) ^ grouped_set if old_facts else set()
    for rel in pages:
        if rel not in texts and flipped and _county_of(rel, flipped):
            texts[rel] = (site / rel).read_bytes()
    written: set = set()
    rewritten: dict = {}      # rel: size of each page rewritten (as counted: `unfilled`)
    digests: dict = {}        # rel: sha256 (hex) of each file as counted (a page: as rewritten, `unfilled`)
    for rel, raw in texts.items():
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")   # as read_text reads it
        text = REGISTER_TAG.sub("", text, count=1)    # an earlier run's tag: its group may have changed
        new = _with_register(text, rel, grouped_set)
        new = _with_policy(new) or new
        data = new.encode("utf-8")
        if data != raw:
            (site / rel).write_bytes(data)
            written.add(rel)
        counted = unfilled(data) if rel in PREPARE_PAGES else data
        digests[rel] = hashlib.sha256(counted).hexdigest()
        rewritten[rel] = len(counted)

    per_county: dict = {c: [] for c in grouped_counties}
    for rel in files:
        county = _county_of(rel, grouped_set)
        if county:
            per_county[county].append(url_of(rel))
    manifest_digests = {}
    for county, urls in per_county.items():
        rel = county + COUNTY_MANIFEST
        data = json.dumps(sorted(urls), ensure_ascii=False).encode("utf-8")
        manifest_digests[rel] = hashlib.sha256(data).hexdigest()
        fact = known(rel)
        if fact is not None and fact[2] == manifest_digests[rel]:
            continue
        path = site / rel
        if not (path.is_file() and path.read_bytes() == data):
            path.write_bytes(data)
            written.add(rel)
    for rel in manifests:
        if rel in listing and rel[: -len(COUNTY_MANIFEST)] not in grouped_set:
            (site / rel).unlink()                 # left from when the county was grouped
            del listing[rel]

    def counted(rel) -> bytes:
        data = (site / rel).read_bytes()
        return unfilled(data) if rel in PREPARE_PAGES else data

    def digest_of(rel):
        if rel not in digests:
            fact = known(rel)
            digests[rel] = fact[2] if fact is not None else hashlib.sha256(counted(rel)).hexdigest()
        return digests[rel]

    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode())
        digest.update(bytes.fromhex(digest_of(rel)))
    cache = f"yanglao-{digest.hexdigest()[:16]}"

    index_bytes = sum(listing[r][0] for r in files if SEARCH_INDEX.fullmatch(r))
    on_demand = set() if index_bytes < ALL_SEARCH_BELOW else \
        {r for r in files if SEARCH_INDEX.fullmatch(r) and r not in SEARCH_ALWAYS}
    big_pages = {r for r in files if r.endswith(".html") and r not in PREPARE_PAGES
                 and not _county_of(r, county_set) and size_before(r) >= SHELL_PAGE_BELOW}
    base = [r for r in files if not r.startswith(GROUPED) and not _county_of(r, grouped_set)
            and r not in on_demand and r not in big_pages]
    urls = [url_of(r) for r in base]
    entries = catalogue_entries(site, files, county_set)
    grouped = {name: [url_of(r) for r in files if r.startswith(prefixes) or (name in GROUPS_WITH_ENTRIES and r in entries)]
               for name, prefixes in GROUPS.items()}

    # "prepare" sizes: raw and brotli bytes of each file (the pages that offer it: `unfilled`)
    prepare_urls = sorted(set(urls).union(*(grouped[name] for name in PREPARE)))
    raw_size, wire = {}, {}
    missing = []
    for u in prepare_urls:
        rel = rel_of(u)
        fact = None if rel in rewritten else known(rel)
        if fact is not None and fact[5] is not None:
            raw_size[rel], wire[rel] = fact[4], fact[5]
        else:
            missing.append(rel)
    if missing:
        from concurrent.futures import ThreadPoolExecutor
        from . import precompress

        def measure(rel):
            data = counted(rel)
            return len(data), precompress.wire_bytes(data, _suffix(rel))
        with ThreadPoolExecutor(max_workers=2) as pool:
            for rel, (raw, packed) in zip(missing, pool.map(measure, missing)):
                raw_size[rel], wire[rel] = raw, packed
    sizes = {u: [raw_size[rel_of(u)], wire[rel_of(u)]] for u in prepare_urls}
    prepare_wire = sum(w for _, w in sizes.values())
    for rel in PREPARE_PAGES:
        if fill_prepare_size(site, prepare_wire, [rel]):
            written.add(rel)
    sw = TEMPLATE.read_text(encoding="utf-8")
    sw = (sw.replace("__CACHE__", cache)
            .replace("__PRECACHE__", json.dumps(urls, ensure_ascii=False, indent=0))
            .replace("__GROUPS__", json.dumps(grouped, ensure_ascii=False, indent=0))
            .replace("__PREPARE__", json.dumps(list(PREPARE)))
            .replace("__SIZES__", json.dumps(sizes, ensure_ascii=False, separators=(",", ":"))))
    sw_path = site / "sw.js"
    if not (sw_path.is_file() and sw_path.read_text(encoding="utf-8") == sw):
        sw_path.write_text(sw, encoding="utf-8")

    for rel in written:
        st = os.stat(site / rel)
        listing[rel] = [st.st_size, st.st_mtime_ns]
    # what the next build may take from here instead of reading the files again
    refset_ids: dict = {}
    out_facts: dict = {}
    for rel in files:
        refs = page_refs.get(rel)
        ref_id = None if refs is None else refset_ids.setdefault(tuple(refs), len(refset_ids))
        out_facts[rel] = [*listing[rel], digest_of(rel), size_before(rel), raw_size.get(rel, listing[rel][0]),
                          wire.get(rel), ref_id]
    for rel, d in manifest_digests.items():
        out_facts[rel] = [*listing[rel], d, listing[rel][0], listing[rel][0], None, None]
    for rel in pages:      # pages left out of the precache still have their links
        if rel not in out_facts:
            out_facts[rel] = [*listing[rel], digest_of(rel), size_before(rel), listing[rel][0], None,
                              refset_ids.setdefault(tuple(page_refs[rel]), len(refset_ids))]
    facts = {"format": FACTS_FORMAT, "counties": counties, "grouped": sorted(grouped_set),
             "refsets": [list(r) for r in refset_ids], "files": out_facts}
    if facts != old_facts:
        _save_facts(site, facts)
    return {"cache": cache, "files": len(files), "bytes": sum(listing[r][0] for r in files),
            "precache_bytes": sum(listing[r][0] for r in base), "county_groups": len(grouped_counties),
            "search_on_demand": len(on_demand), "pages_on_demand": len(big_pages),
            "prepare_files": len(sizes), "prepare_bytes": sum(r for r, _ in sizes.values()),
            "prepare_wire": prepare_wire, "pages_read": len(rewritten)}
