"""mkdocs hooks: the catalogue's pages (province, county, service, comparison, glossary, 人户分离)
become generated files, the nav becomes the province → county → service tree, generated pages get
their HTML from site_build.pages, markers in hand-written pages are filled, and the search index is
written after the build. Set MB_CATALOGUE=path/to/catalogue.json to build another catalogue (bench)."""
from __future__ import annotations

import gc
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File, InclusionLevel  # noqa: E402
from mkdocs.structure.nav import Link, Navigation, Section  # noqa: E402

from mkdocs.exceptions import PluginError  # noqa: E402

from checker.catalogue import CatalogueMissing, load_catalogue, read_json  # noqa: E402
from site_build import cache as artefacts  # noqa: E402
from site_build import pages as site_pages  # noqa: E402
from site_build import search as site_search  # noqa: E402
from site_build import state as site_state  # noqa: E402
from site_build.catalogue import CatalogueError  # noqa: E402

SITE: site_pages.Site | None = None
log = logging.getLogger("mkdocs.hooks.site_build")
# Markers a hand-written page may hold; each is replaced by a template rendered for that page.
MARKERS = {
    "<!-- mb:home-counties -->": "home_counties.html",
    "<!-- mb:search -->": "search_box.html",
}


def on_config(config):
    global SITE
    try:
        catalogue = load_catalogue(os.environ.get("MB_CATALOGUE") or None)
    except CatalogueMissing as err:   # stale, missing or unreadable: mkdocs prints the message, no traceback
        raise PluginError(str(err)) from None
    SITE = site_pages.Site(catalogue)
    # The catalogue and the site's objects live to the end of the build: frozen, the cycle collector
    # no longer walks them each time the build makes more objects (at national size each pass over
    # them cost ≈ 0.8 s, and mkdocs makes millions more). _join_children unfreezes.
    gc.freeze()
    return config


def on_files(files, config):
    written = {f.src_uri for f in files.documentation_pages()}
    clash = sorted(written & set(SITE.pages))
    if clash:
        raise SystemExit(f"content/pages/ has files that the catalogue generates: {', '.join(clash)}")
    SITE.checker_src = next((s for s in site_pages.CHECKER_PAGES if s in written), None)
    if SITE.checker_src is None and files.get_file_from_path("checker/index.html"):
        SITE.checker_src = "checker/index.html"   # a static page: linked in on_nav
    _FRONT.clear()
    for src, page in SITE.pages.items():
        # A staff page (the 核对表) is not in the nav: without the sidebar its tables get the width.
        front = _FRONT[src] = {"title": page.title, "hide": ["toc"] if page.in_nav else ["toc", "navigation"],
                               "mb_kind": page.template[:-5]}
        files.append(File.generated(config, src, content=f"---\n{json.dumps(front, ensure_ascii=False)}\n---\n",
                                    inclusion=InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV))
    nav = SITE.nav(written)
    if SITE.checker_src and not SITE.checker_src.endswith(".md"):
        nav = [item for item in nav if "查一查能享受什么" not in item]
    config["nav"] = nav
    return files


# A catalogue page's Markdown file is only its front matter: mkdocs would parse it as YAML and run
# a Markdown converter (with every extension) on nothing, ≈ 0.7 ms a page. `_populate_page` gives
# such a page what that gives — the front matter as meta, empty Markdown, content and toc — and
# leaves every other page to mkdocs. tests/test_site.py compares the pages with the real build.
_FRONT: dict = {}


def _populate_page(page, config, files, dirty=False):
    front = _FRONT.get(page.file.src_uri)
    if front is None or SITE is None or page.file.src_uri not in SITE.pages:
        return _RUN_POPULATE["original"](page, config, files, dirty)
    from mkdocs.structure.toc import get_toc
    page.markdown, page.meta = "", json.loads(json.dumps(front))
    page.content = on_page_content("", page, config, files)
    page.toc = get_toc([])
    page.present_anchor_ids = set()
    page.links_to_anchors = {}


_RUN_POPULATE: dict = {}


def on_nav(nav, config, files):
    import mkdocs.commands.build as mkdocs_build
    original = getattr(mkdocs_build._populate_page, "__wrapped__", mkdocs_build._populate_page)
    _RUN_POPULATE["original"] = _populate_page.__wrapped__ = original
    mkdocs_build._populate_page = _populate_page
    if SITE.checker_src and not SITE.checker_src.endswith(".md"):
        nav.items.insert(1, Link("查一查能享受什么", "checker/"))
    _STUBS.clear()
    _STUB_OF.clear()
    _STUB_SIGS.clear()
    _RUN["nav"] = nav
    return nav


# ------------------------------------------------------------ each page's own nav (navigation.prune)
# With navigation.prune Material draws, of a section off the page's path, one link to its first page
# (render_pruned) — but it still walks the section's children (looking for its index page): every
# page walked the whole province → county tree, so the build's cost grew with the square of the
# number of counties (at 300 counties 80 % of the build was the nav). Each page's template gets a nav
# of its own instead: the sections on its path copied, every other section cut to its first child.
# Material draws it to the same bytes, from a nav as big as a province's counties.
_STUBS: dict = {}
_STUB_OF: dict = {}      # id(stub) → id(its section)
_STUB_SIGS: dict = {}    # id(stub) → its nav signature (page_key)


def _stub(section):
    """A section as Material draws it when it is not on the page's path: its first child only."""
    stub = _STUBS.get(id(section))
    if stub is None:
        first = section.children[0]
        if isinstance(first, Section) and first.children:
            first = _stub(first)
        stub = _STUBS[id(section)] = (section, Section(section.title, [first]))
        _STUB_OF[id(stub[1])] = id(section)
    return stub[1]


def _pruned_items(items, path: set) -> list:
    out = []
    for item in items:
        if isinstance(item, Section) and item.children:
            if id(item) in path:
                copy = Section(item.title, _pruned_items(item.children, path))
                copy.active = item.active
                item = copy
            else:
                item = _stub(item)
        out.append(item)
    return out


def page_nav(nav, page):
    """The nav `page`'s template sees: the sections on its path whole, the others cut."""
    pruned = Navigation.__new__(Navigation)   # not __init__: it walks every page for the homepage
    pruned.items = _pruned_items(nav.items, {id(a) for a in page.ancestors})
    pruned.pages, pruned.homepage = nav.pages, nav.homepage
    return pruned


def on_page_context(context, page, config, nav):
    _content(page)
    if "navigation.prune" in config["theme"]["features"]:
        context["nav"] = page_nav(nav, page)
    return context


def _content(page):
    """A generated page's HTML (on_page_content left it empty), rendered just before it is written."""
    if not page.content and page.file.src_uri in SITE.pages:
        page.content = SITE.render(page.file.src_uri)


# ------------------------------------------------------------ writing pages: cache and cores
# mkdocs writes the pages one after another in mkdocs.commands.build._build_page. The hooks wrap it
# (on_env, undone in on_post_build) for two things, neither of which changes a byte of a page:
#  - a cache of written pages (build/cache/pages/, site_build/cache.py): a page is keyed by
#    `page_key` — its content HTML (its catalogue entries, content/templates/, the glossary, as
#    site_build.pages renders them), its nav as its template sees it (page_nav), title, URL, meta,
#    neighbours, and the build version (mkdocs.yml, content/overrides/, these hooks, mkdocs' and
#    Material's versions). A page whose key is stored is copied from the cache instead of being
#    drawn by Material's templates again; the others are drawn and stored. CSS and JS are files of
#    their own: a page only links them, so they are not in its key.
#  - `MB_PAGE_JOBS` processes (default: the cores, at most 4; 1 = none): `mkdocs build` forks them
#    once every page is read, each writes every N-th page, and the search index is written by one
#    more, while the first writes its share. The pages do not depend on who writes them.
# `mkdocs build --dirty` is no substitute: it skips a page whose Markdown file is older than its
# HTML, so a generated page (no file) is always rebuilt and a page whose nav or catalogue entry
# changed is not.
BUILD_FILES = ("mkdocs.yml", "site_build/hooks.py", "content/overrides")
# A page of the catalogue (SITE.pages) is keyed without being rendered (`input_key`): by the hashes
# of the counties it reads (Page.deps; tests/test_page_deps.py traces every page's reads), of what
# all pages share (Site.shared_digest), of its template and the templates and code that template
# uses (Site.template_digest), its nav, title and neighbours, and the build version above. A
# hand-written page (content/pages/) is keyed by its rendered content (`page_key`).
STATS = {"written": 0, "reused": 0}
WRITTEN: list = []     # URLs of the pages this process drew (MB_PAGES_REPORT: written to that JSON file)
_RUN: dict = {}        # this build's state: the wrapped function, the cache, the jobs, the children


def build_version(config) -> str:
    import material
    import mkdocs
    parts = [artefacts.FORMAT, mkdocs.__version__, getattr(material, "__version__", "")]
    for name in BUILD_FILES:
        path = ROOT / name
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file():
                parts += [f.relative_to(ROOT).as_posix(), artefacts.file_digest(f)]
    return artefacts.digest(*parts)


def _nav_signature(items) -> list:
    out = []
    for item in items:
        if isinstance(item, Section):
            sig = _STUB_SIGS.get(id(item))
            if sig is None:
                sig = ["S", item.title, item.active, _nav_signature(item.children)]
                if id(item) in _STUB_OF:                 # a stub never changes: nor does its signature
                    _STUB_SIGS[id(item)] = sig
            out.append(sig)
        elif isinstance(item, Link):
            out.append(["L", item.title, item.url])
        else:
            meta = item.meta or {}
            out.append(["P", item.title, item.url, item.active,
                        [meta.get(k) for k in ("icon", "subtitle", "status")]])
    return out


def page_key(page, nav, version: str) -> str:
    """The hash of everything `page`'s HTML is made from (its content must be rendered already)."""
    path = {id(a) for a in page.ancestors}
    items = _pruned_items(nav.items, path)
    # the page itself is drawn as active: its ancestors are copied as active above
    sig = [_nav_signature(items), nav.homepage.url if nav.homepage else None]
    near = [[p.url, p.title] if p else None for p in (page.previous_page, page.next_page)]
    return artefacts.digest(version, page.url, page.title, page.meta, str(page.toc), near, sig,
                            page.file.src_uri, page.content or "")


def input_key(page, nav, version: str) -> str | None:
    """The key of a catalogue page from what it is made of, without rendering it (None: not one)."""
    made = SITE.pages.get(page.file.src_uri)
    if made is None:
        return None
    deps = _all_counties() if made.deps is None else [SITE.county_digest(c) for c in made.deps]
    near = [[p.url, p.title] if p else None for p in (page.previous_page, page.next_page)]
    return artefacts.digest(version, "input", page.url, page.title, page.meta, near, _path_signature(page, nav),
                            page.file.src_uri, SITE.shared_digest(), SITE.template_digest(made.template), deps)


def _path_signature(page, nav) -> str:
    """A hash of the nav `page` is drawn with, less which items are active (they are the page and
    its ancestors, and the page's URL is in its key): the same for every page with the same
    ancestors, so computed once for all the services of a county."""
    ancestors = tuple(id(a) for a in page.ancestors)
    cache = _RUN.setdefault("path_sigs", {})
    found = cache.get(ancestors)
    if found is None:
        active = [(item, item.active) for item in page.ancestors]
        for item, _ in active:
            item.active = False
        try:
            found = cache[ancestors] = artefacts.digest(
                _nav_signature(_pruned_items(nav.items, set(ancestors))), nav.homepage.url if nav.homepage else None)
        finally:
            for item, was in active:
                item.active = was
    return found


def _all_counties() -> str:
    found = _RUN.get("all_counties")
    if found is None:
        found = _RUN["all_counties"] = artefacts.digest([SITE.county_digest(c["code"]) for c in SITE.counties])
    return found


def structure_digest(nav, files) -> str:
    """The page structure: the whole nav (titles, URLs, sections) and every page's source, URL and
    title. While it is the same, a build may keep the site folder and rewrite only changed pages."""
    pages = sorted((f.src_uri, f.url, f.page.title if f.page else None) for f in files.documentation_pages())
    return artefacts.digest(_nav_signature(nav.items), pages)


def _alias_path(cache, key: str) -> Path:
    return cache.folder / "inputs" / key[:2] / key


def _alias(cache, key: str) -> str | None:
    """The content key stored for an input key (a catalogue page drawn before from the same inputs)."""
    try:
        path = _alias_path(cache, key)
        found = path.read_text(encoding="ascii").strip()
        os.utime(path)
        return found or None
    except OSError:
        return None


def _set_alias(cache, key: str, target: str):
    path = _alias_path(cache, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(target, encoding="ascii")
    os.replace(tmp, path)


def _prune_aliases(cache, older_than=artefacts.PRUNE_AFTER):
    import time
    now = time.time()
    for path in (cache.folder / "inputs").glob("*/*"):
        try:
            if now - path.stat().st_mtime > older_than:
                path.unlink()
        except OSError:
            pass


def _write_page(page, config, doc_files, nav, env, dirty=False, excluded=False):
    """mkdocs' _build_page with the cache in front, for the pages this process writes:
      1. a catalogue page whose input key (`input_key`) is the one the last build recorded for the
         same file of a kept site folder, unchanged since: left as it is (footer and all);
      2. one whose input key the cache knows: the page stored under its content key, copied;
      3. else its content is rendered, and the page stored under its content key (`page_key`)
         copied if it is there (the same bytes from other inputs), or drawn and stored.
    A hand-written page has no input key: 2 is skipped."""
    run = _RUN
    if run.get("share") is not None and run["share"].get(id(page), 0) != run["me"]:
        return                                           # another process writes this one
    if run.get("shard") and not in_shard(page.file.src_uri, run["shard"]):
        return                                           # another shard's page, or the merge's
    cache, key, inputs = run.get("cache"), None, None
    dest = Path(page.file.abs_dest_path)
    rel = page.file.dest_uri
    usable = not excluded and not dirty
    if usable:
        inputs = input_key(page, nav, run["version"])
    if inputs is not None:
        if _kept(rel, inputs, config):
            page.content = None
            return
        key = _alias(cache, inputs) if cache is not None else None
        if key is not None and (_kept(rel, key, config, "content") or _place(cache, key, dest, rel)):
            page.content = None
            return
    _content(page)
    if usable and cache is not None:
        page.active = True
        try:
            key = page_key(page, nav, run["version"])
        finally:
            page.active = False
        if inputs is not None:
            _set_alias(cache, inputs, key)
            if _kept(rel, key, config, "content"):
                page.content = None
                return
        elif _kept(rel, key, config):
            page.content = None
            return
        if _place(cache, key, dest, rel):
            page.content = None
            return
    theme_js, STATS["theme_js"] = STATS.get("theme_js", False), False
    run["original"](page, config, doc_files, nav, env, dirty, excluded)
    STATS["written"] += 1
    WRITTEN.append(page.url)
    if STATS["theme_js"]:
        run["theme_js_pages"].add(rel)
    if key is not None and cache is not None and dest.is_file():
        cache.put(key, dest, {"url": page.url, "theme_js": STATS["theme_js"]})
    STATS["theme_js"] = STATS["theme_js"] or theme_js
    page.content = None                                  # written: mkdocs has no more use for it


def _kept(rel: str, key: str, config, kind: str = "keys") -> bool:
    """Note `key` as the page's (`kind`: "keys", its input key, or for a hand-written page its
    content key; "content", a catalogue page's content key); True if the last build recorded the
    same key of that kind for it and its file is unchanged since: the last build's file, footer and
    all, is left as it is. By content: a page whose inputs changed but not its bytes (the 31
    province pages, the comparisons, 人户分离 after one county's edit that does not show on them), so
    the later steps (print footer, offline, precompress) do not take it for a new page."""
    run = _RUN
    run[kind][rel] = key
    previous = (run.get("previous") or {}).get("pages") or {}
    if not (run.get("keep") and (previous.get(kind) or {}).get(rel) == key
            and site_state.unchanged(Path(config["site_dir"]), run["previous"], rel)):
        return False
    if kind == "keys" and (previous.get("content") or {}).get(rel) is not None:
        run["content"][rel] = previous["content"][rel]
    STATS["kept"] += 1
    if rel in run["theme_js_pages"]:
        STATS["theme_js"] = True
    return True


def _place(cache, key: str, dest: Path, rel: str) -> bool:
    """The page stored under `key` copied to `dest` (later steps rewrite pages in place: a copy)."""
    facts = cache.get(key)
    if facts is None:
        return False
    cache.place(key, dest, link=False)
    STATS["reused"] += 1
    if facts.get("theme_js", True):
        STATS["theme_js"] = True
        _RUN["theme_js_pages"].add(rel)
    return True


def in_shard(src: str, shard: tuple[int, int]) -> bool:
    """Shard K of N (`python -m site_build --shard K/N`: MB_PAGE_SHARD) writes the pages of every N-th
    province, as its PDFs (site_build.handouts.in_shard): a province's own page and those of its
    counties and services. The pages of no province (home, comparisons, glossary …) and the search
    index are left to the merging build, which finds the shards' pages in the cache."""
    if "provinces" not in _RUN:
        _RUN["provinces"] = {slug: i for i, slug in enumerate(sorted(p["slug"] for p in SITE.provinces))}
    i = _RUN["provinces"].get(src.split("/", 1)[0]) if "/" in src else None
    return i is not None and i % shard[1] == shard[0] - 1


def _page_jobs() -> int:
    env = os.environ.get("MB_PAGE_JOBS", "").strip()
    if env:
        return max(1, int(env))
    return max(1, min(os.cpu_count() or 1, 4))


def on_startup(command, dirty):
    _RUN["command"] = command


def _previous_state():
    """The last build's record of this site folder (site_build/state.py), handed over by
    `python -m site_build` in MB_PREVIOUS_STATE; None otherwise."""
    path = os.environ.get("MB_PREVIOUS_STATE", "").strip()
    if not path:
        return None
    try:
        return read_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def on_pre_build(config):
    """Keep the site folder (mkdocs empties it next) when the last build's record may be built on;
    on_env empties it after all when the page structure changed. Any other build into the folder
    removes the record: what it writes is not what the record says."""
    import mkdocs.utils
    previous = _previous_state()
    _RUN["previous"] = previous
    if previous is None:
        site_state.forget(Path(config["site_dir"]))
        return
    clean = mkdocs.utils.clean_directory
    _RUN["clean_directory"] = clean
    mkdocs.utils.clean_directory = lambda directory: None


def on_env(env, config, files):
    import mkdocs.commands.build as mkdocs_build
    original = getattr(mkdocs_build._build_page, "__wrapped__", mkdocs_build._build_page)
    folder = artefacts.default_folder("pages")
    command, nav = _RUN.get("command", "build"), _RUN.get("nav")
    previous, clean = _RUN.get("previous"), _RUN.get("clean_directory")
    _RUN.clear()
    _RUN.update(command=command, nav=nav, original=original, version=build_version(config), me=0, share=None,
                cache=artefacts.Cache(folder, ".html") if folder else None, children={}, stats=[],
                previous=previous, keys={}, content={}, structure=structure_digest(nav, files))
    if clean is not None:
        import mkdocs.utils
        mkdocs.utils.clean_directory = clean
        old = (previous.get("pages") or {}) if previous else {}
        _RUN["keep"] = old.get("structure") == _RUN["structure"]
        if not _RUN["keep"]:
            log.info("site_build: the page structure changed: the site folder is built whole")
            clean(config["site_dir"])
        else:                         # copy only the static files that changed (mkdocs' --dirty rule)
            _keep_static_files(files)
    _RUN["theme_js_pages"] = set(((previous or {}).get("pages") or {}).get("theme_js", ())) if _RUN.get("keep") else set()
    for c in SITE.counties:           # once, before the writers fork
        SITE.county_digest(c["code"])
    STATS.update(written=0, reused=0, kept=0, theme_js=False)
    WRITTEN.clear()
    _RUN["doc_pages"] = {f.abs_dest_path for f in files.documentation_pages()}
    # the other HTML files of the site (the theme's 404.html, any static one): what
    # _drop_unused_theme_scripts reads, instead of walking the whole folder (150,000 files nationally)
    _RUN["other_html"] = sorted({f.abs_dest_path for f in files if f.dest_uri.endswith(".html") and not f.is_documentation_page()}
                                | {str(Path(config["site_dir"]) / "404.html")})
    if os.environ.get("MB_PAGE_SHARD"):
        from site_build.handouts import parse_shard
        _RUN["shard"] = parse_shard(os.environ["MB_PAGE_SHARD"])
        if _RUN["cache"] is None:
            raise PluginError("MB_PAGE_SHARD stores its pages in the build cache: MB_BUILD_CACHE must not be off")
    wrapper = _write_page
    wrapper.__wrapped__ = original
    mkdocs_build._build_page = wrapper
    jobs = _page_jobs()
    if jobs > 1 and command == "build" and hasattr(os, "fork"):
        _fork(jobs, config, files, env)
    return env


def _keep_static_files(files):
    """In a kept site folder, copy a static file only when its source is newer than the copy (what
    `mkdocs build --dirty` does; --dirty itself warns, which fails a --strict build)."""
    copy = files.copy_static_files

    def copy_changed(dirty=False, **kwargs):
        return copy(dirty=True, **kwargs)
    files.copy_static_files = copy_changed


def _fork(jobs, config, files, env):
    """Start the other page writers and the search index writer (see above)."""
    from mkdocs.structure.files import InclusionLevel as Level
    doc_files = files.documentation_pages(inclusion=Level.is_included)
    pages = [f.page for f in doc_files if f.page is not None]
    _RUN["share"] = {id(p): i % jobs for i, p in enumerate(pages)}
    counter = next((h for h in logging.getLogger("mkdocs").handlers if hasattr(h, "get_counts")), None)
    sys.stdout.flush()
    sys.stderr.flush()
    gc.collect()
    gc.freeze()                     # the children share the parent's objects without copying them for the GC
    out = Path(tempfile.mkdtemp(prefix="mb-pages-"))
    _RUN["tmp"] = out

    def child(name, work):
        report = out / f"{name}.json"
        pid = os.fork()
        if pid:
            _RUN["children"][pid] = (name, report)
            return
        code, result = 1, {}
        try:
            before = dict(counter.get_counts()) if counter else {}
            result = work() or {}
            after = dict(counter.get_counts()) if counter else {}
            code = 0 if after == before else 3           # a warning in strict mode: the build fails
        except PluginError as err:
            result, code = {"error": str(err)}, 2
        except BaseException:                            # noqa: BLE001 — told to the parent, which fails
            import traceback
            traceback.print_exc()
        finally:
            try:
                report.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)

    def write_share(k):
        def work():
            _RUN["me"] = k
            for f in doc_files:
                _write_page(f.page, config, doc_files, _RUN["nav"], env, False, f.inclusion.is_excluded())
            return {"written": STATS["written"], "reused": STATS["reused"], "kept": STATS["kept"], "urls": WRITTEN,
                    "theme_js": STATS["theme_js"], "keys": _RUN["keys"], "content": _RUN["content"],
                    "theme_js_pages": sorted(_RUN["theme_js_pages"]),
                    "used": sorted(_RUN["cache"].used) if _RUN["cache"] else []}
        return work

    if not _RUN.get("shard"):
        child("search", lambda: _write_search(Path(config["site_dir"])) and None)
    for k in range(1, jobs):
        child(f"pages{k}", write_share(k))


def on_page_content(html, page, config, files):
    src = page.file.src_uri
    if src in SITE.pages:
        # rendered when the page is written (_content), not now: mkdocs holds every page's content
        # from here to the end of the build (at 2,850 counties, gigabytes)
        return ""
    for marker, template in MARKERS.items():
        if marker in html:
            html = html.replace(marker, SITE.render_template(template, page.url))
    return html


_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")


def on_post_page(output, page, config):
    """Material's templates leave long runs of blank lines (≈ 900 bytes per nav entry): a run of
    whitespace holding a line break between two tags renders exactly as one line break."""
    if "assets/javascripts/" in output:
        STATS["theme_js"] = True          # _drop_unused_theme_scripts: this page loads the theme's scripts
    if "<pre" in output or "<textarea" in output:
        return output
    return _BETWEEN_TAGS.sub(">\n<", output)


def on_post_build(config):
    site = Path(config["site_dir"])
    searched = _join_children()
    _drop_unused_theme_scripts(site, None if _RUN.get("doc_pages") is None else STATS["theme_js"],
                               _RUN.get("doc_pages") or set(), _RUN.get("other_html"))
    if not searched and not _RUN.get("shard"):
        _write_search(site)
    cache = _RUN.get("cache")
    if cache is not None:
        cache.prune(every=artefacts.PRUNE_EVERY)
        if artefacts.prune_due(cache.folder / "inputs"):
            _prune_aliases(cache)
    log.info(f"site_build: {STATS['written']} pages written, {STATS['reused']} reused from the cache"
             + ("" if cache is not None else " (no cache)")
             + (f", {STATS['kept']} left as they were" if _RUN.get("keep") else ""))
    if os.environ.get("MB_PAGES_REPORT"):
        # `state`: what python -m site_build records for the next build (site_build/state.py)
        Path(os.environ["MB_PAGES_REPORT"]).write_text(json.dumps(
            {"written": sorted(WRITTEN), "reused": STATS["reused"], "kept": STATS["kept"],
             "state": {"structure": _RUN.get("structure"), "keys": _RUN.get("keys", {}),
                       "content": _RUN.get("content", {}),
                       "theme_js": sorted(_RUN.get("theme_js_pages", ()))}},
            ensure_ascii=False), encoding="utf-8")


def on_build_error(error):
    _join_children(failed=True)


def _join_children(failed=False) -> bool:
    """Wait for the forked writers; put the wrapped function back. True if one wrote the search index."""
    import mkdocs.commands.build as mkdocs_build
    if _RUN.get("original"):
        mkdocs_build._build_page = _RUN["original"]
    if _RUN_POPULATE.get("original"):
        mkdocs_build._populate_page = _RUN_POPULATE["original"]
    children, problems, searched = _RUN.pop("children", {}), [], False
    for pid, (name, report) in children.items():
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        try:
            result = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            result = {}
        if code:
            problems.append(result.get("error") or f"{name}: exit {code}" + (" (warnings above: strict mode)" if code == 3 else ""))
        STATS["written"] += result.get("written", 0)
        STATS["reused"] += result.get("reused", 0)
        STATS["kept"] += result.get("kept", 0)
        _RUN.setdefault("keys", {}).update(result.get("keys", {}))
        _RUN.setdefault("content", {}).update(result.get("content", {}))
        _RUN.setdefault("theme_js_pages", set()).update(result.get("theme_js_pages", ()))
        WRITTEN.extend(result.get("urls", ()))
        STATS["theme_js"] = STATS["theme_js"] or result.get("theme_js", False)
        if _RUN.get("cache") is not None:
            _RUN["cache"].used.update(result.get("used", ()))
        searched = searched or name == "search"
    if _RUN.get("tmp"):
        shutil.rmtree(_RUN.pop("tmp"), ignore_errors=True)
    gc.unfreeze()
    if problems and not failed:
        raise PluginError("\n".join(problems))
    return searched


def _write_search(site: Path):
    """The search index from per-county parts (site_build/search.py write_index): only files whose
    bytes change are written, files it no longer writes are removed."""
    try:
        stats = site_search.write_index(SITE, site / "search", require_words=not os.environ.get("MB_CATALOGUE"))
    except CatalogueError as err:  # e.g. catalogue/words.yaml: file, line and field, no traceback
        raise PluginError(f"目录有错误 / the catalogue has errors:\n{err}") from None
    log.info(f"site_build: search index: {stats['written']} files written, {stats['kept']} kept, "
             f"{stats['removed']} removed, {stats['made']} county parts made"
             + (" (assembled whole)" if stats["whole"] else ""))


def _drop_unused_theme_scripts(site: Path, pages_use=None, pages: set = frozenset(), others=None):
    """Material copies its JS bundle, lunr and search worker into every build; no page of ours loads
    them (content/overrides/main.html drops the bundle, we have our own search). Removed, so the
    site holds no script that even names a CDN. `pages_use`: whether one of the pages mkdocs wrote
    (their paths in `pages`) loads them, as on_post_page saw them; the other HTML files (`others`,
    else every HTML file of the site not in `pages`) are read."""
    scripts = site / "assets" / "javascripts"
    if not scripts.is_dir():
        return
    if pages_use is None or others is None:
        others = [str(page) for page in site.rglob("*.html") if pages_use is None or str(page) not in pages]
    if pages_use or any("assets/javascripts/" in Path(page).read_text(encoding="utf-8")
                        for page in others if Path(page).is_file()):
        return  # a page does load the theme's scripts: keep them
    shutil.rmtree(scripts)
